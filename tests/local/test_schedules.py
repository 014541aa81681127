"""EventBridge Scheduler in the local runtime (local/runtime/schedules.py): schedules moto holds run when the
runtime's clock reaches them, as the service runs them: the target function invoked asynchronously as the
schedule's role, with the schedule's Input as the event; and the functions' own scheduler calls decided
by IAM as AWS decides them (local/runtime/iam/calls.py).

One runtime serves the module, on a clock the tests move; every test leaves no schedule behind."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterator
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from local.runtime import CloudAssembly, LocalAws
from local.runtime.iam.calls import AwsCall, CallReader, MotoResources, UnknownCall
from local.runtime.schedules import AsyncRetry

TARGET = "finish"  # the function the schedules invoke (its handler replaced by a recorder)
CALLER = "webhook"  # the function that calls EventBridge Scheduler in the IAM tests
GROUP = "after-publishing"
SCHEDULER = "scheduler.amazonaws.com"
START = datetime(2027, 1, 15, 9, 0, tzinfo=UTC).timestamp()  # winter: Paris is UTC+1, Tokyo UTC+9
DAY = 86_400.0
ACCOUNT, REGION = "123456789012", "eu-west-1"


class Clock:
    """The runtime's clock, moved by the tests only."""

    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@dataclass
class Stack:
    rt: LocalAws
    clock: Clock
    received: list[Any] = field(default_factory=list)  # the events the target's handler ran on

    @property
    def target_arn(self) -> str:
        return self.function_arn(TARGET)

    def function_arn(self, name: str) -> str:
        arn: str = self.rt.in_process_client("lambda").get_function(FunctionName=self.rt.functions[name])[
            "Configuration"
        ]["FunctionArn"]
        return arn

    def role_name_of(self, function: str) -> str:
        role: str = self.rt.in_process_client("lambda").get_function_configuration(
            FunctionName=self.rt.functions[function]
        )["Role"]
        return role.rsplit("/", 1)[1]


def _recorder(stack: dict[str, Stack]) -> Any:
    def handler(event: Any, _context: Any) -> None:
        received = stack["it"].received
        received.append(event)
        if isinstance(event, dict) and received.count(event) <= int(event.get("fail_first", 0)):
            raise RuntimeError(f"run {received.count(event)} of {event.get('post_id')} fails")

    return handler


def _scheduler_call(event: dict[str, Any], _context: Any) -> Any:
    """The calling function's handler: one EventBridge Scheduler call with the function's own role."""
    answer = getattr(boto3.client("scheduler"), event["call"])(**event["params"])
    return {key: value for key, value in answer.items() if key != "ResponseMetadata"}


@pytest.fixture(scope="module")
def module_stack(cdk_out: Path) -> Iterator[Stack]:
    holder: dict[str, Stack] = {}
    clock = Clock()
    rt = LocalAws(
        cdk_out=cdk_out, clock=clock, handler_overrides={TARGET: _recorder(holder), CALLER: _scheduler_call}
    )
    with rt:
        holder["it"] = Stack(rt, clock)
        rt.in_process_client("scheduler").create_schedule_group(Name=GROUP)
        yield holder["it"]


@pytest.fixture
def stack(module_stack: Stack, caplog: pytest.LogCaptureFixture) -> Iterator[Stack]:
    caplog.set_level(logging.INFO, logger="local.runtime.schedules")
    module_stack.clock.now = START
    yield module_stack
    _settle(module_stack)


def _settle(stack: Stack) -> None:
    """Run out whatever the test left pending, then delete every schedule."""
    for _ in range(10):
        stack.clock.advance(DAY)
        stack.rt.fire_schedules()
    scheduler = stack.rt.in_process_client("scheduler")
    for schedule in scheduler.list_schedules()["Schedules"]:
        scheduler.delete_schedule(Name=schedule["Name"], GroupName=schedule["GroupName"])
    stack.received.clear()


# --- arranging -----------------------------------------------------------------------------------------


