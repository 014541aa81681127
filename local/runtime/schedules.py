"""EventBridge Scheduler in the local runtime: moto keeps the schedules (`moto.scheduler`) but never runs
them; `SchedulePump` runs them on the runtime's clock (the virtual one when a local run installs it), as
the service does:

- a schedule is due at its `at(...)` time, read in its ScheduleExpressionTimezone (UTC unless it names
  another IANA zone). `rate(N minutes|hours|days)` recurs from its StartDate (without one, one period
  after the pump first saw it) until its EndDate; occurrences the clock jumped past run once, late, and
  the next is the first still ahead. `cron(...)` is not run: the log says so when the pump first sees it;
- the service assumes the schedule's role, which the role's trust policy must let scheduler.amazonaws.com
  do (for this account and schedule group), and invokes the target function as that role, which needs
  lambda:InvokeFunction on it;
- Lambda targets are invoked asynchronously: once Lambda has the event the schedule has run (deleted with
  ActionAfterCompletion DELETE, never run again otherwise), and a handler that raises is retried as Lambda
  retries an asynchronous invocation (`AsyncRetry`), then dropped, in the log;
- an event that cannot be delivered (the role may not invoke the function, the function is not one the
  runtime runs, the Input is not JSON) is not retried: it goes to the log and, sent as the role, to the
  target's DeadLetterConfig queue. The target's RetryPolicy covers delivery failures a later attempt may
  cure (throttling, a service unavailable), which do not happen locally.

Kept apart from `LocalAws`, like `QueuePump`: it polls, on the caller's thread or on a background one.
"""

from __future__ import annotations

import json
import logging
import math
import re
import threading
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from local.runtime.iam import AccessDenied, Caller, IamEnforcement
from local.runtime.iam.calls import SCHEDULER_PRINCIPAL, lambda_invoke, sqs_send
from local.runtime.lambdas import InProcessLambdas, LocalFunction
from local.runtime.ticker import Ticker

LOG = logging.getLogger(__name__)

_AT = re.compile(r"at\((?P<when>\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})\)")
_RATE = re.compile(r"rate\((?P<count>[1-9]\d*) (?P<unit>minute|hour|day)s?\)")
_UNIT_SECONDS = {"minute": 60, "hour": 3600, "day": 86_400}
_LAMBDA_ARN = "arn:aws:lambda:"


class UnsupportedSchedule(ValueError):
    """A schedule expression or time zone the local runtime does not run."""


@dataclass(frozen=True)
class AsyncRetry:
    """How Lambda retries an asynchronous invocation whose handler raised: the function's EventInvokeConfig,
    Lambda's defaults otherwise (two retries, none later than six hours after the event arrived)."""

    max_retries: int = 2
    max_event_age: float = 21_600.0
    # Lambda waits about a minute before the first retry and two minutes before the second.
    delays: tuple[float, ...] = (60.0, 120.0)

    @classmethod
    def of(cls, event_invoke_config: Mapping[str, Any] | None) -> AsyncRetry:
        config = event_invoke_config or {}
        return cls(
            max_retries=int(config.get("MaximumRetryAttempts", cls.max_retries)),
            max_event_age=float(config.get("MaximumEventAgeInSeconds", cls.max_event_age)),
        )

    def delay(self, retry: int) -> float:
        """Seconds before the `retry`-th retry (from 1)."""
        return self.delays[min(retry, len(self.delays)) - 1]


