"""The log formatter keeps tokens and secrets out of every log line."""

from __future__ import annotations

import io
import json
import logging

import pytest
from aws_lambda_powertools import Logger

from functions.observability import REDACTED, RedactingFormatter, redact, redact_text


def _log_line(**extra: object) -> dict[str, object]:
    stream = io.StringIO()
    logger = Logger(service="redaction-test", logger_formatter=RedactingFormatter(), stream=stream)
    logger.info("calling TikTok with Bearer act.1234567890abcdef and ?code=xyz&state=abc", extra=extra)
    return json.loads(stream.getvalue())  # type: ignore[no-any-return]


def test_secret_fields_are_redacted_at_any_depth() -> None:
    line = _log_line(
        response={"access_token": "act.secretvalue123", "nested": [{"refresh_token": "rft.other456789"}]},
        client_secret="s3cr3t",
    )
    text = json.dumps(line)
    for secret in ("act.secretvalue123", "rft.other456789", "s3cr3t", "act.1234567890abcdef", "xyz", "=abc"):
        assert secret not in text
    assert line["client_secret"] == REDACTED
    assert "Bearer [redacted]" in str(line["message"])


def test_token_shapes_inside_free_text_are_redacted() -> None:
    assert redact_text("token act.ABCdef123456789 here") == f"token {REDACTED} here"
    assert redact_text("url?refresh_token=rft.x1&y=2") == f"url?refresh_token={REDACTED}&y=2"


def test_harmless_values_are_kept() -> None:
    value = {
        "post_id": "p-1",
        "status": "PUBLISH_COMPLETE",
        "bytes": 1024,
        "token": None,
        "items": [1, "two"],
    }
    assert redact(value) == value


def test_the_formatter_is_what_functions_use() -> None:
    from functions.observability import logger

    handler = logger.registered_handler
    assert isinstance(handler.formatter, RedactingFormatter)
    assert logging.getLogger(logger.name).handlers


def test_each_record_and_metric_carries_the_running_functions_service(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The local runtime runs every function in one process: the service comes from the environment applied
    for the function running now, not from whichever function happened to load the module first."""
    from functions.observability import metrics

    stream = io.StringIO()
    logger = Logger(service="first-loaded", logger_formatter=RedactingFormatter(), stream=stream)
    for service in ("tiktok-publisher-prepare", "tiktok-publisher-init-post"):
        monkeypatch.setenv("POWERTOOLS_SERVICE_NAME", service)
        logger.info("step")
        assert json.loads(stream.getvalue().splitlines()[-1])["service"] == service
        metrics.add_metric(name="Probe", unit="Count", value=1)
        emitted = metrics.provider.serialize_metric_set()
        metrics.provider.clear_metrics()
        assert emitted["service"] == service
        assert emitted["_aws"]["CloudWatchMetrics"][0]["Dimensions"] == [["service"]]