def _role(
    stack: Stack,
    name: str,
    *,
    trusted: str = SCHEDULER,
    invoke: tuple[str, ...] = (),
    send: tuple[str, ...] = (),
) -> str:
    """A role `trusted` may assume (for this account), allowed to invoke `invoke` and send to `send`."""
    iam = stack.rt.in_process_client("iam")
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": trusted},
                "Action": "sts:AssumeRole",
                "Condition": {"StringEquals": {"aws:SourceAccount": ACCOUNT}},
            }
        ],
    }
    try:
        arn: str = iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]
    except iam.exceptions.EntityAlreadyExistsException:
        return str(iam.get_role(RoleName=name)["Role"]["Arn"])
    grants = [("lambda:InvokeFunction", list(invoke)), ("sqs:SendMessage", list(send))]
    statements = [{"Effect": "Allow", "Action": a, "Resource": r} for a, r in grants if r]
    if statements:
        policy = {"Version": "2012-10-17", "Statement": statements}
        iam.put_role_policy(RoleName=name, PolicyName="grants", PolicyDocument=json.dumps(policy))
    return arn


def _at(timestamp: float) -> str:
    return f"at({datetime.fromtimestamp(timestamp, UTC):%Y-%m-%dT%H:%M:%S})"


def _schedule(
    stack: Stack,
    name: str,
    expression: str,
    role: str,
    event: Any = None,
    *,
    timezone: str = "UTC",
    after: str = "DELETE",
    **target: Any,
) -> None:
    stack.rt.in_process_client("scheduler").create_schedule(
        Name=name,
        GroupName=GROUP,
        ScheduleExpression=expression,
        ScheduleExpressionTimezone=timezone,
        FlexibleTimeWindow={"Mode": "OFF"},
        Target={
            "Arn": stack.target_arn,
            "RoleArn": role,
            "Input": event if isinstance(event, str) else json.dumps(event or {"post_id": name}),
            "RetryPolicy": {"MaximumRetryAttempts": 3, "MaximumEventAgeInSeconds": 3600},
            **target,
        },
        ActionAfterCompletion=after,
    )


def _exists(stack: Stack, name: str) -> bool:
    try:
        stack.rt.in_process_client("scheduler").get_schedule(Name=name, GroupName=GROUP)
    except ClientError as exc:
        assert exc.response["Error"]["Code"] == "ResourceNotFoundException"
        return False
    return True


def _queue(stack: Stack, name: str) -> tuple[str, str]:
    sqs = stack.rt.in_process_client("sqs")
    url: str = sqs.create_queue(QueueName=name)["QueueUrl"]
    return url, str(
        sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    )


def _dead_letters(stack: Stack, queue_url: str) -> list[dict[str, Any]]:
    answer = stack.rt.in_process_client("sqs").receive_message(
        QueueUrl=queue_url, MaxNumberOfMessages=10, MessageAttributeNames=["All"]
    )
    return list(answer.get("Messages", []))


# --- running schedules ---------------------------------------------------------------------------------


def test_a_due_schedule_runs_its_function_once_with_its_input_then_is_deleted(stack: Stack) -> None:
    role = _role(stack, "may-invoke", invoke=(stack.target_arn,))
    event = {"post_id": "p-1", "age": 3600, "schedule": "<aws.scheduler.schedule-arn>"}
    _schedule(stack, "snap-p-1-1h", _at(START), role, event)

    assert stack.rt.fire_schedules() == 1
    schedule_arn = f"arn:aws:scheduler:{REGION}:{ACCOUNT}:schedule/{GROUP}/snap-p-1-1h"
    assert stack.received == [{"post_id": "p-1", "age": 3600, "schedule": schedule_arn}]
    assert not _exists(stack, "snap-p-1-1h")  # ActionAfterCompletion DELETE
    stack.clock.advance(DAY)
    assert stack.rt.fire_schedules() == 0 and stack.rt.schedules_next_due() is None
    assert stack.rt.iam is not None
    assert ("lambda:InvokeFunction", stack.target_arn) in stack.rt.iam.usage.calls["scheduler"]


