"""Lambda functions run in process: each deployed function's handler is called in this Python process with
the function's own environment, instead of the Docker container moto would start.

moto reaches a function in three ways, and all three are patched while a registry is active:
`LambdaBackend.invoke` and `LambdaSimpleBackend.invoke` (the Lambda API, which Step Functions tasks use)
and `LambdaFunction.invoke` (S3 and SNS notifications, CloudFormation custom resources).

`os.environ` is process-wide, so handler runs are serialised by one re-entrant lock: the local account
behaves as if every function had a reserved concurrency of one. This also keeps moto's DynamoDB, which
does not apply conditional writes atomically across threads, consistent. A handler that waits for
another handler to run on a different thread would deadlock; none of this project's handlers do.
"""

from __future__ import annotations

import importlib
import json
import logging
import os
import threading
import time
import traceback
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from unittest import mock

LOG = logging.getLogger(__name__)

Handler = Callable[[Any, Any], Any]

# Keys a handler run set that the process did not have before (removed when the runtime stops).
_LEFT_SET: set[str] = set()
# One lock for the process: os.environ is shared by every thread.
_HANDLER_LOCK = threading.RLock()


class Activity:
    """How many handler runs are under way (running or waiting for the lock) and when that count last
    changed: what a virtual clock asks before it lets time jump (local/virtual_time.py)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.running = 0
        self.last_change = time.monotonic()

    @contextmanager
    def handler_run(self) -> Iterator[None]:
        self._change(+1)
        try:
            yield
        finally:
            self._change(-1)

    def _change(self, delta: int) -> None:
        with self._lock:
            self.running += delta
            self.last_change = time.monotonic()

    def quiet_for(self, seconds: float) -> bool:
        """No handler run under way, and none started or ended in the last `seconds`."""
        with self._lock:
            return self.running == 0 and time.monotonic() - self.last_change >= seconds


@dataclass
class FakeContext:
    """The attributes and method of the Lambda Python runtime's context object that handlers use."""

    function_name: str
    invoked_function_arn: str
    memory_limit_in_mb: int
    timeout_seconds: int = 30
    function_version: str = "$LATEST"
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    log_group_name: str = ""
    log_stream_name: str = "local"
    identity: Any = None
    client_context: Any = None
    _started: float = field(default_factory=time.monotonic, repr=False)

    def __post_init__(self) -> None:
        if not self.log_group_name:
            self.log_group_name = f"/aws/lambda/{self.function_name}"

    def get_remaining_time_in_millis(self) -> int:
        remaining = self.timeout_seconds - (time.monotonic() - self._started)
        return max(0, int(remaining * 1000))


class HandlerImportError(Exception):
    """The handler named by a function's Handler setting could not be loaded."""

    def __init__(self, error_type: str, message: str) -> None:
        super().__init__(message)
        self.error_type = error_type


@dataclass
class LocalFunction:
    """One deployed function, run in process."""

    name: str  # physical name, as moto created it
    arn: str
    logical_id: str
    handler: str  # "functions.handlers.prepare.handler"
    environment: dict[str, str]
    memory_mb: int = 128
    timeout_seconds: int = 3
    spec_name: str | None = None
    override: Handler | None = None
    role_arn: str | None = None
    # The role session's keys when the runtime enforces IAM (local/runtime/iam/), as Lambda's environment
    # carries them.
    credentials: dict[str, str] | None = None
    _loaded: Handler | None = field(default=None, repr=False)

    def resolve(self) -> Handler:
        """The callable: the override, or the handler imported on first use (so inside the mock)."""
        if self.override is not None:
            return self.override
        if self._loaded is None:
            module_name, _, attribute = self.handler.rpartition(".")
            try:
                module = importlib.import_module(module_name)
            except Exception as exc:
                raise HandlerImportError(
                    "Runtime.ImportModuleError", f"Unable to import module '{module_name}': {exc}"
                ) from exc
            target = getattr(module, attribute, None)
            if not callable(target):
                raise HandlerImportError(
                    "Runtime.HandlerNotFound", f"Handler '{attribute}' missing on module '{module_name}'"
                )
            self._loaded = target
        return self._loaded


@contextmanager
def applied_environment(values: Mapping[str, str]) -> Iterator[None]:
    """Set `values` in os.environ and restore the keys that had a value afterwards.

    Keys that were absent are left set rather than deleted: other threads (moto's state machine
    interpreter, botocore) copy os.environ while handlers run, and a key deleted between their listing
    and their read raises KeyError there. A stale function setting outside a handler run is harmless; the
    runtime removes them when it stops (`clear_left_environment`)."""
    previous = {key: os.environ[key] for key in values if key in os.environ}
    _LEFT_SET.update(key for key in values if key not in os.environ and key not in _LEFT_SET)
    os.environ.update(values)
    try:
        yield
    finally:
        for key, old in previous.items():
            os.environ[key] = old


@contextmanager
def between_handler_runs() -> Iterator[None]:
    """No handler runs meanwhile: for a reader of moto's in-process backends (a benchmark counting
    records), whose dictionaries are not safe to iterate while a handler writes to them."""
    with _HANDLER_LOCK:
        yield


def clear_left_environment() -> None:
    """Remove the keys handler runs left set (see applied_environment); call once no handler runs."""
    with _HANDLER_LOCK:
        for key in sorted(_LEFT_SET):
            os.environ.pop(key, None)
        _LEFT_SET.clear()


