"""Powertools Logger, Tracer and Metrics wired once for every function, with secrets kept out of logs.

Handlers import `logger`, `tracer` and `metrics` from here. The formatter redacts any field whose name
says it holds a secret and any value shaped like a TikTok token, wherever it appears in a log record,
so a careless `logger.info(response)` still cannot leak a token.
"""

from __future__ import annotations

import os
import re
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.logging.formatter import LambdaPowertoolsFormatter
from aws_lambda_powertools.metrics.provider.cloudwatch_emf.cloudwatch import AmazonCloudWatchEMFProvider

if TYPE_CHECKING:
    from aws_lambda_powertools.logging.types import PowertoolsLogRecord

REDACTED = "[redacted]"

SECRET_KEYS = frozenset(
    {
        "access_token",
        "refresh_token",
        "client_secret",
        "code",
        "state",
        "token",
        "task_token",
        "authorization",
        "cookie",
        "set-cookie",
        "password",
        "secret",
        "tiktok-signature",
    }
)

# TikTok token shapes (act./rft./clt.), bearer headers and OAuth query parameters inside free text.
_SECRET_PATTERNS = (
    re.compile(r"\b(act|rft|clt)\.[A-Za-z0-9._~+/=-]{8,}"),
    re.compile(r"(?i)(bearer\s+)[A-Za-z0-9._~+/=-]+"),
    re.compile(r"(?i)\b(code|state|access_token|refresh_token|client_secret|token)=[^&\s\"']+"),
)


def redact_text(text: str) -> str:
    """Free text with every token-like substring replaced."""
    text = _SECRET_PATTERNS[0].sub(REDACTED, text)
    text = _SECRET_PATTERNS[1].sub(lambda m: m.group(1) + REDACTED, text)
    return _SECRET_PATTERNS[2].sub(lambda m: m.group(1) + "=" + REDACTED, text)


def redact(value: Any) -> Any:
    """A copy of a log value with secret fields and token-shaped strings removed, at any depth."""
    if isinstance(value, dict):
        return {
            k: (REDACTED if str(k).lower() in SECRET_KEYS and v not in (None, "") else redact(v))
            for k, v in value.items()
        }
    if isinstance(value, list | tuple):
        return [redact(v) for v in value]
    if isinstance(value, str):
        return redact_text(value)
    return value


SERVICE_NAME_ENV = "POWERTOOLS_SERVICE_NAME"


def _running_service(default: Any) -> Any:
    """The service of the function running now, read from its environment at each record. In Lambda it
    never changes; the local runtime runs every function in one process, each with its own environment."""
    return os.environ.get(SERVICE_NAME_ENV) or default


class RedactingFormatter(LambdaPowertoolsFormatter):
    """Powertools' JSON formatter, with every record passed through `redact` before serialisation."""

    def serialize(self, log: dict[str, Any] | PowertoolsLogRecord) -> str:
        record = dict(log)
        record["service"] = _running_service(record.get("service"))
        return super().serialize(redact(record))


class _RunningServiceMetrics(AmazonCloudWatchEMFProvider):
    """EMF metrics with the running function's service dimension (see `_running_service`)."""

    def serialize_metric_set(self, *args: Any, **kwargs: Any) -> Any:
        self.service = _running_service(self.service)
        return super().serialize_metric_set(*args, **kwargs)


logger = Logger(logger_formatter=RedactingFormatter(), log_uncaught_exceptions=True)
# Not Tracer()'s default patch-everything: that imports botocore, requests and sqlite3 while the handler
# module loads, undoing the lazy boto3 import (functions/store/clients.py). `trace_calls` patches the two
# libraries this code calls through, when it first builds a client for them.
tracer = Tracer(auto_patch=False)
metrics = Metrics(provider=_RunningServiceMetrics())

TRACED_LIBRARIES = ("botocore", "requests")
_traced: set[str] = set()


def trace_calls(library: str) -> None:
    """Record `library`'s calls as X-Ray subsegments from now on (patches once; no-op with tracing off).

    X-Ray patches the library's classes, so clients built before this call are traced too."""
    if library not in TRACED_LIBRARIES:
        raise ValueError(f"not a traced library: {library!r} (one of {TRACED_LIBRARIES})")
    if library not in _traced:
        tracer.patch([library])
        _traced.add(library)
