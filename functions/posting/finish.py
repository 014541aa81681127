"""Finish: the post's final record, quota given back where it is due, and the EventBridge event."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any, Protocol

from functions import metrics
from functions.ports import (
    CallsTikTok,
    HasClock,
    HasEventBus,
    HasPosts,
    HasQuota,
    HasSchedules,
    HasSettings,
)
from functions.post_status import TERMINAL, UNSUCCESSFUL, PostStatus
from functions.posting.after_publish import after_published
from functions.posting.quota import release_inbox, release_post, slot_holder
from functions.posting.records import public_view
from functions.store.events import EventPublishError

if TYPE_CHECKING:
    from functions.posting.step_results import FinishResult


class EndPorts(HasClock, HasPosts, HasQuota, HasEventBus, Protocol):
    """What ending a post needs: its slots given back, its end announced."""


class FinishPorts(CallsTikTok, HasSettings, HasPosts, HasQuota, HasEventBus, HasSchedules, Protocol):
    """Finish also starts what follows a publish."""


CLEARED_ON_FAILURE = dict.fromkeys(("task_token", "upload_url"))  # nothing left to resume or upload
STEP_ERRORS = {"PostRejectedError", "ReauthRequiredError", "QuotaWaitError", "RepairRefusedError"}


def failure_from(error: dict[str, Any]) -> tuple[str, str]:
    """(reason, detail) from the state machine's caught error {"Error": type, "Cause": Lambda error JSON}."""
    error_type = str(error.get("Error") or "UnknownError")
    message = ""
    cause = error.get("Cause")
    if isinstance(cause, str) and cause:
        try:
            parsed = json.loads(cause)
            message = str(parsed.get("errorMessage", "")) if isinstance(parsed, dict) else cause
        except json.JSONDecodeError:
            message = cause
    if error_type in STEP_ERRORS and ": " in message:
        reason, detail = message.split(": ", 1)
        return reason, detail
    if error_type == "TransientStepError":
        return "transient_failure", f"gave up after repeated temporary failures: {message}"
    if error_type == "States.Timeout":
        return "timeout", "a step took longer than allowed"
    return error_type.lower().replace(".", "_"), message or f"the workflow failed with {error_type}"


def finish(
    w: FinishPorts, post_id: str, *, outcome: dict[str, Any] | None, error: dict[str, Any] | None
) -> FinishResult:
    post = w.posts.get(post_id)
    if post is None:
        return {"post_id": post_id, "status": "MISSING"}
    now = w.now()
    if error is not None and post.get("status") not in TERMINAL:
        reason, detail = failure_from(error)
        w.posts.transition(
            post_id,
            "FAILED",
            now=now,
            note=detail,
            fields={"fail_reason": reason, "fail_detail": detail, **CLEARED_ON_FAILURE},
        )
    post = w.posts.get(post_id) or post
    status = str(post["status"])
    if status in UNSUCCESSFUL:
        give_back_slots(w, post, now)
    emit(w, post)
    if status == PostStatus.PUBLISH_COMPLETE:
        after_published(w, post_id)
    return {"post_id": post_id, "status": status}


def give_back_slots(w: EndPorts, post: dict[str, Any], now: int) -> None:
    """For a post that ended without publishing: a slot no init TikTok may count has used goes back; one
    TikTok counted (or may have: an init left unanswered) stays taken for its 24 hours, as TikTok counts it.
    A pending inbox share always goes back."""
    account_id = post["account_id"]
    if not post.get("publish_id") and not post.get("init_started_at"):
        release_post(w.quota, account_id=account_id, holder=slot_holder(post), now=now)
    release_inbox(w.quota, account_id=account_id, post_id=post["post_id"], now=now)


def detail_type(post: dict[str, Any]) -> str:
    status = post.get("status")
    if status == "PUBLISH_COMPLETE":
        return "Post Published"
    if status == "SEND_TO_USER_INBOX":
        return "Post Sent To Inbox"
    return "Post Failed"


def emit(w: EndPorts, post: dict[str, Any]) -> None:
    """The post's outcome on EventBridge (no token, no upload URL), and a metric of it; once per status
    (a post failed by a webhook and then by its workflow's next step is announced once)."""
    status = post.get("status")
    if post.get("announced") == status:
        return
    if not w.posts.update_fields(post["post_id"], {"announced": status}, w.now(), expected_status=status):
        return  # the status moved on meanwhile: whoever moved it announces
    kind = detail_type(post)
    try:
        w.event_bus.publish(kind, public_view(post))
    except EventPublishError:
        # Not announced after all: the step's retry announces it.
        w.posts.update_fields(
            post["post_id"], {"announced": post.get("announced")}, w.now(), expected_status=status
        )
        raise
    metrics.count(kind.replace(" ", ""))
