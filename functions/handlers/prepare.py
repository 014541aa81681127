"""Workflow step Prepare (functions.posting.prepare)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from functions.handlers.step import step_handler
from functions.posting.errors import QuotaWaitError
from functions.posting.prepare import prepare
from functions.posting.waiting_note import note_waiting

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext

    from functions.posting.step_results import PrepareResult
    from functions.wiring import Wiring


@step_handler
def handler(w: Wiring, event: dict[str, Any], _context: LambdaContext) -> PrepareResult:
    try:
        return prepare(w, event["post_id"])
    except QuotaWaitError as exc:  # the state machine retries; the post's history says why it waits
        note_waiting(w, event["post_id"], exc)
        raise