def test_a_schedule_waits_for_the_clock_and_a_kept_one_runs_only_once(stack: Stack) -> None:
    role = _role(stack, "may-invoke", invoke=(stack.target_arn,))
    _schedule(stack, "in-an-hour", _at(START + 3600), role, after="NONE")

    assert stack.rt.schedules_next_due() == 3600
    stack.clock.advance(3599)
    assert stack.rt.fire_schedules() == 0 and stack.received == []
    assert stack.rt.schedules_next_due() == 1
    stack.clock.advance(1)
    assert stack.rt.fire_schedules() == 1 and stack.received == [{"post_id": "in-an-hour"}]
    stack.clock.advance(DAY)
    assert stack.rt.fire_schedules() == 0 and len(stack.received) == 1
    assert _exists(stack, "in-an-hour") and stack.rt.schedules_next_due() is None


def test_at_times_are_read_in_the_schedules_time_zone(stack: Stack, caplog: pytest.LogCaptureFixture) -> None:
    role = _role(stack, "may-invoke", invoke=(stack.target_arn,))
    _schedule(stack, "paris", "at(2027-01-15T10:00:00)", role, timezone="Europe/Paris")  # 09:00 UTC
    _schedule(stack, "tokyo", "at(2027-01-15T18:00:00)", role, timezone="Asia/Tokyo")  # 09:00 UTC
    _schedule(stack, "utc", "at(2027-01-15T10:00:00)", role)
    _schedule(stack, "nowhere", "at(2027-01-15T09:00:00)", role, timezone="Mars/Olympus_Mons")
    _schedule(stack, "never", "at(2027-02-30T09:00:00)", role)  # moto takes it; the service would not

    assert stack.rt.fire_schedules() == 2
    assert sorted(event["post_id"] for event in stack.received) == ["paris", "tokyo"]
    assert stack.rt.schedules_next_due() == 3600  # the UTC one; the unknown zone never runs
    assert "nowhere will not run: unknown time zone 'Mars/Olympus_Mons'" in caplog.text
    assert "never will not run: no such time: 2027-02-30T09:00:00" in caplog.text


def test_a_rate_schedule_recurs_without_making_up_missed_runs_and_cron_is_refused(
    stack: Stack, caplog: pytest.LogCaptureFixture
) -> None:
    role = _role(stack, "may-invoke", invoke=(stack.target_arn,))
    _schedule(stack, "every-5-minutes", "rate(5 minutes)", role, after="NONE")
    _schedule(stack, "daily-at-ten", "cron(0 10 * * ? *)", role)

    assert stack.rt.schedules_next_due() == 300  # one period after it was first seen
    stack.clock.advance(300)
    assert stack.rt.fire_schedules() == 1
    stack.clock.advance(1000)  # past three more occurrences: one run, late
    assert stack.rt.fire_schedules() == 1 and len(stack.received) == 2
    assert stack.rt.schedules_next_due() == 200  # the next on the first one's grid
    assert "daily-at-ten will not run: 'cron(0 10 * * ? *)' is not run locally" in caplog.text


def test_a_rate_schedule_ends_at_its_end_date_and_is_deleted_then(stack: Stack) -> None:
    role = _role(stack, "may-invoke", invoke=(stack.target_arn,))
    stack.rt.in_process_client("scheduler").create_schedule(
        Name="hourly-for-two-hours",
        GroupName=GROUP,
        ScheduleExpression="rate(1 hour)",
        StartDate=datetime.fromtimestamp(START + 3600, UTC),
        EndDate=datetime.fromtimestamp(START + 2 * 3600, UTC),
        FlexibleTimeWindow={"Mode": "OFF"},
        Target={"Arn": stack.target_arn, "RoleArn": role, "Input": "{}"},
        ActionAfterCompletion="DELETE",
    )
    assert stack.rt.schedules_next_due() == 3600  # StartDate
    for _ in range(2):
        stack.clock.advance(3600)
        assert stack.rt.fire_schedules() == 1
    assert not _exists(stack, "hourly-for-two-hours") and stack.rt.schedules_next_due() is None


