"""Slot ledgers (table `quota`, docs/data-model.md): N reservations per sliding window, atomically.

A ledger is N slot items under one partition (`pk = <ledger>#<scope>`, `sk = slot#NN`). Taking a
slot is one conditional update that succeeds only while the slot is free (`free_at <= now`), so under
any concurrency at most N reservations are live. Slot items are created by the first reservation
that takes them, so a ledger costs nothing until used, and a capacity change needs no migration:
only slots below the current capacity count.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from typing import Any

from functions.store.dynamo_values import from_item
from functions.store.expressions import Expression
from functions.store.table import TableStore

SLOT_PREFIX = "slot#"
# Each round re-reads the ledger; more rounds only happen while other callers keep winning races.
_MAX_ROUNDS = 4


def ledger_key(ledger: str, scope: str) -> str:
    """The partition of one ledger, e.g. ledger_key("posts", "alice") == "posts#alice"."""
    return f"{ledger}#{scope}"


def slot_key(index: int) -> str:
    return f"{SLOT_PREFIX}{index:02d}"


def _spread(indexes: list[int], holder: str) -> list[int]:
    if not indexes:
        return []
    start = zlib.crc32(holder.encode()) % len(indexes)
    return indexes[start:] + indexes[:start]


@dataclass(frozen=True)
class Reserved:
    ledger_key: str
    slot: str
    free_at: int


@dataclass(frozen=True)
class Full:
    ledger_key: str
    earliest_free_at: int


@dataclass(frozen=True)
class _Slot:
    index: int
    free_at: int
    holder: str


class SlotLedger(TableStore):
    def reserve(
        self,
        ledger_key: str,
        *,
        capacity: int,
        window_seconds: int,
        holder: str,
        now: int,
        renew: bool = False,
    ) -> Reserved | Full:
        """Take a slot for `holder` until `now + window_seconds`, or say when one frees up.

        Idempotent per holder: a holder that already holds a live slot gets that slot back, so a
        retried step never takes two. A holder therefore names one use (a post, one API request).
        With `renew`, a holder's live slot is renewed to a full window from `now` instead: the `users`
        ledger counts users who posted within the last window, and this one just posted again; a post
        about to be initialised needs its slot for the 24 hours from the init TikTok counts.
        """
        if capacity < 1:
            raise ValueError(f"capacity must be at least 1, not {capacity}")
        if window_seconds < 1:
            raise ValueError(f"window_seconds must be at least 1, not {window_seconds}")
        if not holder:
            raise ValueError("a reservation needs a holder")
        until = now + window_seconds
        slots: dict[int, _Slot] = {}
        for _ in range(_MAX_ROUNDS):
            slots = self._slots(ledger_key)
            mine = sorted(
                (s for s in slots.values() if s.holder == holder and s.free_at > now), key=lambda s: s.index
            )
            if mine:
                if not renew:
                    return Reserved(ledger_key, slot_key(mine[0].index), mine[0].free_at)
                renewed = self._renew(ledger_key, mine[0], holder, now, until)
                if renewed is not None:
                    return renewed
                continue  # released or expired meanwhile: look again
            expired = [i for i in range(capacity) if i in slots and slots[i].free_at <= now]
            unused = [i for i in range(capacity) if i not in slots]
            if not expired and not unused:
                return Full(ledger_key, min(slots[i].free_at for i in range(capacity)))
            # Expired slots first: a ledger grows only to the most reservations live at once, so reading
            # it costs as much as the load, not as much as its capacity (600 for a 600-a-minute budget).
            # Within each group, start where the holder's hash points, so concurrent callers spread over
            # the free slots instead of all fighting over the first one.
            for index in _spread(expired, holder) + _spread(unused, holder):
                if self._take(ledger_key, index, holder, now, until):
                    return Reserved(ledger_key, slot_key(index), until)
        # Every free slot seen went to someone else, round after round: report the ledger as full.
        live = sorted(slots[i].free_at for i in range(capacity) if i in slots and slots[i].free_at > now)
        return Full(ledger_key, live[0] if len(live) >= capacity else now + 1)

    def release(self, ledger_key: str, holder: str, now: int) -> bool:
        """Free the holder's live slots now (e.g. an inbox share completed); False if it held none."""
        released = False
        for slot in self._slots(ledger_key).values():
            if slot.holder != holder or slot.free_at <= now:
                continue
            expr = Expression().set("free_at", now)
            condition = (
                f"{expr.name('holder')} = {expr.value(holder)} AND {expr.name('free_at')} > {expr.value(now)}"
            )
            try:
                self._db.update_item(
                    TableName=self.table,
                    Key=self._key(ledger_key, slot.index),
                    **expr.params(condition=condition),
                )
                released = True
            except self._db.exceptions.ConditionalCheckFailedException:
                continue  # expired or retaken meanwhile: nothing of ours to free
        return released

    def usage(self, ledger_key: str, now: int, capacity: int) -> tuple[int, int | None]:
        """(live reservations among the first `capacity` slots, when the earliest of them frees)."""
        slots = self._slots(ledger_key)
        live = [s.free_at for s in slots.values() if s.index < capacity and s.free_at > now]
        return len(live), (min(live) if live else None)

    def _take(self, ledger_key: str, index: int, holder: str, now: int, until: int) -> bool:
        expr = Expression().set("free_at", until).set("holder", holder).set("reserved_at", now)
        free_at = expr.name("free_at")
        # attribute_not_exists: the slot item is created lazily by its first reservation.
        condition = f"attribute_not_exists({free_at}) OR {free_at} <= {expr.value(now)}"
        try:
            self._db.update_item(
                TableName=self.table, Key=self._key(ledger_key, index), **expr.params(condition=condition)
            )
        except self._db.exceptions.ConditionalCheckFailedException:
            return False
        return True

    def hold_until(self, ledger_key: str, holder: str, until: int, now: int) -> bool:
        """Keep the holder's live slots taken until at least `until` (never shortened); False if it holds
        none. A post's window starts when TikTok counts it (at init), which may be well after the
        reservation, so the slot is moved to match."""
        extended = False
        for slot in self._slots(ledger_key).values():
            if slot.holder == holder and slot.free_at > now:
                extended = self._renew(ledger_key, slot, holder, now, until) is not None or extended
        return extended

    def _renew(self, ledger_key: str, slot: _Slot, holder: str, now: int, until: int) -> Reserved | None:
        if slot.free_at >= until:
            return Reserved(ledger_key, slot_key(slot.index), slot.free_at)
        expr = Expression().set("free_at", until)
        condition = (
            f"{expr.name('holder')} = {expr.value(holder)} AND {expr.name('free_at')} > {expr.value(now)}"
        )
        try:
            self._db.update_item(
                TableName=self.table,
                Key=self._key(ledger_key, slot.index),
                **expr.params(condition=condition),
            )
        except self._db.exceptions.ConditionalCheckFailedException:
            return None
        return Reserved(ledger_key, slot_key(slot.index), until)

    def _slots(self, ledger_key: str) -> dict[int, _Slot]:
        slots: dict[int, _Slot] = {}
        params: dict[str, Any] = {
            "TableName": self.table,
            "KeyConditionExpression": "pk = :pk AND begins_with(sk, :prefix)",
            "ExpressionAttributeValues": {":pk": {"S": ledger_key}, ":prefix": {"S": SLOT_PREFIX}},
            "ConsistentRead": True,
        }
        while True:
            page = self._db.query(**params)
            for raw in page.get("Items", []):
                item = from_item(dict(raw))
                suffix = str(item["sk"])[len(SLOT_PREFIX) :]
                if suffix.isdigit() and "free_at" in item:
                    index = int(suffix)
                    slots[index] = _Slot(index, int(item["free_at"]), str(item.get("holder", "")))
            if "LastEvaluatedKey" not in page:
                return slots
            params["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    @staticmethod
    def _key(ledger_key: str, index: int) -> dict[str, Any]:
        return {"pk": {"S": ledger_key}, "sk": {"S": slot_key(index)}}
