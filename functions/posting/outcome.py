"""How TikTok's view of a post (webhook or status fetch) is applied to our record, and how the waiting
workflow is resumed exactly once.

A status is applied with a monotonic transition, so a late or repeated report never moves a post back.
The workflow's task token is answered by whoever sees both the token and the outcome: the webhook side
(after applying a status, if a token is stored) or register_wait (if the outcome was already there when it
came to store the token). A conditional write on the status decides the race, so exactly one answers.
Polling never answers a token: it runs only once the wait that token belonged to has timed out, and it
hands its outcome to the workflow as its own result.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

from functions.ports import (
    CallsTikTok,
    HasPosts,
    HasWorkflow,
)
from functions.posting.errors import PostRejectedError, TikTokRetryError
from functions.posting.record_parts import TikTokRetry
from functions.posting.tiktok_calls import tiktok_call
from functions.tiktok.error_codes import ErrorKind
from functions.tiktok.fail_reasons import describe_fail_reason

if TYPE_CHECKING:
    from functions.posting.step_results import OutcomeResult


# Poll backoff after the webhook did not come in time (seconds), capped; status fetch allows 30/min.
class OutcomePorts(CallsTikTok, HasPosts, HasWorkflow, Protocol):
    """The ports this module's functions use."""


POLL_DELAYS = (5, 10, 20, 40, 80, 160, 300)
# A fail_reason TikTok says to retry (`internal`, a failed pull) gets a new init after these waits (seconds);
# once they are spent the post fails with TikTok's reason.
TIKTOK_RETRY_DELAYS = (60, 300, 900)
POLL_GIVE_UP_SECONDS = 48 * 3600
TIKTOK_STATUS = {
    "PROCESSING_UPLOAD": "PROCESSING",
    "PROCESSING_DOWNLOAD": "PROCESSING",
    "SEND_TO_USER_INBOX": "SEND_TO_USER_INBOX",
    "PUBLISH_COMPLETE": "PUBLISH_COMPLETE",
    "FAILED": "FAILED",
}


def outcome_of(post: dict[str, Any]) -> OutcomeResult | None:
    """What the workflow waits for, if the post has reached it: published, or in the creator's inbox."""
    status = post.get("status")
    if status == "PUBLISH_COMPLETE" or (status == "SEND_TO_USER_INBOX" and post.get("mode") == "inbox"):
        return {"final": True, "status": status}
    return None


def failure_of(post: dict[str, Any]) -> tuple[str, str] | None:
    if post.get("status") == "FAILED":
        return "PostFailed", str(post.get("fail_reason") or "failed")
    if post.get("status") == "CANCELLED":
        return "PostCancelled", "cancelled"
    return None


def apply_tiktok_status(
    w: OutcomePorts,
    post: dict[str, Any],
    tiktok_status: str,
    *,
    fail_reason: str | None = None,
    post_ids: list[str] | None = None,
    note: str,
    resume: bool = True,
) -> bool:
    """Record TikTok's status on the post (never backwards); True when it changed the post. With `resume`,
    a waiting workflow whose outcome this is gets its task token answered."""
    status = TIKTOK_STATUS.get(tiktok_status)
    if status is None:
        return False
    fields: dict[str, Any] = {}
    if status == "FAILED":
        described = describe_fail_reason(fail_reason)
        if described.kind is ErrorKind.RETRYABLE and _retry(
            w, post, described.code, note=note, resume=resume
        ):
            return True
        fields = {"fail_reason": fail_reason or "unknown", "fail_detail": described.sentence}
    if post_ids:
        fields["tiktok_post_ids"] = [str(p) for p in post_ids]
        if len(post_ids) == 1:  # TikTok's id of the public video: the announcement carries it at once
            fields["video_id"] = str(post_ids[0])
    changed = w.posts.transition(post["post_id"], status, now=w.now(), note=note, fields=fields)
    if changed and resume:
        resume_waiting(w, post["post_id"])
    return changed


def _retry(w: OutcomePorts, post: dict[str, Any], reason: str, *, note: str, resume: bool) -> bool:
    """Set the post up for a new init after TikTok failed it with a reason it says to retry; False once the
    retries are spent (or the post moved on meanwhile), and then it fails as usual."""
    last = TikTokRetry.found_in(post)
    done = last.attempt if last else 0
    publish_id = post.get("publish_id")
    if done >= len(TIKTOK_RETRY_DELAYS) or not publish_id:
        return False
    now = w.now()
    retry = TikTokRetry(attempt=done + 1, reason=reason, not_before=now + TIKTOK_RETRY_DELAYS[done])
    text = (
        f"TikTok failed publish_id {publish_id} with {reason} ({note}); it says to retry: asking it again "
        f"(retry {done + 1} of {len(TIKTOK_RETRY_DELAYS)})"
    )
    if not w.posts.retry_after_failure(
        post["post_id"], str(publish_id), now=now, note=text, retry=retry.to_record()
    ):
        return False
    token = post.get("task_token")
    if resume and token:  # the waiting workflow goes back to Init (its Catch on TikTokRetryError)
        _answer_retry(w, str(token), text)
    return True