# --- the scheduler's role ------------------------------------------------------------------------------


def test_the_scheduler_must_be_trusted_by_the_role(stack: Stack, caplog: pytest.LogCaptureFixture) -> None:
    role = _role(stack, "lambda-only", trusted="lambda.amazonaws.com", invoke=(stack.target_arn,))
    _schedule(stack, "untrusted", _at(START), role)

    assert stack.rt.fire_schedules() == 0 and stack.received == []
    assert "untrusted did not run: EventBridge Scheduler cannot use its role" in caplog.text
    assert f"sts:AssumeRole on resource: {role}" in caplog.text
    assert stack.rt.iam is not None
    assert any(d.caller == "scheduler" and "trust policy" in d.reason for d in stack.rt.iam.usage.denials)
    assert stack.rt.schedules_next_due() is None  # it ran, as far as it could: never again


def test_a_role_that_may_not_invoke_sends_the_event_to_the_dead_letter_queue(
    stack: Stack, caplog: pytest.LogCaptureFixture
) -> None:
    dlq_url, dlq_arn = _queue(stack, "not-allowed-dlq")
    role = _role(stack, "invokes-another", invoke=(stack.function_arn(CALLER),), send=(dlq_arn,))
    _schedule(stack, "not-allowed", _at(START), role, {"post_id": "p-2"}, DeadLetterConfig={"Arn": dlq_arn})

    assert stack.rt.fire_schedules() == 0 and stack.received == []
    assert f"lambda:InvokeFunction on resource: {stack.target_arn}" in caplog.text
    (letter,) = _dead_letters(stack, dlq_url)
    assert json.loads(letter["Body"]) == {"post_id": "p-2"}
    attributes = {k: v["StringValue"] for k, v in letter["MessageAttributes"].items()}
    assert (
        attributes["ERROR_CODE"] == "AccessDeniedException" and attributes["TARGET_ARN"] == stack.target_arn
    )
    assert not _exists(stack, "not-allowed")


@pytest.mark.parametrize(
    ("event", "target", "error_code"),
    [
        ("not json", None, "InvalidRequestContentException"),
        (None, "function:nobody", "ResourceNotFoundException"),
    ],
)
def test_an_event_that_cannot_be_delivered_is_dead_lettered_not_retried(
    stack: Stack, event: str | None, target: str | None, error_code: str
) -> None:
    dlq_url, dlq_arn = _queue(stack, f"{error_code}-dlq")
    role = _role(stack, f"{error_code}-role", invoke=("*",), send=(dlq_arn,))
    target_arn = f"arn:aws:lambda:{REGION}:{ACCOUNT}:{target}" if target else stack.target_arn
    _schedule(
        stack, "undeliverable", _at(START), role, event, Arn=target_arn, DeadLetterConfig={"Arn": dlq_arn}
    )

    assert stack.rt.fire_schedules() == 0
    (letter,) = _dead_letters(stack, dlq_url)
    assert letter["MessageAttributes"]["ERROR_CODE"]["StringValue"] == error_code
    assert stack.rt.schedules_next_due() is None


# --- handler failures: Lambda's asynchronous invocation ------------------------------------------------


def test_a_raising_handler_is_retried_as_lambda_retries_an_async_event_then_dropped(
    stack: Stack, caplog: pytest.LogCaptureFixture
) -> None:
    role = _role(stack, "may-invoke", invoke=(stack.target_arn,))
    _schedule(stack, "always-fails", _at(START), role, {"post_id": "p-3", "fail_first": 99})

    assert stack.rt.fire_schedules() == 1
    assert not _exists(stack, "always-fails")  # delivered: the schedule is done, Lambda retries
    assert stack.rt.schedules_next_due() == 60
    stack.clock.advance(59)
    assert stack.rt.fire_schedules() == 0
    stack.clock.advance(1)
    assert stack.rt.fire_schedules() == 1 and stack.rt.schedules_next_due() == 120
    stack.clock.advance(120)
    assert stack.rt.fire_schedules() == 1 and stack.rt.schedules_next_due() is None
    assert len(stack.received) == 3
    assert "finish failed on the event of schedule" in caplog.text and "3 times: dropped" in caplog.text


