"""Workflow step CheckStatus: polling when no webhook came in time (functions.posting.outcome)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from functions.handlers.step import step_handler
from functions.posting.outcome import check_status

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext

    from functions.posting.step_results import OutcomeResult
    from functions.wiring import Wiring


@step_handler
def handler(w: Wiring, event: dict[str, Any], _context: LambdaContext) -> OutcomeResult:
    return check_status(w, event["post_id"])