@dataclass(frozen=True)
class ScheduleRecord:
    """One schedule as moto holds it, read at one moment."""

    arn: str
    group: str
    name: str
    expression: str
    timezone: str
    enabled: bool
    target: Mapping[str, Any]
    delete_after_completion: bool
    start_date: float | None
    end_date: float | None
    # (created, last modified): an updated schedule, or one deleted and made again, is a new one to the pump.
    version: tuple[float, float]

    @classmethod
    def of(cls, schedule: Any) -> ScheduleRecord:
        """From moto's `Schedule`."""
        return cls(
            arn=str(schedule.arn),
            group=str(schedule.group_name),
            name=str(schedule.name),
            expression=str(schedule.schedule_expression).strip(),
            timezone=str(schedule.schedule_expression_timezone or "UTC"),
            enabled=schedule.state != "DISABLED",
            target=dict(schedule.target or {}),
            delete_after_completion=schedule.action_after_completion == "DELETE",
            start_date=_epoch(schedule.start_date),
            end_date=_epoch(schedule.end_date),
            version=_version(schedule),
        )

    @property
    def group_arn(self) -> str:
        """The source the service names when it assumes the schedule's role (aws:SourceArn)."""
        return f"{self.arn.split(':schedule/', 1)[0]}:schedule-group/{self.group}"

    def occurrence_after(self, after: float | None, seen_at: float) -> float | None:
        """The first time the schedule is due after `after` (its first time at all when None); None when it
        has no more. `seen_at`: when the pump first saw it, what a rate without StartDate counts from."""
        at = _AT.fullmatch(self.expression)
        if at is not None:
            return self._local_time(at["when"]) if after is None else None
        rate = _RATE.fullmatch(self.expression)
        if rate is None:
            raise UnsupportedSchedule(f"{self.expression!r} is not run locally (at() and rate() are)")
        period = int(rate["count"]) * _UNIT_SECONDS[rate["unit"]]
        first = self.start_date if self.start_date is not None else seen_at + period
        due = (
            first
            if after is None or after < first
            else first + (math.floor((after - first) / period) + 1) * period
        )
        return None if self.end_date is not None and due > self.end_date else due

    def _local_time(self, when: str) -> float:
        try:
            zone = UTC if self.timezone == "UTC" else ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise UnsupportedSchedule(f"unknown time zone {self.timezone!r}") from exc
        try:
            return datetime.strptime(when, "%Y-%m-%dT%H:%M:%S").replace(tzinfo=zone).timestamp()
        except ValueError as exc:  # moto takes any digits; the service refuses such a request
            raise UnsupportedSchedule(f"no such time: {when}") from exc


def _version(schedule: Any) -> tuple[float, float]:
    return (float(schedule.creation_date), float(schedule.last_modified_date))


