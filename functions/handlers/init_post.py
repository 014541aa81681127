"""Workflow step InitPost (functions.posting.init)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from functions.handlers.step import step_handler
from functions.posting.init import init_post

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext

    from functions.posting.step_results import InitStepResult
    from functions.wiring import Wiring


@step_handler
def handler(w: Wiring, event: dict[str, Any], _context: LambdaContext) -> InitStepResult:
    return init_post(w, event["post_id"])