def error_payload(exc: BaseException) -> dict[str, Any]:
    """The payload Lambda returns for an unhandled exception; its errorType is what Step Functions
    matches in Retry and Catch."""
    error_type = exc.error_type if isinstance(exc, HandlerImportError) else type(exc).__name__
    return {
        "errorMessage": str(exc),
        "errorType": error_type,
        "stackTrace": traceback.format_tb(exc.__traceback__),
    }


def function_name_of(name_or_arn: str) -> str:
    """`my-fn` from `my-fn`, `my-fn:$LATEST` or `arn:aws:lambda:eu-west-1:123:function:my-fn[:qualifier]`."""
    if name_or_arn.startswith("arn:"):
        return name_or_arn.split(":")[6]
    return name_or_arn.split(":", 1)[0]


def _header(headers: Any, name: str) -> str | None:
    if not headers:
        return None
    for key, value in dict(headers).items():
        if str(key).lower() == name.lower():
            return str(value)
    return None


class InProcessLambdas:
    """Physical function name -> LocalFunction; patches moto so invocations run the handlers here."""

    def __init__(self, env_provider: Callable[[LocalFunction], dict[str, str]] | None = None) -> None:
        self._functions: dict[str, LocalFunction] = {}
        self._env_provider = env_provider or (lambda fn: dict(fn.environment))
        self._patches: list[Any] = []
        self.activity = Activity()

    def register(self, function: LocalFunction) -> None:
        self._functions[function.name] = function

    def get(self, name_or_arn: str) -> LocalFunction | None:
        return self._functions.get(function_name_of(name_or_arn))

    def __iter__(self) -> Iterator[LocalFunction]:
        return iter(list(self._functions.values()))

    # --- running a handler -------------------------------------------------------------------------

    def call(self, function: LocalFunction, event: Any) -> Any:
        """Run the handler with the function's environment; a JSON round trip on both sides, as Lambda
        serialises them. Exceptions propagate."""
        event = json.loads(json.dumps(event))
        context = FakeContext(
            function_name=function.name,
            invoked_function_arn=function.arn,
            memory_limit_in_mb=function.memory_mb,
            timeout_seconds=function.timeout_seconds,
        )
        with self.activity.handler_run(), _HANDLER_LOCK, applied_environment(self._env_provider(function)):
            result = function.resolve()(event, context)
        return json.loads(json.dumps(result))

    def invoke_payload(self, function: LocalFunction, body: Any, response_headers: dict[str, Any]) -> bytes:
        """What the Lambda Invoke API answers: the result as JSON, or an error payload with the
        `x-amz-function-error` header."""
        try:
            raw = body.decode() if isinstance(body, bytes | bytearray) else body
            event = json.loads(raw) if raw else {}
            return json.dumps(self.call(function, event)).encode()
        except Exception as exc:
            LOG.info(
                "function %s failed: %s: %s", function.spec_name or function.name, type(exc).__name__, exc
            )
            response_headers["x-amz-function-error"] = "Unhandled"
            return json.dumps(error_payload(exc)).encode()

    def _invoke_async(self, function: LocalFunction, body: Any) -> None:
        def run() -> None:
            self.invoke_payload(function, body, {})

        threading.Thread(target=run, name=f"lambda-event-{function.name}", daemon=True).start()

    # --- moto patches ------------------------------------------------------------------------------

    def _backend_invoke(self, original: Callable[..., Any]) -> Callable[..., Any]:
        registry = self

        def invoke(  # noqa: PLR0917 - moto's signature
            backend: Any, function_name: str, qualifier: Any, body: Any, headers: Any, response_headers: Any
        ) -> Any:
            function = registry.get(function_name)
            if function is None:
                return original(backend, function_name, qualifier, body, headers, response_headers)
            invocation_type = _header(headers, "X-Amz-Invocation-Type") or "RequestResponse"
            if invocation_type == "DryRun":
                return b""
            if invocation_type == "Event":
                registry._invoke_async(function, body)
                return b""
            payload = registry.invoke_payload(function, body, response_headers)
            response_headers["Content-Length"] = str(len(payload))
            return payload

        return invoke

    def _function_invoke(self, original: Callable[..., Any]) -> Callable[..., Any]:
        registry = self

        def invoke(fn: Any, body: Any, request_headers: Any, response_headers: Any) -> Any:
            function = registry.get(str(fn.function_name))
            if function is None:
                # Not one of ours (a CDK provider function, say): never try Docker.
                response_headers["x-amz-function-error"] = "Unhandled"
                return json.dumps(
                    {
                        "errorType": "Runtime.Unavailable",
                        "errorMessage": f"{fn.function_name} ({fn.handler}) is not run by the local runtime",
                    }
                ).encode()
            if (_header(request_headers, "x-amz-invocation-type") or "RequestResponse") == "Event":
                registry._invoke_async(function, body)
                return b""
            return registry.invoke_payload(function, body, response_headers)

        return invoke

    def start(self) -> None:
        from moto.awslambda.models import LambdaBackend, LambdaFunction
        from moto.awslambda_simple.models import LambdaSimpleBackend

        for cls in (LambdaBackend, LambdaSimpleBackend):
            self._patches.append(mock.patch.object(cls, "invoke", self._backend_invoke(cls.invoke)))
        self._patches.append(
            mock.patch.object(LambdaFunction, "invoke", self._function_invoke(LambdaFunction.invoke))
        )
        for patch in self._patches:
            patch.start()

    def stop(self) -> None:
        while self._patches:
            self._patches.pop().stop()
