"""The local run's virtual clock: Wait states on it, jumps only when the system is idle (events mode)."""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime

import boto3
import pytest
from moto import mock_aws

from functions.settings import Settings
from functions.wiring import for_settings
from local.embedded import EmbeddedSystem
from local.virtual_time import EventClock, VirtualClock, installed

DAY = 86_400.0


class Switch:
    def __init__(self) -> None:
        self.idle = False
        self.due: float | None = None

    def is_idle(self, _quiet: float) -> bool:
        return self.idle

    def next_due(self) -> float | None:
        return self.due


@pytest.fixture
def events() -> Iterator[tuple[VirtualClock, EventClock, Switch]]:
    clock, switch = VirtualClock(), Switch()
    event_clock = EventClock(clock, idle=switch.is_idle, next_due=switch.next_due, quiet=0.0).start()
    try:
        yield clock, event_clock, switch
    finally:
        event_clock.stop()


def _waiter(
    event_clock: EventClock, end: float, done: list[tuple[str, float]], name: str
) -> threading.Thread:
    def run() -> None:
        event_clock.wait_until(end)
        done.append((name, event_clock.clock.now()))

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


def _offset(clock: VirtualClock) -> float:
    return round(clock.now() - time.time(), 3)


def test_the_event_clock_jumps_only_when_idle_and_to_the_earliest_wait(
    events: tuple[VirtualClock, EventClock, Switch],
) -> None:
    clock, event_clock, switch = events
    start = clock.now()
    done: list[tuple[str, float]] = []
    later = _waiter(event_clock, start + 2 * 3600, done, "two hours")
    sooner = _waiter(event_clock, start + 3600, done, "one hour")
    time.sleep(0.4)
    assert done == [] and event_clock.jumps == 0 and _offset(clock) < 1  # busy: time stands still

    switch.idle = True
    sooner.join(timeout=5)
    later.join(timeout=5)
    assert [name for name, _ in done] == ["one hour", "two hours"]
    assert event_clock.jumps == 2
    assert [round(at - start) for _, at in done] == [3600, 7200]  # each wait ended on time, none doubled


def test_the_event_clock_stops_at_the_sandbox_next_action_first(
    events: tuple[VirtualClock, EventClock, Switch],
) -> None:
    clock, event_clock, switch = events
    switch.due = 600.0
    done: list[tuple[str, float]] = []
    start = clock.now()
    waiter = _waiter(event_clock, start + DAY, done, "a day")
    switch.idle = True
    deadline = time.monotonic() + 5
    while event_clock.jumps == 0 and time.monotonic() < deadline:
        time.sleep(0.02)
    assert 600 <= clock.now() - start < 605 and done == []  # the sandbox acts at +600 s, before the day ends
    switch.due = None
    waiter.join(timeout=5)
    assert [round(at - start) for _, at in done] == [DAY]


def test_a_wait_ends_when_its_execution_is_no_longer_wanted(
    events: tuple[VirtualClock, EventClock, Switch],
) -> None:
    _clock, event_clock, _switch = events
    wanted = threading.Event()
    wanted.set()
    thread = threading.Thread(
        target=event_clock.wait_until, args=(event_clock.clock.now() + DAY, wanted.is_set), daemon=True
    )
    thread.start()
    wanted.clear()
    thread.join(timeout=2)
    assert not thread.is_alive()


def _wait_for_timestamp_machine(sfn: object) -> str:
    definition = {
        "StartAt": "Hold",
        "States": {
            "Hold": {"Type": "Wait", "TimestampPath": "$.at", "Next": "Done"},
            "Done": {"Type": "Succeed"},
        },
    }
    return sfn.create_state_machine(  # type: ignore[attr-defined, no-any-return]
        name="hold", definition=json.dumps(definition), roleArn="arn:aws:iam::123456789012:role/sfn"
    )["stateMachineArn"]


@pytest.mark.parametrize("mode", ["jump", "events"])
def test_a_timestamp_wait_counts_from_the_virtual_clock(mode: str) -> None:
    """A retry_at written on the virtual clock (a day ahead of the wall) waits its own length, once."""
    clock = VirtualClock()
    clock.advance(DAY)
    event_clock = (
        EventClock(clock, idle=lambda _q: True, next_due=lambda: None, quiet=0.0)
        if mode == "events"
        else None
    )
    with (
        mock_aws(config={"stepfunctions": {"execute_state_machine": True}}),  # type: ignore[arg-type]
        installed(clock, event_clock),
    ):
        sfn = boto3.client("stepfunctions", region_name="eu-west-1")
        arn = _wait_for_timestamp_machine(sfn)
        at = datetime.fromtimestamp(clock.now() + 3600, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        execution = sfn.start_execution(
            stateMachineArn=arn, name=str(uuid.uuid4()), input=json.dumps({"at": at})
        )
        deadline = time.monotonic() + 10
        while sfn.describe_execution(executionArn=execution["executionArn"])["status"] == "RUNNING":
            assert time.monotonic() < deadline, "the wait did not end"
            time.sleep(0.05)
        assert for_settings(Settings.from_env_dict({})).now() == int(clock.now())  # the functions read it too
        assert sfn.describe_execution(executionArn=execution["executionArn"])["status"] == "SUCCEEDED"
    assert DAY + 3600 <= _offset(clock) < DAY + 3600 + 5


def test_an_unknown_virtual_time_mode_is_refused_by_name() -> None:
    with pytest.raises(ValueError, match="'sometimes'"):
        EmbeddedSystem(virtual_time="sometimes")  # type: ignore[arg-type]


@pytest.mark.parametrize("mode", ["jump", "events"])
def test_a_retry_back_off_passes_on_the_virtual_clock(mode: str) -> None:
    """A step TikTok keeps answering "not now" is retried over the hours the state machine asks for: each
    back-off moves the virtual clock by its length, so the sandbox's windows see them go by."""
    clock = VirtualClock()
    event_clock = (
        EventClock(clock, idle=lambda _q: True, next_due=lambda: None, quiet=0.0)
        if mode == "events"
        else None
    )
    branch = {"StartAt": "NotNow", "States": {"NotNow": {"Type": "Fail", "Error": "QuotaWaitError"}}}
    retry = {"ErrorEquals": ["QuotaWaitError"], "IntervalSeconds": 900, "MaxAttempts": 2, "BackoffRate": 2}
    definition = {
        "StartAt": "Step",
        "States": {"Step": {"Type": "Parallel", "Branches": [branch], "Retry": [retry], "End": True}},
    }
    with (
        mock_aws(config={"stepfunctions": {"execute_state_machine": True}}),  # type: ignore[arg-type]
        installed(clock, event_clock),
    ):
        sfn = boto3.client("stepfunctions", region_name="eu-west-1")
        arn = sfn.create_state_machine(
            name="not-now", definition=json.dumps(definition), roleArn="arn:aws:iam::123456789012:role/sfn"
        )["stateMachineArn"]
        execution = sfn.start_execution(stateMachineArn=arn, name=str(uuid.uuid4()), input="{}")
        deadline = time.monotonic() + 10
        while sfn.describe_execution(executionArn=execution["executionArn"])["status"] == "RUNNING":
            assert time.monotonic() < deadline, "the retries did not end"
            time.sleep(0.05)
        assert sfn.describe_execution(executionArn=execution["executionArn"])["status"] == "FAILED"
    # Two back-offs, 15 then 30 minutes (the events clock counts the real moments in between as passed).
    assert 900 + 1800 - 1 <= _offset(clock) < 900 + 1800 + 5