def test_a_handler_that_fails_once_succeeds_on_lambdas_first_retry(stack: Stack) -> None:
    role = _role(stack, "may-invoke", invoke=(stack.target_arn,))
    _schedule(stack, "fails-once", _at(START), role, {"post_id": "p-4", "fail_first": 1})

    assert stack.rt.fire_schedules() == 1
    stack.clock.advance(60)
    assert stack.rt.fire_schedules() == 1 and stack.rt.schedules_next_due() is None
    assert stack.received == [{"post_id": "p-4", "fail_first": 1}] * 2


def test_lambdas_retries_follow_the_functions_event_invoke_config() -> None:
    template = {
        "Resources": {
            "Fn": {
                "Type": "AWS::Lambda::Function",
                "Properties": {"Handler": "functions.handlers.x.handler"},
            },
            "FnConfig": {
                "Type": "AWS::Lambda::EventInvokeConfig",
                "Properties": {
                    "FunctionName": {"Ref": "Fn"},
                    "Qualifier": "$LATEST",
                    "MaximumRetryAttempts": 0,
                },
            },
        }
    }
    configs = CloudAssembly(outdir=Path("."), stack_name="S", template=template).event_invoke_configs()
    assert AsyncRetry.of(configs.get("Fn")) == AsyncRetry(max_retries=0)
    assert AsyncRetry.of(None) == AsyncRetry(max_retries=2, max_event_age=21_600.0)


def test_the_pump_thread_runs_a_schedule_once_the_clock_has_jumped(stack: Stack) -> None:
    role = _role(stack, "may-invoke", invoke=(stack.target_arn,))
    _schedule(stack, "after-the-jump", _at(START + DAY), role)
    stack.rt.start_pump_thread(interval=0.01)
    try:
        time.sleep(0.1)
        assert stack.received == []
        stack.clock.advance(DAY)  # as a Wait state of the jump mode moves the virtual clock
        deadline = time.monotonic() + 5
        while not stack.received and time.monotonic() < deadline:
            time.sleep(0.01)
    finally:
        stack.rt.stop_pump_thread()
    assert stack.received == [{"post_id": "after-the-jump"}]


# --- the functions' calls to EventBridge Scheduler, under IAM --------------------------------------------


def _create_as_caller(stack: Stack, name: str, role: str) -> Any:
    params = {
        "Name": name,
        "ScheduleExpression": _at(START + 3600),
        "ScheduleExpressionTimezone": "UTC",
        "FlexibleTimeWindow": {"Mode": "OFF"},
        "Target": {"Arn": stack.target_arn, "RoleArn": role, "Input": "{}"},
        "ActionAfterCompletion": "DELETE",
    }
    return stack.rt.invoke(CALLER, {"call": "create_schedule", "params": params})


def _grant(stack: Stack, name: str, statement: dict[str, Any]) -> None:
    document = {"Version": "2012-10-17", "Statement": [statement]}
    stack.rt.in_process_client("iam").put_role_policy(
        RoleName=stack.role_name_of(CALLER), PolicyName=name, PolicyDocument=json.dumps(document)
    )


