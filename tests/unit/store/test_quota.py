"""SlotLedger against moto: capacity, windows, idempotency per holder, release, capacity changes, and
the lost-race paths (a rival takes the slot between our read and our conditional write)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from functions.store.quota import Full, Reserved, SlotLedger, ledger_key, slot_key

NOW = 1_750_000_000
DAY = 86_400
KEY = ledger_key("posts", "alice")


@pytest.fixture
def ledger(tables: dict[str, str]) -> SlotLedger:
    return SlotLedger(tables["quota"])


def reserve(
    ledger: SlotLedger, holder: str, *, now: int = NOW, capacity: int = 3, **kw: Any
) -> Reserved | Full:
    return ledger.reserve(KEY, capacity=capacity, window_seconds=DAY, holder=holder, now=now, **kw)


def slot_items(dynamodb: Any, table: str, key: str = KEY) -> list[dict[str, Any]]:
    return list(
        dynamodb.query(
            TableName=table, KeyConditionExpression="pk = :pk", ExpressionAttributeValues={":pk": {"S": key}}
        )["Items"]
    )


def test_keys() -> None:
    assert ledger_key("rate:init", "alice") == "rate:init#alice"
    assert slot_key(3) == "slot#03"
    assert slot_key(123) == "slot#123"


def test_capacity_is_never_exceeded(ledger: SlotLedger) -> None:
    results = [reserve(ledger, f"post-{i}", now=NOW + i) for i in range(5)]
    reserved = [r for r in results if isinstance(r, Reserved)]
    assert len(reserved) == 3
    assert len({r.slot for r in reserved}) == 3
    assert all(r.free_at == NOW + i + DAY for i, r in enumerate(reserved))
    assert results[3:] == [Full(KEY, NOW + DAY), Full(KEY, NOW + DAY)]
    assert ledger.usage(KEY, NOW + 10, 3) == (3, NOW + DAY)


def test_full_names_the_earliest_free_slot_and_it_frees_then(ledger: SlotLedger) -> None:
    for i, at in enumerate((NOW + 50, NOW + 10, NOW + 30)):
        assert isinstance(reserve(ledger, f"p{i}", now=at), Reserved)
    full = reserve(ledger, "late", now=NOW + 60)
    assert full == Full(KEY, NOW + 10 + DAY)
    assert reserve(ledger, "late", now=NOW + 10 + DAY - 1) == Full(KEY, NOW + 10 + DAY)
    taken = reserve(ledger, "late", now=NOW + 10 + DAY)
    assert isinstance(taken, Reserved)
    assert taken.free_at == NOW + 10 + 2 * DAY


def test_a_retried_reservation_returns_the_same_slot(
    ledger: SlotLedger, dynamodb: Any, tables: dict[str, str]
) -> None:
    first = reserve(ledger, "post-1")
    again = reserve(ledger, "post-1", now=NOW + 100)
    assert isinstance(first, Reserved)
    assert again == first  # same slot, window not extended
    assert ledger.usage(KEY, NOW + 100, 3) == (1, NOW + DAY)
    assert len(slot_items(dynamodb, tables["quota"])) == 1


def test_a_holder_whose_window_ended_reserves_anew(ledger: SlotLedger) -> None:
    first = reserve(ledger, "poller")
    later = reserve(ledger, "poller", now=NOW + DAY)
    assert isinstance(first, Reserved)
    assert isinstance(later, Reserved)
    assert later.free_at == NOW + 2 * DAY


def test_slots_are_created_lazily(ledger: SlotLedger, dynamodb: Any, tables: dict[str, str]) -> None:
    assert slot_items(dynamodb, tables["quota"]) == []
    assert ledger.usage(KEY, NOW, 15) == (0, None)
    reserve(ledger, "post-1", capacity=15)
    (item,) = slot_items(dynamodb, tables["quota"])
    assert item["holder"] == {"S": "post-1"}
    assert item["free_at"] == {"N": str(NOW + DAY)}
    assert item["sk"]["S"].startswith("slot#")


def test_ledgers_are_independent(ledger: SlotLedger) -> None:
    for i in range(3):
        reserve(ledger, f"p{i}")
    other = ledger.reserve(ledger_key("posts", "bob"), capacity=3, window_seconds=DAY, holder="p0", now=NOW)
    assert isinstance(other, Reserved)
    assert ledger.usage(ledger_key("posts", "bob"), NOW, 3) == (1, NOW + DAY)


def test_release_frees_the_holders_slot_now(ledger: SlotLedger) -> None:
    for i in range(3):
        reserve(ledger, f"share-{i}")
    assert ledger.release(KEY, "share-1", NOW + 5)
    assert ledger.usage(KEY, NOW + 5, 3) == (2, NOW + DAY)
    assert isinstance(reserve(ledger, "share-3", now=NOW + 5), Reserved)
    assert isinstance(reserve(ledger, "share-4", now=NOW + 5), Full)


def test_release_of_nothing_is_false(ledger: SlotLedger) -> None:
    reserve(ledger, "share-1")
    assert not ledger.release(KEY, "someone-else", NOW)
    assert ledger.release(KEY, "share-1", NOW + 1)
    assert not ledger.release(KEY, "share-1", NOW + 2)
    assert not ledger.release(ledger_key("inbox", "nobody"), "x", NOW)
    assert ledger.usage(KEY, NOW + 2, 3) == (0, None)


def test_release_after_the_window_changes_nothing(
    ledger: SlotLedger, dynamodb: Any, tables: dict[str, str]
) -> None:
    reserve(ledger, "share-1")
    assert not ledger.release(KEY, "share-1", NOW + DAY)
    (item,) = slot_items(dynamodb, tables["quota"])
    assert item["free_at"] == {"N": str(NOW + DAY)}


def test_capacity_can_shrink_and_grow(ledger: SlotLedger) -> None:
    for i in range(5):
        assert isinstance(reserve(ledger, f"p{i}", capacity=5), Reserved)
    # The creator lowered the cap to 3: only slots below 3 count, and all of them are taken.
    assert ledger.usage(KEY, NOW, 3) == (3, NOW + DAY)
    assert isinstance(reserve(ledger, "p5", capacity=3), Full)
    # Raised to 6: exactly one more fits.
    assert isinstance(reserve(ledger, "p6", capacity=6), Reserved)
    assert isinstance(reserve(ledger, "p7", capacity=6), Full)
    assert ledger.usage(KEY, NOW, 6) == (6, NOW + DAY)


def test_a_holder_keeps_its_slot_after_the_capacity_shrank(ledger: SlotLedger) -> None:
    held = [reserve(ledger, f"p{i}", capacity=5) for i in range(5)]
    beyond = next(r for r in held if isinstance(r, Reserved) and int(r.slot.split("#")[1]) >= 3)
    holder = f"p{held.index(beyond)}"
    # The step that already reserved is retried: it keeps what it has instead of waiting.
    assert reserve(ledger, holder, capacity=3) == beyond


def test_users_ledger_renews_the_window_of_a_returning_holder(ledger: SlotLedger) -> None:
    users = ledger_key("users", "app")

    def user(account: str, at: int) -> Reserved | Full:
        return ledger.reserve(users, capacity=5, window_seconds=DAY, holder=account, now=at, renew=True)

    for i in range(5):
        assert isinstance(user(f"acct{i}", NOW), Reserved)
    again = user("acct0", NOW + 1000)
    assert isinstance(again, Reserved)
    assert again.free_at == NOW + 1000 + DAY  # counted from its latest post
    assert ledger.usage(users, NOW + 1000, 5) == (5, NOW + DAY)
    assert user("acct5", NOW + 1000) == Full(users, NOW + DAY)
    # When the others' windows end, acct0 still holds its slot: a sixth user gets one of theirs.
    sixth = user("acct5", NOW + DAY)
    assert isinstance(sixth, Reserved)
    assert sixth.slot != again.slot


def test_without_renew_a_retry_does_not_extend(ledger: SlotLedger) -> None:
    first = reserve(ledger, "post-1")
    assert reserve(ledger, "post-1", now=NOW + 1000) == first


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"capacity": 0}, "capacity"),
        ({"window_seconds": 0}, "window_seconds"),
        ({"holder": ""}, "holder"),
    ],
)
def test_arguments_are_checked(ledger: SlotLedger, kwargs: dict[str, Any], message: str) -> None:
    args: dict[str, Any] = {"capacity": 3, "window_seconds": DAY, "holder": "p", "now": NOW}
    args.update(kwargs)
    with pytest.raises(ValueError, match=message):
        ledger.reserve(KEY, **args)


# --- lost races, made deterministic -----------------------------------------------------------------


class RacingClient:
    """The real moto client, except that before each of our first `races` slot writes a rival caller
    takes that very slot: the interleaving that a conditional write must survive."""

    def __init__(self, client: Any, rival: Callable[[dict[str, Any]], None], races: int) -> None:
        self._client = client
        self._rival = rival
        self.races = races
        self.writes = 0

    def update_item(self, **kwargs: Any) -> Any:
        self.writes += 1
        if self.races > 0:
            self.races -= 1
            self._rival(kwargs["Key"])
        return self._client.update_item(**kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)


def rival_takes(dynamodb: Any, table: str, holder: str, free_at: int) -> Callable[[dict[str, Any]], None]:
    def take(key: dict[str, Any]) -> None:
        dynamodb.put_item(
            TableName=table,
            Item={**key, "free_at": {"N": str(free_at)}, "holder": {"S": f"{holder}-{key['sk']['S']}"}},
        )

    return take


def test_a_slot_lost_to_a_rival_moves_on_to_the_next(dynamodb: Any, tables: dict[str, str]) -> None:
    racing = RacingClient(dynamodb, rival_takes(dynamodb, tables["quota"], "rival", NOW + DAY), races=1)
    result = SlotLedger(tables["quota"], client=racing).reserve(
        KEY, capacity=3, window_seconds=DAY, holder="me", now=NOW
    )
    assert isinstance(result, Reserved)
    assert racing.writes == 2
    items = slot_items(dynamodb, tables["quota"])
    assert sorted(i["holder"]["S"].split("-")[0] for i in items) == ["me", "rival"]


def test_losing_every_race_ends_full_and_never_overshoots(dynamodb: Any, tables: dict[str, str]) -> None:
    racing = RacingClient(dynamodb, rival_takes(dynamodb, tables["quota"], "rival", NOW + 500), races=99)
    result = SlotLedger(tables["quota"], client=racing).reserve(
        KEY, capacity=2, window_seconds=DAY, holder="me", now=NOW
    )
    assert result == Full(KEY, NOW + 500)
    assert racing.writes == 2  # one attempt per free slot, then a fresh read saw the ledger full
    assert SlotLedger(tables["quota"]).usage(KEY, NOW, 2) == (2, NOW + 500)


def test_renewal_lost_to_a_release_reserves_afresh(dynamodb: Any, tables: dict[str, str]) -> None:
    users = ledger_key("users", "app")
    plain = SlotLedger(tables["quota"])
    assert isinstance(
        plain.reserve(users, capacity=2, window_seconds=DAY, holder="acct", now=NOW, renew=True),
        Reserved,
    )

    def released(key: dict[str, Any]) -> None:
        plain.release(users, "acct", NOW + 10)

    racing = RacingClient(dynamodb, released, races=1)
    again = SlotLedger(tables["quota"], client=racing).reserve(
        users, capacity=2, window_seconds=DAY, holder="acct", now=NOW + 10, renew=True
    )
    assert isinstance(again, Reserved)
    assert again.free_at == NOW + 10 + DAY
    assert plain.usage(users, NOW + 10, 2) == (1, NOW + 10 + DAY)


def test_hold_until_moves_a_holders_slot_later_never_earlier(tables: dict[str, str]) -> None:
    ledger = SlotLedger(tables["quota"])
    key = "posts#alice"
    ledger.reserve(key, capacity=2, window_seconds=100, holder="p1", now=1000)
    assert ledger.hold_until(key, "p1", 1500, now=1010)
    assert ledger.usage(key, 1400, 2) == (1, 1500)
    assert ledger.hold_until(key, "p1", 1200, now=1020)  # already later: kept
    assert ledger.usage(key, 1400, 2) == (1, 1500)
    assert not ledger.hold_until(key, "nobody", 2000, now=1020)


def test_an_expired_slot_is_reused_before_a_new_one_is_made(
    ledger: SlotLedger, dynamodb: Any, tables: dict[str, str]
) -> None:
    """A 600-a-minute budget used a few times a minute stays a few items: every reservation reads them all."""
    for minute in range(20):
        for n in range(2):
            taken = ledger.reserve(
                KEY, capacity=600, window_seconds=60, holder=f"req-{minute}-{n}", now=NOW + minute * 61
            )
            assert isinstance(taken, Reserved)
    assert len(slot_items(dynamodb, tables["quota"])) == 2
