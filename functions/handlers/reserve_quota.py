"""Workflow step ReserveQuota (functions.posting.reserve)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from functions.handlers.step import step_handler
from functions.posting.reserve import reserve_quota

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext

    from functions.posting.step_results import ReserveResult
    from functions.wiring import Wiring


@step_handler
def handler(w: Wiring, event: dict[str, Any], _context: LambdaContext) -> ReserveResult:
    return reserve_quota(w, event["post_id"])
