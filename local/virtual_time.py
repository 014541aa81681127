"""Virtual time for the embedded system: a post waiting a day for its quota is published in a moment, and
every ledger, token and sandbox window sees the day go by.

Two ways to let time pass, chosen by `EmbeddedSystem(virtual_time=...)`:

- `"jump"` (`True`): a Wait state, or a Retry's back-off, moves the clock by its length the moment it
  starts (a step TikTok keeps answering "not now" is retried over the hours the state machine asks for,
  and the sandbox sees them go by). Quick, and right
  while one post at a time is in flight (the demo, the end-to-end tests).
- `"events"`: a discrete-event simulation. A Wait state blocks until the clock reaches its end, and the
  clock jumps to the earliest pending end (or the sandbox's next scheduled action, or the next
  EventBridge Scheduler schedule, if sooner) only once the rest of the system is idle: no handler run
  under way or just finished, no message in a function's queue, nothing about to happen in the sandbox
  or among the schedules. A schedule alone does not move the clock: with no Wait pending, time passes
  as on the wall (or by `VirtualClock.advance`). Needed when many posts run at once: jumping a day at
  the start of one post's wait would move time under every other post in flight (an upload URL, valid
  for an hour, would expire between Init and Upload).

In both, a TimestampPath wait is measured against the virtual clock (moto measures it against the wall
clock, so a time written on the virtual clock, such as a quota's `retry_at`, would count the offset
twice), and the functions' `Wiring.now()` / `Wiring.sleep()` use it. A sleep inside a handler moves the
clock at once in both modes: the handler is itself the activity the event clock waits out.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from datetime import UTC, datetime
from typing import Any, Literal
from unittest import mock

from functions import wiring

Mode = Literal["jump", "events"]
MODES: tuple[Mode, ...] = ("jump", "events")


class VirtualClock:
    """Wall time plus an offset that only grows; followers (the sandbox's clock) move with it."""

    def __init__(self) -> None:
        self._offset = 0.0
        self._lock = threading.Lock()
        self.on_advance: list[Callable[[float], Any]] = []

    def now(self) -> float:
        return time.time() + self._offset

    def advance(self, seconds: float) -> None:
        if seconds <= 0:
            return
        with self._lock:
            self._offset += seconds
        for follower in self.on_advance:
            follower(seconds)


class EventClock:
    """Blocks waits until the virtual clock reaches them; a coordinator thread advances the clock when
    `idle()` has held for `quiet` seconds. `next_due()` is the number of seconds until something outside
    the workflow acts on its own (the sandbox's scheduler, an EventBridge Scheduler schedule), or None."""

    def __init__(
        self,
        clock: VirtualClock,
        idle: Callable[[float], bool],
        next_due: Callable[[], float | None],
        quiet: float = 0.25,
    ) -> None:
        self.clock = clock
        self._idle = idle
        self._next_due = next_due
        self.quiet = quiet
        self.jumps = 0
        self._ends: list[float] = []
        self._cond = threading.Condition()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._coordinate, name="virtual-event-clock", daemon=True)

    def wait_until(self, end: float, still_wanted: Callable[[], bool] = lambda: True) -> None:
        """Block until the clock reaches `end`, the clock stops, or `still_wanted()` turns false (an
        execution that was stopped)."""
        with self._cond:
            self._ends.append(end)
            try:
                while self.clock.now() < end and not self._stop.is_set() and still_wanted():
                    self._cond.wait(0.1)
            finally:
                self._ends.remove(end)

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            self.wait_until(self.clock.now() + seconds)

    def _coordinate(self) -> None:
        while not self._stop.wait(0.05):
            with self._cond:
                if not self._ends:
                    continue
                target = min(self._ends)
            if not self._idle(self.quiet):
                continue
            due = self._next_due()
            if due is not None:
                if due < 1.0:
                    continue  # the sandbox is about to act on its own
                target = min(target, self.clock.now() + due)
            with self._cond:
                behind = target - self.clock.now()
                if behind > 0:
                    self.clock.advance(behind)
                    self.jumps += 1
                self._cond.notify_all()

    def start(self) -> EventClock:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        with self._cond:
            self._cond.notify_all()
        self._thread.join(timeout=5)


class _ClockSleep:
    """Stands in for the `time` module where moto's Retry back-off sleeps."""

    def __init__(self, sleep: Callable[[float], None]) -> None:
        self.sleep = sleep


class FunctionsClock:
    """The virtual clock as the functions' Wiring reads it: a sleep moves it at once."""

    def __init__(self, clock: VirtualClock) -> None:
        self._clock = clock

    def now(self) -> float:
        return self._clock.now()

    def sleep(self, seconds: float) -> None:
        self._clock.advance(seconds)


@contextmanager
def installed(clock: VirtualClock, events: EventClock | None = None) -> Iterator[None]:
    """The functions and moto's Step Functions interpreter on `clock` (with `events`: the events mode)."""
    from moto.stepfunctions.parser.asl.component.common.retry import retrier_decl
    from moto.stepfunctions.parser.asl.component.state.wait.wait_function import timestamp, wait_function

    original_seconds = timestamp.Timestamp._get_wait_seconds

    def timestamp_seconds(state: Any, env: Any) -> int:
        state.string.eval(env=env)
        text = env.stack.pop()
        parsed: datetime | None = state._from_timestamp_string(timestamp=text)
        if parsed is None:
            return int(original_seconds(state, env))  # evaluates again and raises moto's own failure
        return math.ceil(parsed.replace(tzinfo=UTC).timestamp() - clock.now())

    # moto truncates a wait to whole seconds (it may end up to 1 s early); AWS never ends a wait early.
    def jump_wait(_state: Any, env: Any, wait_seconds: float) -> None:  # moto passes both by keyword
        clock.advance(float(wait_seconds) + 1 if wait_seconds > 0 else 0.0)

    def event_wait(state: Any, env: Any) -> None:
        seconds = state._get_wait_seconds(env=env)
        if seconds > 0 and events is not None:
            events.wait_until(clock.now() + seconds + 1, env.is_running)

    with ExitStack() as stack:
        stack.enter_context(mock.patch.object(timestamp.Timestamp, "_get_wait_seconds", timestamp_seconds))
        stack.enter_context(wiring.overrides(clock=FunctionsClock(clock)))
        if events is None:
            stack.enter_context(mock.patch.object(wait_function.WaitFunction, "_wait_interval", jump_wait))
            stack.enter_context(mock.patch.object(retrier_decl, "time", _ClockSleep(clock.advance)))
        else:
            stack.enter_context(mock.patch.object(wait_function.WaitFunction, "_eval_body", event_wait))
            stack.enter_context(mock.patch.object(retrier_decl, "time", _ClockSleep(events.sleep)))
            events.start()
            stack.callback(events.stop)
        yield