def _answer_retry(w: OutcomePorts, token: str, cause: str) -> None:
    # A wait that timed out already: the polling that took over sees the post back before Init.
    w.workflow.fail(token, error=TikTokRetryError.__name__, cause=cause)


def retry_pending(post: dict[str, Any]) -> bool:
    """TikTok failed the last attempt with a reason it says to retry, and no new init happened yet."""
    return (
        bool(post.get("tiktok_retry")) and not post.get("publish_id") and post.get("status") == "INITIALIZING"
    )


def resume_waiting(w: OutcomePorts, post_id: str) -> None:
    """Answer the stored task token if the post has reached what the workflow waits for."""
    post = w.posts.get(post_id)
    token = post.get("task_token") if post else None
    if not post or not token:
        return
    outcome, failure = outcome_of(post), failure_of(post)
    if outcome is None and failure is None:
        return
    # Clear the token first: whoever clears it answers, so a token is never answered twice.
    cleared = dict.fromkeys(("task_token",))
    if not w.posts.update_fields(post_id, cleared, w.now(), expected_status=post["status"]):
        return
    _answer(w, token, outcome, failure)


def register_wait(w: OutcomePorts, post_id: str, task_token: str) -> None:
    """Keep the workflow's task token on the post, or answer it at once if the outcome is already known."""
    for _ in range(5):
        post = w.posts.get(post_id)
        if post is None:
            raise PostRejectedError("post_missing", f"no post {post_id}")
        outcome, failure = outcome_of(post), failure_of(post)
        if outcome is not None or failure is not None:
            _answer(w, task_token, outcome, failure)
            return
        if w.posts.update_fields(
            post_id, {"task_token": task_token}, w.now(), expected_status=post["status"]
        ):
            return
    raise PostRejectedError("post_changing", f"post {post_id} kept changing while its wait was registered")


def _answer(
    w: OutcomePorts, token: str, outcome: OutcomeResult | None, failure: tuple[str, str] | None
) -> None:
    # A wait that timed out already is not answered: the polling branch took over and sees the same outcome.
    if outcome is not None:
        w.workflow.succeed(token, outcome)
    elif failure is not None:
        w.workflow.fail(token, error=failure[0], cause=failure[1])


def check_status(w: OutcomePorts, post_id: str) -> OutcomeResult:
    """Polling, when no webhook came in time: at most one fetch per call, within the 30/min budget."""
    post = w.posts.get(post_id)
    if post is None:
        raise PostRejectedError("post_missing", f"no post {post_id}")
    done = outcome_of(post)
    if done is not None:
        return done
    failed = failure_of(post)
    if failed is not None:
        raise PostRejectedError(
            str(post.get("fail_reason") or "failed"), str(post.get("fail_detail") or failed[1])
        )
    if retry_pending(post):  # a webhook set it up for a new init while we polled
        raise TikTokRetryError(f"post {post_id}: TikTok asked for a new attempt")
    publish_id = post.get("publish_id")
    if not publish_id:
        raise PostRejectedError("publish_id_missing", "the post has no TikTok publish_id to follow")
    if post.get("task_token"):
        # The wait this token belonged to timed out (that is what started polling): nobody answers it now.
        w.posts.update_fields(post_id, dict.fromkeys(("task_token",)), w.now())
    status = tiktok_call(
        w, post["account_id"], "status", lambda client, token: client.fetch_status(token, publish_id)
    )
    apply_tiktok_status(
        w,
        post,
        status.status,
        fail_reason=status.fail_reason,
        post_ids=list(status.publicly_available_post_ids),
        note="status fetch",
        resume=False,
    )
    post = w.posts.get(post_id) or post
    done = outcome_of(post)
    if done is not None:
        return done
    if retry_pending(post):
        raise TikTokRetryError(f"post {post_id}: TikTok failed it with a reason it says to retry")
    if post.get("status") == "FAILED":
        raise PostRejectedError(str(post.get("fail_reason")), str(post.get("fail_detail")))
    polls = int(post.get("polls", 0))
    started = int(post.get("polling_since", w.now()))
    if w.now() - started > POLL_GIVE_UP_SECONDS:
        raise PostRejectedError(
            "no_outcome", "TikTok reported no final status for 48 hours; check the post in the TikTok app"
        )
    w.posts.update_fields(post_id, {"polls": polls + 1, "polling_since": started}, w.now())
    return {"final": False, "wait_seconds": POLL_DELAYS[min(polls, len(POLL_DELAYS) - 1)]}
