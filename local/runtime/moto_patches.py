"""Everything the runtime changes inside moto (besides running Lambda handlers, see lambdas.py). Each
function returns patches with start()/stop(), active only while a LocalAws runs.

Step Functions (where moto runs a state machine differently from AWS):
- Timestamp waits: measured in UTC and rounded up to whole seconds (moto subtracts the machine's local
  time from a UTC timestamp, so outside UTC a wait ends hours early or late, and it truncates, ending up
  to a second early; AWS never ends a wait early);
- fast time: Wait states and Retry back-offs return at once; TimeoutSeconds (task and machine) stays real;
- JSONata: moto ships no evaluator; jsonata-python is plugged in when it is installed;
- the interpreter's ERROR log of every caught failure is silenced (the history keeps them);
- the state machines CloudFormation created are copied into the executing backend, because moto's
  CloudFormation creates them in the backend that does not run executions.
S3: event notifications encode keys as AWS does (moto encodes the slashes too) and, in a versioned
bucket, carry the object's versionId as AWS's do (moto leaves it out).
CloudFormation: JSON templates are parsed as JSON (moto tries YAML first: 0.5 s for this template).
"""

from __future__ import annotations

import json
import logging
import math
import time
from datetime import UTC, datetime
from typing import Any
from unittest import mock
from urllib.parse import quote_plus

LOG = logging.getLogger(__name__)


class _NoSleep:
    @staticmethod
    def sleep(_seconds: float) -> None:
        return None


def _no_wait(_self: Any, env: Any, wait_seconds: int) -> None:
    return None


def fast_time_patches() -> list[Any]:
    from moto.stepfunctions.parser.asl.component.common.retry import retrier_decl
    from moto.stepfunctions.parser.asl.component.state.wait.wait_function import wait_function

    return [
        mock.patch.object(wait_function.WaitFunction, "_wait_interval", _no_wait),
        mock.patch.object(retrier_decl, "time", _NoSleep),
    ]


def _utc_wait_seconds(state: Any, env: Any) -> int:
    """A Timestamp wait's length, from now in UTC, rounded up."""
    from moto.stepfunctions.parser.asl.component.common.error_name.failure_event import (
        FailureEventException,
    )

    state.string.eval(env=env)
    text = env.stack.pop()
    target: datetime | None = state._from_timestamp_string(timestamp=text)
    if target is None:
        raise FailureEventException(state._create_failure_event(env, text))
    return math.ceil(target.replace(tzinfo=UTC).timestamp() - time.time())


def timestamp_wait_patches() -> list[Any]:
    from moto.stepfunctions.parser.asl.component.state.wait.wait_function import timestamp

    return [mock.patch.object(timestamp.Timestamp, "_get_wait_seconds", _utc_wait_seconds)]


def jsonata_patches() -> list[Any]:
    try:
        import jsonata
    except ImportError:  # pragma: no cover - jsonata-python is part of the local dependency group
        LOG.warning("jsonata-python is not installed: JSONata states and variables fail in moto")
        return []
    from moto.stepfunctions.parser.asl.jsonata import jsonata as moto_jsonata

    def evaluate(expression: str) -> Any:
        return jsonata.Jsonata(expression).evaluate(None)

    return [mock.patch.object(moto_jsonata, "_eval_jsonata", evaluate)]


def quiet_interpreter_patches() -> list[Any]:
    """moto's interpreter logs every caught state failure (an absent optional path in a Choice, a Catch
    taken) at ERROR with a long dump: noise, since the execution history records them. Kept at CRITICAL
    while the runtime runs."""
    return [_LoggerLevel("moto.stepfunctions.parser.asl.component.eval_component", logging.CRITICAL)]


class _LoggerLevel:
    """A patch-like start()/stop() pair for a logger's level (setLevel also clears logging's cache)."""

    def __init__(self, name: str, level: int) -> None:
        self._logger = logging.getLogger(name)
        self._level = level
        self._saved = logging.NOTSET

    def start(self) -> None:
        self._saved = self._logger.level
        self._logger.setLevel(self._level)

    def stop(self) -> None:
        self._logger.setLevel(self._saved)


def copy_to_executing_backend(sfn_client: Any, account: str, region: str, arn: str) -> str:
    """Create the CloudFormation-made machine (definition already resolved) in the executing backend,
    under the same name and therefore the same ARN."""
    from moto.stepfunctions.models import stepfunctions_backends

    machine = stepfunctions_backends[account][region].describe_state_machine(arn)
    kwargs: dict[str, Any] = {
        "name": machine.name,
        "definition": machine.definition,
        "roleArn": machine.roleArn,
        "type": getattr(machine, "type", None) or "STANDARD",
    }
    created = sfn_client.create_state_machine(**kwargs)
    return str(created["stateMachineArn"])


def _aws_key_encoding(value: str, *_args: Any, **_kwargs: Any) -> str:
    """`posts/a/b c.mp4` -> `posts/a/b+c.mp4`, as AWS writes keys in S3 event records."""
    return quote_plus(value, safe="/")


def _with_version_id(original: Any) -> Any:
    def s3_event(event_name: str, bucket: Any, key: Any, notification_id: str) -> dict[str, Any]:
        event: dict[str, Any] = original(event_name, bucket, key, notification_id)
        version = getattr(key, "version_id", None)
        if getattr(bucket, "is_versioned", False) and version and version != "null":
            for record in event.get("Records", []):
                record["s3"]["object"]["versionId"] = str(version)
        return event

    return s3_event


def s3_event_key_patches() -> list[Any]:
    from moto.s3 import notifications

    return [
        mock.patch.object(notifications, "quote_plus", _aws_key_encoding),
        mock.patch.object(notifications, "_get_s3_event", _with_version_id(notifications._get_s3_event)),
    ]


def json_template_patches() -> list[Any]:
    from moto.cloudformation.models import Stack

    original = Stack.parse_template

    def parse_template(template: str) -> dict[str, Any]:
        try:
            parsed = json.loads(template)
        except ValueError:
            return original(template)
        return parsed if isinstance(parsed, dict) else original(template)

    return [mock.patch.object(Stack, "parse_template", staticmethod(parse_template))]


def runtime_patches(fast_time: bool) -> list[Any]:
    """Every patch of this module, as a LocalAws starts them (fast time only when asked for)."""
    return [
        *jsonata_patches(),
        *timestamp_wait_patches(),
        *(fast_time_patches() if fast_time else []),
        *quiet_interpreter_patches(),
        *s3_event_key_patches(),
        *json_template_patches(),
    ]
