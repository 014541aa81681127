"""Workflow steps Finish and RecordFailure (functions.posting.finish)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from functions.handlers.step import step_handler
from functions.posting.finish import finish

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext

    from functions.posting.step_results import FinishResult
    from functions.wiring import Wiring


@step_handler
def handler(w: Wiring, event: dict[str, Any], _context: LambdaContext) -> FinishResult:
    return finish(w, event["post_id"], outcome=event.get("outcome"), error=event.get("error"))
