"""DedupeStore against moto (WH-4)."""

from __future__ import annotations

from typing import Any

import pytest

from functions.store.dedupe import DedupeStore

NOW = 1_750_000_000
KEY = "webhook#" + "ab" * 32


@pytest.fixture
def store(tables: dict[str, str]) -> DedupeStore:
    return DedupeStore(tables["idempotency"])


def test_first_sighting_only(store: DedupeStore) -> None:
    assert store.first_time(KEY, now=NOW, ttl_seconds=3600)
    assert not store.first_time(KEY, now=NOW + 1, ttl_seconds=3600)
    assert not store.first_time(KEY, now=NOW + 3599, ttl_seconds=3600)
    assert store.first_time("webhook#other", now=NOW, ttl_seconds=3600)


def test_an_expired_record_not_yet_swept_counts_as_unseen(store: DedupeStore) -> None:
    assert store.first_time(KEY, now=NOW, ttl_seconds=60)
    assert store.first_time(KEY, now=NOW + 60, ttl_seconds=60)
    assert not store.first_time(KEY, now=NOW + 61, ttl_seconds=60)


def test_record_layout_matches_the_idempotency_table(
    store: DedupeStore, dynamodb: Any, tables: dict[str, str]
) -> None:
    store.first_time(KEY, now=NOW, ttl_seconds=259_200 + 72 * 3600)
    item = dynamodb.get_item(TableName=tables["idempotency"], Key={"id": {"S": KEY}})["Item"]
    assert item["expiration"] == {"N": str(NOW + 259_200 + 72 * 3600)}
    ttl = dynamodb.describe_time_to_live(TableName=tables["idempotency"])["TimeToLiveDescription"]
    assert ttl["AttributeName"] == "expiration"


def test_arguments_are_checked(store: DedupeStore) -> None:
    with pytest.raises(ValueError):
        store.first_time("", now=NOW, ttl_seconds=10)
    with pytest.raises(ValueError):
        store.first_time(KEY, now=NOW, ttl_seconds=0)


def test_forget_lets_the_next_delivery_through(store: DedupeStore) -> None:
    assert store.first_time(KEY, now=100, ttl_seconds=60)
    assert not store.first_time(KEY, now=101, ttl_seconds=60)
    store.forget(KEY)
    assert store.first_time(KEY, now=102, ttl_seconds=60)
