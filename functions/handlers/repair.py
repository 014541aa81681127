"""Workflow step Repair (functions.posting.repair): runs with the repair layer (PyAV, Pillow)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from functions.handlers.step import step_handler

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext

    from functions.posting.step_results import RepairResult
    from functions.wiring import Wiring


@step_handler
def handler(w: Wiring, event: dict[str, Any], context: LambdaContext) -> RepairResult:
    from functions.posting.repair import repair_post

    return repair_post(w, event["post_id"], remaining_ms=context.get_remaining_time_in_millis)