def test_a_function_needs_create_schedule_and_to_pass_the_role_to_the_scheduler(stack: Stack) -> None:
    role = _role(stack, "may-invoke", invoke=(stack.target_arn,))
    default_group = f"arn:aws:scheduler:{REGION}:{ACCOUNT}:schedule/default"
    try:
        with pytest.raises(ClientError, match="AccessDenied") as refused:
            _create_as_caller(stack, "snap-p-5-1h", role)
        assert f"scheduler:CreateSchedule on resource: {default_group}/snap-p-5-1h" in str(refused.value)

        create = {
            "Effect": "Allow",
            "Action": "scheduler:CreateSchedule",
            "Resource": f"{default_group}/snap-*",
        }
        _grant(stack, "create", create)
        with pytest.raises(ClientError, match="AccessDenied") as refused:
            _create_as_caller(stack, "snap-p-5-1h", role)
        assert f"iam:PassRole on resource: {role} (needed by scheduler:CreateSchedule)" in str(refused.value)

        passed_to = {"Effect": "Allow", "Action": "iam:PassRole", "Resource": role}
        _grant(
            stack,
            "pass",
            {**passed_to, "Condition": {"StringEquals": {"iam:PassedToService": "lambda.amazonaws.com"}}},
        )
        with pytest.raises(ClientError, match="iam:PassRole"):
            _create_as_caller(stack, "snap-p-5-1h", role)
        _grant(
            stack, "pass", {**passed_to, "Condition": {"StringEquals": {"iam:PassedToService": SCHEDULER}}}
        )
        assert _create_as_caller(stack, "snap-p-5-1h", role)["ScheduleArn"].endswith(
            ":schedule/default/snap-p-5-1h"
        )

        with pytest.raises(
            ClientError, match=rf"scheduler:DeleteSchedule on resource: {default_group}/snap-p-5-1h"
        ):
            stack.rt.invoke(CALLER, {"call": "delete_schedule", "params": {"Name": "snap-p-5-1h"}})
    finally:
        for name in ("create", "pass"):
            with suppress(ClientError):  # granted only if the test got that far
                stack.rt.in_process_client("iam").delete_role_policy(
                    RoleName=stack.role_name_of(CALLER), PolicyName=name
                )


def _request(path: str, body: Any = None, **query: str) -> Any:
    """A request as moto's scheduler responses hold it, for the call reader."""
    return SimpleNamespace(
        params=None,
        body=json.dumps(body) if body is not None else "",
        querystring={key: [value] for key, value in query.items()},
        uri_match={"Name": path.rsplit("/", 1)[1]} if path.count("/") > 1 else {},
        path=path,
    )


def _described(operation: str, request: Any) -> list[tuple[str, tuple[str, ...], str | None]]:
    calls: list[AwsCall] = CallReader(MotoResources(ACCOUNT, REGION)).read(
        "scheduler", operation, request, None
    )
    return [(call.action, call.resources, call.on_behalf_of) for call in calls]


def test_each_scheduler_operation_is_authorized_on_the_resource_aws_names() -> None:
    schedule = f"arn:aws:scheduler:{REGION}:{ACCOUNT}:schedule"
    role = f"arn:aws:iam::{ACCOUNT}:role/scheduler"
    target = {"Arn": "arn:aws:lambda:eu-west-1:123456789012:function:f", "RoleArn": role}
    assert _described("CreateSchedule", _request("/schedules/a", {"GroupName": "g", "Target": target})) == [
        ("scheduler:CreateSchedule", (f"{schedule}/g/a",), None),
        ("iam:PassRole", (role,), "scheduler:CreateSchedule"),
    ]
    assert _described("UpdateSchedule", _request("/schedules/a", {"Target": target})) == [
        ("scheduler:UpdateSchedule", (f"{schedule}/default/a",), None),
        ("iam:PassRole", (role,), "scheduler:UpdateSchedule"),
    ]
    assert _described("GetSchedule", _request("/schedules/a", groupName="g")) == [
        ("scheduler:GetSchedule", (f"{schedule}/g/a",), None)
    ]
    assert _described("DeleteSchedule", _request("/schedules/a")) == [
        ("scheduler:DeleteSchedule", (f"{schedule}/default/a",), None)
    ]
    assert _described("ListSchedules", _request("/schedules")) == [("scheduler:ListSchedules", ("*",), None)]
    assert _described("CreateScheduleGroup", _request("/schedule-groups/g")) == [
        ("scheduler:CreateScheduleGroup", (f"{schedule}-group/g",), None)
    ]
    with pytest.raises(UnknownCall, match="scheduler:TagResource"):
        _described("TagResource", _request("/tags/x"))