def _epoch(value: Any) -> float | None:
    """StartDate and EndDate as moto keeps them (unix seconds as boto3 sends them; ISO 8601 tolerated)."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value.timestamp()
    try:
        return float(value)
    except (TypeError, ValueError):
        pass
    try:
        parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None  # not a date: the service would have refused the request
    return (parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)).timestamp()


@dataclass
class _Tracked:
    schedule: ScheduleRecord
    seen_at: float
    due_at: float | None  # the next occurrence; None once it has run for good (or cannot run)

    def due(self, now: float) -> bool:
        return self.schedule.enabled and self.due_at is not None and self.due_at <= now


@dataclass
class _AsyncEvent:
    """An event Lambda accepted for asynchronous invocation, until a handler run takes it or it is dropped."""

    function: LocalFunction
    event: Any
    schedule_arn: str
    retry: AsyncRetry
    accepted_at: float
    due_at: float
    attempts: int = 0


class _Undeliverable(Exception):
    """The service could not hand the event to the target: not retried, dead-lettered when it can be."""

    def __init__(self, error_code: str, message: str) -> None:
        super().__init__(message)
        self.error_code = error_code


class SchedulePump:
    """Runs the schedules moto holds when the clock reaches them, as EventBridge Scheduler does."""

    def __init__(
        self,
        *,
        clock: Callable[[], float],
        lambdas: InProcessLambdas,
        iam: IamEnforcement | None,
        client: Callable[[str], Any],
        account: str,
        region: str,
        async_retry: Callable[[LocalFunction], AsyncRetry] = lambda _function: AsyncRetry(),
    ) -> None:
        self._clock = clock
        self._lambdas = lambdas
        self._iam = iam
        self._client = client
        self._account = account
        self._region = region
        self._async_retry = async_retry
        self._tracked: dict[str, _Tracked] = {}  # by schedule ARN
        self._events: list[_AsyncEvent] = []  # accepted, waiting for a retry
        self._state = threading.Lock()  # guards the two above
        self._firing = threading.Lock()  # one round at a time (the background thread, a test's call)
        self._ticker = Ticker("local-aws-schedules", lambda _interval: self.fire_due())

    def fire_due(self) -> int:
        """Run what is due on the clock: schedules whose time has come, then the retries of handler runs
        that failed. Returns the handler runs made (a schedule whose role may not invoke makes none)."""
        with self._firing:
            now = self._clock()
            with self._state:
                self._refresh(now)
                schedules = [tracked for tracked in self._tracked.values() if tracked.due(now)]
                retries = [event for event in self._events if event.due_at <= now]
            runs = sum(self._run_schedule(tracked) for tracked in schedules)
            return runs + sum(self._attempt(event) for event in retries)

    def next_due(self) -> float | None:
        """Seconds until the earliest enabled schedule or handler retry is due (0 when one is), None when
        nothing is pending: how far a virtual clock may jump before something here has to run."""
        now = self._clock()
        with self._state:
            self._refresh(now)
            times = [t.due_at for t in self._tracked.values() if t.schedule.enabled and t.due_at is not None]
            times += [event.due_at for event in self._events]
        return max(0.0, min(times) - now) if times else None

    # --- schedules ---------------------------------------------------------------------------------

    def _refresh(self, now: float) -> None:
        """Follow what moto holds: a schedule first seen (or in a new version) is tracked from `now`."""
        groups = list(self._backend().schedule_groups.values())
        current = {str(found.arn): found for group in groups for found in list(group.schedules.values())}
        for arn in set(self._tracked) - set(current):
            del self._tracked[arn]
        for arn, found in current.items():
            tracked = self._tracked.get(arn)
            if tracked is None or tracked.schedule.version != _version(found):
                record = ScheduleRecord.of(found)
                self._tracked[arn] = _Tracked(record, now, _first_occurrence(record, now))

    def _backend(self) -> Any:
        from moto.scheduler.models import scheduler_backends

        return scheduler_backends[self._account][self._region]

    def _run_schedule(self, tracked: _Tracked) -> int:
        schedule, occurrence = tracked.schedule, tracked.due_at
        if occurrence is None:
            return 0
        runs = self._deliver(schedule, occurrence)
        with self._state:
            # Occurrences the clock jumped past are not made up: the next is the first still ahead.
            tracked.due_at = schedule.occurrence_after(max(self._clock(), occurrence), tracked.seen_at)
        if tracked.due_at is None and schedule.delete_after_completion:
            self._delete(schedule)
        return runs

    def _delete(self, schedule: ScheduleRecord) -> None:
        """ActionAfterCompletion DELETE, unless the schedule changed meanwhile (a handler updated it)."""
        backend = self._backend()
        group = backend.schedule_groups.get(schedule.group)
        current = group.schedules.get(schedule.name) if group is not None else None
        if current is not None and _version(current) == schedule.version:
            backend.delete_schedule(schedule.group, schedule.name)

    # --- delivery, as the schedule's role ----------------------------------------------------------

    def _deliver(self, schedule: ScheduleRecord, occurrence: float) -> int:
        """Hand the event to Lambda and make the first handler run; the handler runs made."""
        try:
            caller = self._assume_role(schedule)
        except AccessDenied as exc:
            LOG.warning(
                "schedule %s did not run: EventBridge Scheduler cannot use its role: %s", schedule.arn, exc
            )
            return 0
        try:
            function, event = self._invocation(schedule, caller, occurrence)
        except _Undeliverable as exc:
            LOG.warning("schedule %s did not run: %s: %s", schedule.arn, exc.error_code, exc)
            self._dead_letter(schedule, caller, exc)
            return 0
        now = self._clock()
        accepted = _AsyncEvent(function, event, schedule.arn, self._async_retry(function), now, now)
        with self._state:
            self._events.append(accepted)
        return self._attempt(accepted)

    def _assume_role(self, schedule: ScheduleRecord) -> Caller | None:
        """The role's session, its trust policy checked (None: the runtime does not enforce IAM)."""
        if self._iam is None:
            return None
        return self._iam.service_role(
            SCHEDULER_PRINCIPAL, str(schedule.target.get("RoleArn", "")), schedule.group_arn
        )

    def _invocation(
        self, schedule: ScheduleRecord, caller: Caller | None, occurrence: float
    ) -> tuple[LocalFunction, Any]:
        target = str(schedule.target.get("Arn", ""))
        if not target.startswith(_LAMBDA_ARN):
            raise _Undeliverable(
                "ValidationException", f"target {target}: only Lambda functions are run locally"
            )
        if caller is not None and self._iam is not None:
            try:
                self._iam.check(caller, [lambda_invoke(self._iam.resources, target)])
            except AccessDenied as exc:
                raise _Undeliverable("AccessDeniedException", str(exc)) from None
        function = self._lambdas.get(target)
        if function is None:
            raise _Undeliverable("ResourceNotFoundException", f"{target} is not a function the runtime runs")
        try:
            event = json.loads(_input(schedule, occurrence))
        except ValueError as exc:
            raise _Undeliverable("InvalidRequestContentException", f"the Input is not JSON: {exc}") from None
        return function, event

    def _dead_letter(self, schedule: ScheduleRecord, caller: Caller | None, failure: _Undeliverable) -> None:
        queue_arn = (schedule.target.get("DeadLetterConfig") or {}).get("Arn")
        if not queue_arn:
            return
        try:
            if caller is not None and self._iam is not None:
                self._iam.check(caller, [sqs_send(self._iam.resources, str(queue_arn))])
            sqs = self._client("sqs")
            _, _, _, _, owner, name = str(queue_arn).split(":", 5)
            url = sqs.get_queue_url(QueueName=name, QueueOwnerAWSAccountId=owner)["QueueUrl"]
            sqs.send_message(
                QueueUrl=url,
                MessageBody=str(schedule.target.get("Input") or "{}"),
                MessageAttributes=_dead_letter_attributes(schedule, failure),
            )
        except Exception as exc:  # the service drops it too; the log says why
            LOG.warning(
                "schedule %s: its event did not reach the dead-letter queue %s: %s",
                schedule.arn,
                queue_arn,
                exc,
            )

    # --- Lambda's asynchronous invocation ----------------------------------------------------------

    def _attempt(self, event: _AsyncEvent) -> int:
        """One handler run; a failure is retried later or, out of retries, dropped."""
        event.attempts += 1
        try:
            self._lambdas.call(event.function, event.event)
        except Exception as exc:
            self._after_failure(event, exc)
        else:
            self._forget(event)
        return 1

    def _after_failure(self, event: _AsyncEvent, exc: Exception) -> None:
        name = event.function.spec_name or event.function.name
        retry, retries_made = event.retry, event.attempts - 1
        now = self._clock()
        if retries_made < retry.max_retries:
            due = now + retry.delay(retries_made + 1)
            if due - event.accepted_at <= retry.max_event_age:
                event.due_at = due
                LOG.warning(
                    "%s failed on the event of schedule %s (attempt %d), Lambda retries it in %.0f s: %s: %s",
                    name,
                    event.schedule_arn,
                    event.attempts,
                    due - now,
                    type(exc).__name__,
                    exc,
                    exc_info=exc,
                )
                return
        LOG.error(
            "%s failed on the event of schedule %s %d times: dropped, Lambda's retries are spent: %s: %s",
            name,
            event.schedule_arn,
            event.attempts,
            type(exc).__name__,
            exc,
            exc_info=exc,
        )
        self._forget(event)

    def _forget(self, event: _AsyncEvent) -> None:
        with self._state:
            if event in self._events:
                self._events.remove(event)

    # --- background thread -------------------------------------------------------------------------

    def start_thread(self, interval: float) -> None:
        self._ticker.start(interval)

    def stop_thread(self) -> None:
        self._ticker.stop()


