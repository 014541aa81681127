"""Driving the embedded system for the cost and resilience runs: a synthesized app, meters on the local
runtime, and views of the sandbox and of our own records. Nothing here changes how the system behaves.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import sys
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from unittest import mock

import requests

from functions.settings import Env
from local.embedded import EmbeddedSystem
from local.runtime.lambdas import between_handler_runs
from local.runtime.synthesis import synthesize as local_synthesize
from local.virtual_time import EventClock

# The runtime sets each function's environment around its run and puts the previous values back; a key
# the process did not have is removed again, while moto's own threads (Step Functions calling Lambda)
# read AWS_REGION at any moment. Process-wide values keep those reads stable, as the test suite's
# conftest does.
for _key, _value in {
    "AWS_REGION": "eu-west-1",
    "AWS_DEFAULT_REGION": "eu-west-1",
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
}.items():
    os.environ.setdefault(_key, _value)

DYNAMO_READS = {"GetItem": 1.0, "Query": 1.0, "Scan": 1.0, "BatchGetItem": 1.0, "TransactGetItems": 2.0}
DYNAMO_WRITES = {
    "PutItem": 1.0,
    "UpdateItem": 1.0,
    "DeleteItem": 1.0,
    "BatchWriteItem": 1.0,
    "TransactWriteItems": 2.0,
}
OBSERVER_FUNCTIONS = frozenset({"api"})  # what the benchmark itself calls to look; not part of a post


def synthesize(outdir: Path, **context: object) -> Path:
    """`cdk synth` of the project's app into `outdir` (bundling skipped), with extra CDK context; an
    assembly already there is reused."""
    if not (outdir / "manifest.json").exists():
        outdir.mkdir(parents=True, exist_ok=True)
        local_synthesize(outdir, **context)
    return outdir


def log(message: str) -> None:
    """Progress goes to stderr: stdout is silenced while the embedded system runs (Powertools metrics)."""
    print(message, file=sys.__stderr__, flush=True)


class _Discard(io.TextIOBase):
    def write(self, text: str) -> int:
        return len(text)


@contextmanager
def quiet_stdout() -> Iterator[None]:
    """Powertools prints every metric blob and log line to stdout; a benchmark wants its own output.

    The handlers' Logger keeps the stream it found at its first import, so their logs stay discarded;
    Powertools also installs an excepthook that logs there, so the previous hook is put back."""
    hook = sys.excepthook
    try:
        with contextlib.redirect_stdout(_Discard()):
            yield
    finally:
        sys.excepthook = hook


# ------------------------------------------------------------------------------------------ the meter


@dataclass
class Invocation:
    function: str
    memory_mb: int
    seconds: float
    sqs_records: int


@dataclass
class AwsCall:
    function: str
    service: str
    operation: str
    table: str = ""
    items: float = 0.0  # DynamoDB: items read or written (x2 for transactions)
    consistent: bool = False


@dataclass
class Meter:
    """Every handler run of the local runtime (function, memory, duration) and every AWS API call made
    inside one (service, operation; DynamoDB items), observed by wrapping the runtime's handler lookup
    and botocore's request path. Handler runs are serialised by the runtime, so durations do not
    include waiting for the lock."""

    invocations: list[Invocation] = field(default_factory=list)
    calls: list[AwsCall] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    _local: threading.local = field(default_factory=threading.local)

    def mark(self) -> tuple[int, int]:
        with self.lock:
            return len(self.invocations), len(self.calls)

    def since(self, mark: tuple[int, int]) -> tuple[list[Invocation], list[AwsCall]]:
        with self.lock:
            return list(self.invocations[mark[0] :]), list(self.calls[mark[1] :])

    @contextmanager
    def installed(self) -> Iterator[Meter]:
        from botocore.client import BaseClient

        from local.runtime.lambdas import LocalFunction

        meter = self
        original_resolve = LocalFunction.resolve
        original_call = getattr(BaseClient, "_make_api_call")  # noqa: B009 - private to botocore

        def resolve(function: LocalFunction) -> Any:
            handler = original_resolve(function)
            name = function.spec_name or function.logical_id

            def timed(event: Any, context: Any) -> Any:
                records = event.get("Records", []) if isinstance(event, dict) else []
                sqs = sum(1 for r in records if isinstance(r, dict) and r.get("eventSource") == "aws:sqs")
                previous = getattr(meter._local, "function", None)
                meter._local.function = name
                started = time.perf_counter()
                try:
                    return handler(event, context)
                finally:
                    elapsed = time.perf_counter() - started
                    meter._local.function = previous
                    with meter.lock:
                        meter.invocations.append(Invocation(name, function.memory_mb, elapsed, sqs))

            return timed

        def make_api_call(client: Any, operation: str, params: dict[str, Any]) -> Any:
            response = original_call(client, operation, params)
            function = getattr(meter._local, "function", None)
            if function is not None:
                service = client.meta.service_model.service_name
                with meter.lock:
                    meter.calls.extend(_describe_call(function, service, operation, params, response))
            return response

        with (
            mock.patch.object(LocalFunction, "resolve", resolve),
            mock.patch.object(BaseClient, "_make_api_call", make_api_call),
        ):
            yield self


def _describe_call(
    function: str, service: str, operation: str, params: dict[str, Any], response: Any
) -> list[AwsCall]:
    if service != "dynamodb" or (operation not in DYNAMO_READS and operation not in DYNAMO_WRITES):
        return [AwsCall(function, service, operation)]
    factor = DYNAMO_READS.get(operation) or DYNAMO_WRITES[operation]
    consistent = bool(params.get("ConsistentRead"))
    found: list[AwsCall] = []
    if operation in ("GetItem", "PutItem", "UpdateItem", "DeleteItem"):
        found.append(AwsCall(function, service, operation, params.get("TableName", ""), factor, consistent))
    elif operation in ("Query", "Scan"):
        count = max(int(response.get("Count", 0)) if isinstance(response, dict) else 0, 1)
        found.append(
            AwsCall(function, service, operation, params.get("TableName", ""), count * factor, consistent)
        )
    elif operation == "BatchGetItem":
        for table, spec in params.get("RequestItems", {}).items():
            found.append(AwsCall(function, service, operation, table, float(len(spec.get("Keys", [])))))
    elif operation == "BatchWriteItem":
        for table, requests_ in params.get("RequestItems", {}).items():
            found.append(AwsCall(function, service, operation, table, float(len(requests_))))
    else:  # TransactWriteItems / TransactGetItems
        per_table: Counter[str] = Counter()
        for item in params.get("TransactItems", []):
            for body in item.values():
                per_table[body.get("TableName", "")] += 1
        found.extend(AwsCall(function, service, operation, t, n * factor, True) for t, n in per_table.items())
    return found


@contextmanager
def running_system(**options: Any) -> Iterator[tuple[EmbeddedSystem, EventClock]]:
    """EmbeddedSystem(**options) on the event clock (local/virtual_time.py): many posts are in flight at
    once, so time may jump only when the whole system is idle."""
    with EmbeddedSystem(**options, virtual_time="events") as system:
        assert system.events is not None
        yield system, system.events


# -------------------------------------------------------------------------------------- observing


def sandbox_get(system: EmbeddedSystem, path: str) -> Any:
    answer = requests.get(f"{system.sandbox_url}/_sandbox/{path}", timeout=30)
    answer.raise_for_status()
    return answer.json()


def tiktok_calls(system: EmbeddedSystem) -> Counter[str]:
    """Calls to TikTok per path, all tokens together (OAuth calls count under the client key)."""
    totals: Counter[str] = Counter()
    for paths in sandbox_get(system, "calls")["by_token"].values():
        for path, count in paths.items():
            totals[path] += int(count)
    return totals


def tiktok_statuses(system: EmbeddedSystem) -> dict[str, Counter[str]]:
    raw = sandbox_get(system, "calls")["statuses"]
    return {path: Counter({s: int(n) for s, n in by.items()}) for path, by in raw.items()}


def execution_arn(system: EmbeddedSystem, post_id: str) -> str:
    return system.rt.state_machine_arn.replace(":stateMachine:", ":execution:") + f":{post_id}"


def execution_status(system: EmbeddedSystem, post_id: str) -> str | None:
    sfn = system.rt.in_process_client("stepfunctions")
    try:
        return str(sfn.describe_execution(executionArn=execution_arn(system, post_id))["status"])
    except sfn.exceptions.ExecutionDoesNotExist:
        return None


def state_transitions(system: EmbeddedSystem, post_id: str) -> dict[str, Any]:
    """StateEntered events (what Standard workflows bill) and the states' names, in order."""
    history = system.rt.execution_history(execution_arn(system, post_id))
    entered = [e for e in history if e["type"].endswith("StateEntered")]
    names = [e.get("stateEnteredEventDetails", {}).get("name", "?") for e in entered]
    return {"count": len(entered), "states": names}


