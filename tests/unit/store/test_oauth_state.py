"""OAuthStateStore against moto: single use, expiry checked in the condition, hashes only (OA-1)."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest

from functions.store.errors import ConflictError
from functions.store.oauth_state import OAuthStateStore

NOW = 1_750_000_000
STATE = hashlib.sha256(b"raw-state-value").hexdigest()
COOKIE = hashlib.sha256(b"raw-cookie-value").hexdigest()


@pytest.fixture
def store(tables: dict[str, str]) -> OAuthStateStore:
    return OAuthStateStore(tables["oauth_state"])


def test_create_then_consume_returns_the_record(store: OAuthStateStore) -> None:
    store.create(state_hash=STATE, cookie_hash=COOKIE, alias="brand.main", now=NOW)
    assert store.consume(STATE, NOW + 30) == {
        "state_hash": STATE,
        "cookie_hash": COOKIE,
        "alias": "brand.main",
        "created_at": NOW,
        "expires_at": NOW + 600,
    }


def test_a_state_is_single_use(store: OAuthStateStore, dynamodb: Any, tables: dict[str, str]) -> None:
    store.create(state_hash=STATE, cookie_hash=COOKIE, alias=None, now=NOW)
    first = store.consume(STATE, NOW + 1)
    assert first is not None
    assert first["alias"] is None
    assert store.consume(STATE, NOW + 2) is None
    assert dynamodb.scan(TableName=tables["oauth_state"])["Count"] == 0


@pytest.mark.parametrize(("offset", "valid"), [(59, True), (60, False), (61, False), (10_000, False)])
def test_expiry_is_checked_when_consuming(store: OAuthStateStore, offset: int, valid: bool) -> None:
    store.create(state_hash=STATE, cookie_hash=COOKIE, alias=None, now=NOW, ttl_seconds=60)
    assert (store.consume(STATE, NOW + offset) is not None) is valid


def test_an_expired_state_stays_unusable(store: OAuthStateStore) -> None:
    store.create(state_hash=STATE, cookie_hash=COOKIE, alias=None, now=NOW, ttl_seconds=60)
    assert store.consume(STATE, NOW + 61) is None
    # The refused attempt deleted nothing, yet a later attempt is refused just the same.
    assert store.consume(STATE, NOW + 10_000) is None
    # Only a clock inside the validity window would see it: the expiry lives in the condition.
    assert store.consume(STATE, NOW + 59) is not None


def test_unknown_and_malformed_states_are_none(store: OAuthStateStore) -> None:
    assert store.consume(hashlib.sha256(b"other").hexdigest(), NOW) is None
    assert store.consume("raw-state-value", NOW) is None
    assert store.consume("", NOW) is None


def test_only_hashes_are_stored(store: OAuthStateStore, dynamodb: Any, tables: dict[str, str]) -> None:
    with pytest.raises(ValueError, match="state_hash must be a lower-case sha256"):
        store.create(state_hash="raw-state-value", cookie_hash=COOKIE, alias=None, now=NOW)
    with pytest.raises(ValueError, match="cookie_hash"):
        store.create(state_hash=STATE, cookie_hash="raw-cookie", alias=None, now=NOW)
    with pytest.raises(ValueError):
        store.create(state_hash=STATE.upper(), cookie_hash=COOKIE, alias=None, now=NOW)
    store.create(state_hash=STATE, cookie_hash=COOKIE, alias="x", now=NOW)
    (item,) = dynamodb.scan(TableName=tables["oauth_state"])["Items"]
    assert set(item) == {"state_hash", "cookie_hash", "alias", "created_at", "expires_at"}
    assert "raw-state-value" not in repr(item)


@pytest.mark.parametrize("ttl", [0, -1, 601, 3600])
def test_a_state_lives_ten_minutes_at_most(store: OAuthStateStore, ttl: int) -> None:
    with pytest.raises(ValueError, match="ttl_seconds"):
        store.create(state_hash=STATE, cookie_hash=COOKIE, alias=None, now=NOW, ttl_seconds=ttl)


def test_a_duplicate_state_is_refused(store: OAuthStateStore) -> None:
    store.create(state_hash=STATE, cookie_hash=COOKIE, alias="first", now=NOW)
    with pytest.raises(ConflictError):
        store.create(state_hash=STATE, cookie_hash=COOKIE, alias="second", now=NOW + 1)
    record = store.consume(STATE, NOW + 2)
    assert record is not None
    assert record["alias"] == "first"
