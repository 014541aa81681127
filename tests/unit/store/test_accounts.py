"""AccountStore against moto."""

from __future__ import annotations

from typing import Any

import pytest

from functions.store.accounts import Account, AccountStore
from functions.store.errors import NotFoundError

NOW = 1_750_000_000


def account(account_id: str = "alice", open_id: str = "open-alice", **overrides: Any) -> Account:
    values: dict[str, Any] = {
        "account_id": account_id,
        "open_id": open_id,
        "username": account_id,
        "display_name": account_id.title(),
        "scopes": ["user.info.basic", "video.publish", "video.upload"],
        "status": "connected",
        "access_expires_at": NOW + 86_400,
        "refresh_expires_at": NOW + 365 * 86_400,
        "created_at": NOW,
        "updated_at": NOW,
    }
    values.update(overrides)
    return Account(**values)


@pytest.fixture
def store(tables: dict[str, str]) -> AccountStore:
    return AccountStore(tables["accounts"])


def test_put_then_get_round_trips_every_field(store: AccountStore) -> None:
    original = account(
        preferences={"privacy_level": "SELF_ONLY", "disable_duet": True, "cover_ms": 1500.5},
        daily_post_cap=10,
        status_reason="",
    )
    store.put(original)
    assert store.get("alice") == original


def test_defaults_of_a_new_account() -> None:
    fresh = Account("bob", "o", "bob", "Bob", [], "connected")
    assert (fresh.daily_post_cap, fresh.preferences, fresh.status_reason) == (15, {}, "")
    assert fresh.preferences is not Account("c", "o", "c", "C", [], "connected").preferences


def test_get_unknown_or_empty_id_is_none(store: AccountStore) -> None:
    assert store.get("nobody") is None
    assert store.get("") is None


@pytest.mark.parametrize("bad_id", ["", "Alice", "has space", "a" * 65, "posts/alice"])
def test_put_refuses_an_account_id_that_cannot_name_an_s3_prefix(store: AccountStore, bad_id: str) -> None:
    with pytest.raises(ValueError, match="account_id must match"):
        store.put(account(bad_id))


def test_put_refuses_an_unknown_status(store: AccountStore) -> None:
    with pytest.raises(ValueError, match="account status"):
        store.put(account(status="active"))


def test_list_returns_every_account_sorted(store: AccountStore) -> None:
    for name in ["carol", "alice", "bob.x", "dave_1"]:
        store.put(account(name, open_id=f"open-{name}"))
    assert [a.account_id for a in store.list()] == ["alice", "bob.x", "carol", "dave_1"]


def test_list_of_an_empty_table(store: AccountStore) -> None:
    assert store.list() == []


def test_find_by_open_id(store: AccountStore) -> None:
    store.put(account("alice", open_id="open-a"))
    store.put(account("bob", open_id="open-b"))
    found = store.find_by_open_id("open-b")
    assert found is not None
    assert found.account_id == "bob"
    assert store.find_by_open_id("open-zzz") is None
    assert store.find_by_open_id("") is None


def test_find_by_open_id_follows_a_reconnect_with_another_tiktok_user(store: AccountStore) -> None:
    store.put(account("alice", open_id="open-old"))
    store.put(account("alice", open_id="open-new"))
    assert store.find_by_open_id("open-old") is None
    found = store.find_by_open_id("open-new")
    assert found is not None
    assert found.account_id == "alice"


def test_an_account_without_open_id_can_be_stored(store: AccountStore) -> None:
    store.put(account("alice", open_id=""))
    stored = store.get("alice")
    assert stored is not None
    assert stored.open_id == ""


def test_set_status(store: AccountStore) -> None:
    store.put(account())
    store.set_status("alice", "reauth_required", "refresh token expired", NOW + 5)
    stored = store.get("alice")
    assert stored is not None
    assert (stored.status, stored.status_reason, stored.updated_at) == (
        "reauth_required",
        "refresh token expired",
        NOW + 5,
    )
    assert stored.created_at == NOW


def test_set_status_refuses_unknown_status(store: AccountStore) -> None:
    store.put(account())
    with pytest.raises(ValueError, match="account status"):
        store.set_status("alice", "gone", "", NOW)


def test_updates_of_a_missing_account_raise_and_create_nothing(store: AccountStore) -> None:
    with pytest.raises(NotFoundError, match="ghost"):
        store.set_status("ghost", "disconnected", "authorization removed", NOW)
    with pytest.raises(NotFoundError):
        store.set_preferences("ghost", {}, NOW)
    with pytest.raises(NotFoundError):
        store.update_token_expiry("ghost", 1, 2, NOW)
    with pytest.raises(NotFoundError):
        store.set_daily_post_cap("ghost", 3, NOW)
    assert store.list() == []


def test_set_preferences_replaces_them(store: AccountStore) -> None:
    store.put(account(preferences={"privacy_level": "SELF_ONLY", "mode": "inbox"}))
    store.set_preferences("alice", {"mode": "direct", "privacy_level": "PUBLIC_TO_EVERYONE"}, NOW + 1)
    stored = store.get("alice")
    assert stored is not None
    assert stored.preferences == {"mode": "direct", "privacy_level": "PUBLIC_TO_EVERYONE"}
    assert stored.updated_at == NOW + 1


def test_set_preferences_refuses_a_non_dict(store: AccountStore) -> None:
    store.put(account())
    with pytest.raises(TypeError):
        store.set_preferences("alice", [("mode", "inbox")], NOW)  # type: ignore[arg-type]


def test_update_token_expiry(store: AccountStore) -> None:
    store.put(account())
    store.update_token_expiry("alice", NOW + 7200, NOW + 86_400 * 300, NOW + 2)
    stored = store.get("alice")
    assert stored is not None
    assert (stored.access_expires_at, stored.refresh_expires_at, stored.updated_at) == (
        NOW + 7200,
        NOW + 86_400 * 300,
        NOW + 2,
    )


def test_set_daily_post_cap(store: AccountStore) -> None:
    store.put(account())
    store.set_daily_post_cap("alice", 8, NOW)
    stored = store.get("alice")
    assert stored is not None
    assert stored.daily_post_cap == 8
    for bad in (0, -1, True):
        with pytest.raises(ValueError, match="daily_post_cap"):
            store.set_daily_post_cap("alice", bad, NOW)


def test_numbers_come_back_as_plain_ints(store: AccountStore) -> None:
    store.put(account())
    stored = store.get("alice")
    assert stored is not None
    assert all(type(v) is int for v in (stored.created_at, stored.daily_post_cap, stored.access_expires_at))


def test_an_explicit_client_is_used(dynamodb: Any, tables: dict[str, str]) -> None:
    calls: list[str] = []
    dynamodb.meta.events.register("before-call.dynamodb.*", lambda model, **_: calls.append(model.name))
    AccountStore(tables["accounts"], client=dynamodb).get("alice")
    assert calls == ["GetItem"]