def _plain(value: Any) -> Any:
    from boto3.dynamodb.types import TypeDeserializer

    deserializer = TypeDeserializer()
    return {k: deserializer.deserialize(v) for k, v in value.items()}


def _json_default(value: Any) -> Any:
    from decimal import Decimal

    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, set):
        return sorted(value, key=str)
    raw = getattr(value, "value", value)  # boto3's Binary
    if isinstance(raw, bytes | bytearray):
        return "b" * len(raw)  # same size, for item-size estimates
    return str(value)


def _jsonable(value: Any) -> Any:
    return json.loads(json.dumps(value, default=_json_default))


def table_name(system: EmbeddedSystem, env_var: str) -> str:
    return system.rt.function_env("finish").get(env_var) or system.rt.function_env("api")[env_var]


def scan_table(system: EmbeddedSystem, env_var: str) -> list[dict[str, Any]]:
    """Every item of one of our tables, read straight from DynamoDB (no handler runs)."""
    dynamodb = system.rt.in_process_client("dynamodb")
    items: list[dict[str, Any]] = []
    kwargs: dict[str, Any] = {"TableName": table_name(system, env_var)}
    while True:
        with between_handler_runs():
            page = dynamodb.scan(**kwargs)
        items.extend(_jsonable(_plain(item)) for item in page.get("Items", []))
        if "LastEvaluatedKey" not in page:
            return items
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def post_record(system: EmbeddedSystem, post_id: str) -> dict[str, Any] | None:
    dynamodb = system.rt.in_process_client("dynamodb")
    with between_handler_runs():
        answer = dynamodb.get_item(
            TableName=table_name(system, Env.POSTS_TABLE),
            Key={"post_id": {"S": post_id}},
            ConsistentRead=True,
        )
    item = answer.get("Item")
    return _jsonable(_plain(item)) if item else None


