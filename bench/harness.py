"""Driving the embedded system for the cost and resilience runs: a synthesized app, meters on the local
runtime, and views of the sandbox and of our own records. Nothing here changes how the system behaves.
"""

from __future__ import annotations

import contextlib
import io
import json
import math
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
    index: str = ""  # DynamoDB Query or Scan: the index read, if not the table


@dataclass
class Meter:
    """Every handler run of the local runtime (function, memory, duration) and every AWS API call made
    inside one (service, operation; DynamoDB items), observed by wrapping the runtime's handler lookup
    and botocore's request path. Handler runs are serialised by the runtime, so durations do not
    include waiting for the lock.

    With `hash_keys` (physical table name -> its partition key attribute, `table_hash_keys`), every
    item a handler writes is also counted by table and partition key value (`partition_writes`)."""

    invocations: list[Invocation] = field(default_factory=list)
    calls: list[AwsCall] = field(default_factory=list)
    hash_keys: dict[str, str] = field(default_factory=dict)
    partition_writes: Counter[tuple[str, str]] = field(default_factory=Counter)
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
                written = _written_keys(meter.hash_keys, operation, params) if service == "dynamodb" else []
                with meter.lock:
                    meter.calls.extend(_describe_call(function, service, operation, params, response))
                    meter.partition_writes.update(written)
            return response

        with (
            mock.patch.object(LocalFunction, "resolve", resolve),
            mock.patch.object(BaseClient, "_make_api_call", make_api_call),
        ):
            yield self


def _key_value(value: Any) -> str:
    """A key attribute as DynamoDB's wire format holds it ({"S": "x"}), as text."""
    if isinstance(value, dict) and len(value) == 1:
        return str(next(iter(value.values())))
    return str(value)


def _written_keys(hash_keys: dict[str, str], operation: str, params: dict[str, Any]) -> list[tuple[str, str]]:
    """(table, partition key value) of every item a write request writes."""
    if not hash_keys:
        return []
    found: list[tuple[str, str]] = []

    def add(table: str, item: Any) -> None:
        attribute = hash_keys.get(table)
        if attribute and isinstance(item, dict) and attribute in item:
            found.append((table, _key_value(item[attribute])))

    if operation == "PutItem":
        add(params.get("TableName", ""), params.get("Item"))
    elif operation in ("UpdateItem", "DeleteItem"):
        add(params.get("TableName", ""), params.get("Key"))
    elif operation == "BatchWriteItem":
        for table, requests_ in params.get("RequestItems", {}).items():
            for request in requests_:
                body = request.get("PutRequest", {}).get("Item") or request.get("DeleteRequest", {}).get(
                    "Key"
                )
                add(table, body)
    elif operation == "TransactWriteItems":
        for entry in params.get("TransactItems", []):
            for kind, body in entry.items():
                if kind != "ConditionCheck":
                    add(body.get("TableName", ""), body.get("Item") or body.get("Key"))
    return found


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
        # What DynamoDB bills: the items read (ScannedCount), whether a filter kept them or not.
        answer: dict[str, Any] = response if isinstance(response, dict) else {}
        count = max(int(answer.get("ScannedCount") or answer.get("Count") or 0), 1)
        table, index = params.get("TableName", ""), params.get("IndexName", "")
        found.append(AwsCall(function, service, operation, table, count * factor, consistent, index))
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


_QUERY_PARTITION = threading.local()


@contextmanager
def partitioned_queries() -> Iterator[None]:
    """moto's DynamoDB answers every Query by reading and sorting every item of the table, then keeping
    the partition asked for (`Table.all_items` in `Table.query`): its cost grows with the table, where
    DynamoDB's grows with the items returned. While this is installed, a Query looks only at the items of
    its partition (the table's own key: that hash key's items; an index: the items whose key attributes
    match), which `Table.query` then filters, sorts and pages exactly as before, so every answer is the
    same. Without it the emulator, not the system, dominates how a run's time grows with its size."""
    from moto.dynamodb.models.table import Table

    original_query, original_all_items = Table.query, Table.all_items

    def query(table: Any, hash_key: Any, *args: Any, **kwargs: Any) -> Any:
        index_name = kwargs.get("index_name", args[6] if len(args) > 6 else None)
        conditions = kwargs.get("hash_key_conditions") or []
        if index_name is None and hash_key is not None:
            _QUERY_PARTITION.hint = (table, None, hash_key)
        elif index_name is not None and conditions:
            _QUERY_PARTITION.hint = (table, list(conditions), None)
        try:
            return original_query(table, hash_key, *args, **kwargs)
        finally:
            _QUERY_PARTITION.hint = None

    def all_items(table: Any) -> Any:
        hint = getattr(_QUERY_PARTITION, "hint", None)
        if hint is None or hint[0] is not table:
            return original_all_items(table)
        _QUERY_PARTITION.hint = None  # once per query
        _, conditions, hash_key = hint
        if conditions is None:
            bucket = dict.get(table.items, hash_key)
            items = [] if bucket is None else list(bucket.values()) if table.range_key_attr else [bucket]
        else:
            every = (
                item
                for bucket in table.items.values()
                for item in (bucket.values() if table.range_key_attr else [bucket])
            )
            items = [
                item
                for item in every
                if all(item.attrs.get(name) and item.attrs.get(name) == value for name, value in conditions)
            ]
        return sorted(items, key=lambda x: (x.hash_key, x.range_key) if x.range_key else x.hash_key)

    with mock.patch.object(Table, "query", query), mock.patch.object(Table, "all_items", all_items):
        yield