def _first_occurrence(record: ScheduleRecord, now: float) -> float | None:
    try:
        return record.occurrence_after(None, now)
    except UnsupportedSchedule as exc:
        LOG.warning("schedule %s will not run: %s", record.arn, exc)
        return None


def _input(schedule: ScheduleRecord, occurrence: float) -> str:
    """The target's Input, with the context attributes the service fills in."""
    text = str(schedule.target.get("Input") or "{}")
    values = {
        "schedule-arn": schedule.arn,
        "scheduled-time": datetime.fromtimestamp(occurrence, UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "execution-id": str(uuid.uuid4()),
        "attempt-number": "1",  # delivered at the first attempt: delivery never fails retryably locally
    }
    for key, value in values.items():
        text = text.replace(f"<aws.scheduler.{key}>", value)
    return text


def _dead_letter_attributes(schedule: ScheduleRecord, failure: _Undeliverable) -> dict[str, Any]:
    values = {
        "ERROR_CODE": failure.error_code,
        "ERROR_MESSAGE": str(failure)[:1000],
        "RETRY_ATTEMPTS": "0",
        "SCHEDULE_ARN": schedule.arn,
        "TARGET_ARN": str(schedule.target.get("Arn", "")),
    }
    return {key: {"DataType": "String", "StringValue": value} for key, value in values.items()}
