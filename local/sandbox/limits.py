"""Counting windows: the per-token sliding minute (docs/reference/tiktok-api.md §7.1) and the 24-hour caps
(§7.2)."""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable

DAY = 86400.0
MINUTE = 60.0


class SlidingWindow:
    """At most `limit` events per key in any `window` seconds. Refused calls are not counted: a
    client that backs off after a 429 gets its budget back as the oldest calls age out."""

    def __init__(self) -> None:
        self._events: dict[tuple[str, str], deque[float]] = {}

    def allow(self, key: tuple[str, str], limit: int, now: float, window: float = MINUTE) -> bool:
        events = self._events.setdefault(key, deque())
        while events and events[0] <= now - window:
            events.popleft()
        if len(events) >= limit:
            return False
        events.append(now)
        return True

    def clear(self) -> None:
        self._events.clear()


def within(times: Iterable[float], now: float, window: float = DAY) -> int:
    """How many of `times` fall in the window ending at `now`."""
    return sum(1 for t in times if now - window < t <= now)
