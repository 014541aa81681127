"""Workflow step AwaitOutcome: keeps the task token until TikTok reports (functions.posting.outcome)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from functions.handlers.step import step_handler
from functions.posting.outcome import register_wait

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext

    from functions.wiring import Wiring


@step_handler(required=("post_id", "task_token"))
def handler(w: Wiring, event: dict[str, Any], _context: LambdaContext) -> None:
    register_wait(w, event["post_id"], event["task_token"])
