"""Workflow step UploadChunks (functions.posting.transfer); stops before the Lambda's own deadline."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from functions.handlers.step import step_handler
from functions.posting.transfer import upload_chunks

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext

    from functions.posting.step_results import UploadResult
    from functions.wiring import Wiring


@step_handler
def handler(w: Wiring, event: dict[str, Any], context: LambdaContext) -> UploadResult:
    return upload_chunks(w, event["post_id"], remaining_ms=context.get_remaining_time_in_millis)
