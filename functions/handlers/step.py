"""Powertools wiring shared by the workflow step handlers: structured logs keyed by post, metrics, traces.

A step handler receives the state machine's payload ({"post_id": ..., ...}) and returns a small dict.
Exceptions propagate unchanged: their class names are the error types the state machine retries or
catches (functions/posting/errors.py). A payload without a field the step needs is a StepInputError that
names it, before any work (checked without pydantic, which most steps never load: docs/decisions.md).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, cast, overload

from aws_lambda_powertools.utilities.typing import LambdaContext

from functions import wiring
from functions.observability import logger, metrics, tracer
from functions.settings import settings

Step = Callable[[wiring.Wiring, dict[str, Any], LambdaContext], Any]
Handler = Callable[[dict[str, Any], LambdaContext], Any]


class StepInputError(ValueError):
    """The state machine sent a payload the step cannot work from: which field, and what it got."""


def checked_input(event: object, required: tuple[str, ...]) -> dict[str, Any]:
    """The payload, once each `required` field is a non-empty string."""
    if not isinstance(event, dict):
        raise StepInputError(f"the step input must be a JSON object, not {type(event).__name__}")
    for name in required:
        value = event.get(name)
        if not isinstance(value, str) or not value:
            got = "nothing" if value is None else f"{type(value).__name__} {value!r}"[:80]
            raise StepInputError(f"the step input needs {name} (a non-empty string), got {got}")
    return event


@overload
def step_handler(step: Step) -> Handler: ...


@overload
def step_handler(*, required: tuple[str, ...]) -> Callable[[Step], Handler]: ...


def step_handler(
    step: Step | None = None, *, required: tuple[str, ...] = ("post_id",)
) -> Handler | Callable[[Step], Handler]:
    """`@step_handler` (the payload needs post_id) or `@step_handler(required=(...))`."""
    if step is None:
        return functools.partial(_wrapped, required=required)
    return _wrapped(step, required=required)


def _wrapped(step: Step, *, required: tuple[str, ...]) -> Handler:
    @logger.inject_lambda_context(log_event=False)
    @tracer.capture_lambda_handler(capture_response=False)
    @metrics.log_metrics
    @functools.wraps(step)
    def handler(event: dict[str, Any], context: LambdaContext) -> Any:
        post_id = event.get("post_id") if isinstance(event, dict) else None
        logger.append_keys(post_id=post_id)
        try:
            result = step(wiring.for_settings(settings()), checked_input(event, required), context)
        except Exception as exc:
            logger.info(
                "step ended with an error", extra={"error_type": type(exc).__name__, "error": str(exc)}
            )
            raise
        logger.info("step done", extra={"result": result})
        return result

    return cast(Handler, handler)
