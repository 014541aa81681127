"""Powertools wiring shared by the workflow step handlers: structured logs keyed by post, metrics, traces.

A step handler receives the state machine's payload ({"post_id": ..., ...}) and returns a small dict.
Exceptions propagate unchanged: their class names are the error types the state machine retries or
catches (functions/posting/errors.py).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, cast

from aws_lambda_powertools.utilities.typing import LambdaContext

from functions import wiring
from functions.observability import logger, metrics, tracer
from functions.settings import settings

Step = Callable[[wiring.Wiring, dict[str, Any], LambdaContext], Any]


def step_handler(step: Step) -> Callable[[dict[str, Any], LambdaContext], Any]:
    @logger.inject_lambda_context(log_event=False)
    @tracer.capture_lambda_handler(capture_response=False)
    @metrics.log_metrics
    @functools.wraps(step)
    def handler(event: dict[str, Any], context: LambdaContext) -> Any:
        post_id = event.get("post_id") if isinstance(event, dict) else None
        logger.append_keys(post_id=post_id)
        try:
            result = step(wiring.for_settings(settings()), event, context)
        except Exception as exc:
            logger.info(
                "step ended with an error", extra={"error_type": type(exc).__name__, "error": str(exc)}
            )
            raise
        logger.info("step done", extra={"result": result})
        return result

    return cast(Callable[[dict[str, Any], LambdaContext], Any], handler)