@contextmanager
def running_system(**options: Any) -> Iterator[tuple[EmbeddedSystem, EventClock]]:
    """EmbeddedSystem(**options) on the event clock (local/virtual_time.py): many posts are in flight at
    once, so time may jump only when the whole system is idle. DynamoDB queries read their partition
    only (`partitioned_queries`)."""
    with partitioned_queries(), EmbeddedSystem(**options, virtual_time="events") as system:
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


TABLES = (Env.POSTS_TABLE, Env.ACCOUNTS_TABLE, Env.TOKENS_TABLE, Env.QUOTA_TABLE, Env.IDEMPOTENCY_TABLE)


def table_contents(system: EmbeddedSystem) -> dict[str, tuple[int, float]]:
    """Table (its environment variable, e.g. POSTS_TABLE) -> (items, average item size in bytes)."""
    found: dict[str, tuple[int, float]] = {}
    for env_var in TABLES:
        try:
            items = scan_table(system, env_var)
        except KeyError:
            continue
        if items:
            found[env_var] = (len(items), sum(item_size(i) for i in items) / len(items))
    return found


def average_item_sizes(
    system: EmbeddedSystem, contents: dict[str, tuple[int, float]] | None = None
) -> dict[str, float]:
    """Physical table name -> average item size in bytes (for request-unit estimates)."""
    contents = table_contents(system) if contents is None else contents
    return {table_name(system, env_var): size for env_var, (_count, size) in contents.items()}


def request_units(calls: list[AwsCall], item_sizes: dict[str, float]) -> tuple[float, float]:
    """DynamoDB on-demand (read, write) request units of `calls`, from each table's average item size: a
    read of one item is its size in 4 KB units (half for an eventually consistent read), a Query or Scan
    the size of all the items it read rounded up once, a write each item's size in 1 KB units; the
    transactions' double price is already in `AwsCall.items`."""
    read = write = 0.0
    for c in calls:
        if c.service != "dynamodb" or not c.items:
            continue
        size = item_sizes.get(c.table, 1024.0)
        if c.operation in ("Query", "Scan"):
            read += math.ceil(c.items * size / 4096) * (1.0 if c.consistent else 0.5)
        elif c.operation in DYNAMO_READS:
            read += c.items * math.ceil(size / 4096) * (1.0 if c.consistent else 0.5)
        else:
            write += c.items * math.ceil(size / 1024)
    return read, write


def table_hash_keys(system: EmbeddedSystem) -> dict[str, str]:
    """Physical table name -> its partition key attribute, for every table of the stack."""
    dynamodb = system.rt.in_process_client("dynamodb")
    found: dict[str, str] = {}
    for name in dynamodb.list_tables()["TableNames"]:
        schema = dynamodb.describe_table(TableName=name)["Table"]["KeySchema"]
        found[name] = next(k["AttributeName"] for k in schema if k["KeyType"] == "HASH")
    return found


def add_creator(
    system: EmbeddedSystem,
    index: int,
    *,
    prefix: str,
    alias: str,
    preferences: dict[str, Any],
    creator_fields: dict[str, Any] | None = None,
) -> tuple[str, str, str]:
    """A new sandbox creator (`POST /_sandbox/creators`, with `creator_fields` such as its own
    `post_cap`), connected through the OAuth flow as `alias` with these posting preferences:
    (username, open_id, alias)."""
    username, open_id = f"{prefix}_{index:03d}", f"{prefix}-open-id-{index:03d}"
    creator = {"username": username, "nickname": f"{prefix} {index}", "open_id": open_id}
    answer = requests.post(
        f"{system.sandbox_url}/_sandbox/creators", json={**creator, **(creator_fields or {})}, timeout=10
    )
    answer.raise_for_status()
    connected = system.connect(username, alias=alias)
    if connected.status_code != 200:
        raise RuntimeError(f"connecting {username} failed: {connected.status_code} {connected.text[:300]}")
    requests.put(
        f"{system.api_url}/accounts/{alias}/preferences", json=preferences, timeout=30
    ).raise_for_status()
    return username, open_id, alias


def settle(system: EmbeddedSystem, timeout: float = 60.0, quiet_for: float = 0.5) -> None:
    """Until nothing is left to happen: no webhook pending, nothing scheduled in the sandbox, the
    functions' queues empty, no schedule due, no handler run, for `quiet_for` seconds in a row."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        # The cheap checks first: the list of webhook deliveries grows with every post.
        busy = (
            not system.rt.activity.quiet_for(quiet_for)
            or not system.rt.queues_drained()
            or system.rt.schedules_next_due() == 0.0
            or sandbox_get(system, "health")["scheduled"] > 0
            or any(d["state"] == "pending" for d in sandbox_get(system, "webhooks")["deliveries"])
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
