"""Sandbox time: wall time plus an offset that tests advance, and a scheduler that runs on it.

Jumping the clock (`advance`) makes every window (token expiry, rate limits, 24-hour caps, upload URL
age) and every scheduled step (processing, moderation, webhook retries) see the new time at once,
so nothing in a test has to sleep.
"""

from __future__ import annotations

import heapq
import itertools
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field


class SandboxClock:
    def __init__(self, wall: Callable[[], float] = time.time) -> None:
        self._wall = wall
        self._offset = 0.0
        self._lock = threading.Lock()
        self._listeners: list[Callable[[], None]] = []

    def now(self) -> float:
        return self._wall() + self._offset

    @property
    def offset(self) -> float:
        return self._offset

    def advance(self, seconds: float) -> float:
        """Move sandbox time forward; time never goes back, so a negative jump is refused."""
        if not math.isfinite(seconds) or seconds < 0:
            raise ValueError("the sandbox clock only moves forward by a finite number of seconds")
        with self._lock:
            self._offset += seconds
            listeners = list(self._listeners)
        for listener in listeners:
            listener()
        return self.now()

    def reset(self) -> None:
        with self._lock:
            self._offset = 0.0
            listeners = list(self._listeners)
        for listener in listeners:
            listener()

    def on_change(self, listener: Callable[[], None]) -> None:
        with self._lock:
            self._listeners.append(listener)


@dataclass(order=True)
class _Entry:
    when: float
    seq: int
    generation: int = field(compare=False)
    action: Callable[[], None] = field(compare=False)


class Scheduler:
    """Runs actions when sandbox time reaches their due time; actions go to `dispatch` (a worker
    pool) so a slow one never delays the next."""

    def __init__(self, clock: SandboxClock, dispatch: Callable[[Callable[[], None]], None]) -> None:
        self._clock = clock
        self._dispatch = dispatch
        self._heap: list[_Entry] = []
        self._seq = itertools.count()
        self._generation = 0
        self._cond = threading.Condition()
        self._stopped = False
        self._thread: threading.Thread | None = None
        clock.on_change(self._wake)

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="sandbox-scheduler", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        with self._cond:
            self._stopped = True
            self._cond.notify_all()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def clear(self) -> None:
        """Forget everything scheduled (a sandbox reset)."""
        with self._cond:
            self._generation += 1
            self._heap.clear()
            self._cond.notify_all()

    def call_at(self, when: float, action: Callable[[], None]) -> None:
        with self._cond:
            heapq.heappush(self._heap, _Entry(when, next(self._seq), self._generation, action))
            self._cond.notify_all()

    def call_later(self, delay: float, action: Callable[[], None]) -> None:
        self.call_at(self._clock.now() + max(0.0, delay), action)

    def pending(self) -> int:
        with self._cond:
            return len(self._heap)

    def next_due(self) -> float | None:
        """Sandbox time of the earliest scheduled action, or None when nothing is scheduled."""
        with self._cond:
            return self._heap[0].when if self._heap else None

    def _wake(self) -> None:
        with self._cond:
            self._cond.notify_all()

    def _loop(self) -> None:
        while True:
            with self._cond:
                if self._stopped:
                    return
                if not self._heap:
                    self._cond.wait(1.0)
                    continue
                wait = self._heap[0].when - self._clock.now()
                if wait > 0:
                    # Sandbox time runs at wall speed between jumps, and a jump notifies us.
                    self._cond.wait(min(wait, 1.0))
                    continue
                entry = heapq.heappop(self._heap)
                if entry.generation != self._generation:
                    continue
            self._dispatch(entry.action)
