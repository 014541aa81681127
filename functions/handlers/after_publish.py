"""After publishing (functions.posting.after_publish, functions.posting.snapshots), invoked by EventBridge
Scheduler one-off schedules with {"task": "link" | "snapshot", "post_id": ..., "value": ...}."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from functions.handlers.step import step_handler
from functions.posting.after_publish import find_link
from functions.posting.snapshots import take_snapshots

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext

    from functions.posting.step_results import LinkSearchResult, SnapshotResult
    from functions.wiring import Wiring


@step_handler
def handler(w: Wiring, event: dict[str, Any], context: LambdaContext) -> LinkSearchResult | SnapshotResult:
    task, post_id, value = event.get("task"), str(event.get("post_id") or ""), event.get("value")
    if not post_id or not isinstance(value, int) or isinstance(value, bool):
        raise ValueError(f"an after-publish event needs post_id and an integer value, not {event!r}")
    schedules = w.schedules.targeting(context.invoked_function_arn)  # more work of its own, later
    if task == "link":
        return find_link(w, post_id, value, schedules)
    if task == "snapshot":
        return take_snapshots(w, post_id, value, schedules)
    raise ValueError(f"unknown after-publish task {task!r}: link or snapshot")