def item_size(item: dict[str, Any]) -> int:
    """Approximate DynamoDB item size: attribute names plus values as JSON text."""
    return sum(len(str(k)) + len(json.dumps(v, default=str)) for k, v in item.items())


def average_item_sizes(system: EmbeddedSystem) -> dict[str, float]:
    """Physical table name -> average item size in bytes (for request-unit estimates)."""
    sizes: dict[str, float] = {}
    for env_var in (
        Env.POSTS_TABLE,
        Env.ACCOUNTS_TABLE,
        Env.TOKENS_TABLE,
        Env.QUOTA_TABLE,
        Env.IDEMPOTENCY_TABLE,
    ):
        try:
            items = scan_table(system, env_var)
        except KeyError:
            continue
        if items:
            sizes[table_name(system, env_var)] = sum(item_size(i) for i in items) / len(items)
    return sizes


def settle(system: EmbeddedSystem, timeout: float = 60.0, quiet_for: float = 0.5) -> None:
    """Until nothing is left to happen: no webhook pending, nothing scheduled in the sandbox, the
    functions' queues empty, no handler run, for `quiet_for` seconds in a row."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        busy = (
            not system.rt.activity.quiet_for(quiet_for)
            or sandbox_get(system, "health")["scheduled"] > 0
            or any(d["state"] == "pending" for d in sandbox_get(system, "webhooks")["deliveries"])
            or not system.rt.queues_drained()
        )
        if not busy:
            return
        time.sleep(0.05)
    raise TimeoutError(f"the system did not settle within {timeout} s")


def wait_until(check: Any, timeout: float, what: str, interval: float = 0.05) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(interval)
    raise TimeoutError(f"{what} did not happen within {timeout} s")


def iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def by_function(invocations: list[Invocation]) -> dict[str, list[Invocation]]:
    grouped: dict[str, list[Invocation]] = defaultdict(list)
    for invocation in invocations:
        grouped[invocation.function].append(invocation)
    return grouped
