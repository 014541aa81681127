"""Cancelling a post: CANCELLED only when nothing can reach TikTok any more, otherwise a refusal saying why.

- Before TikTok was asked to create it: cancelled, in a conditional write an init that starts at the same
  moment cannot also win.
- A FILE_UPLOAD whose final chunk has not gone: cancelled, and the upload stops there (the same kind of
  write decides between the cancel and the final chunk), so TikTok never holds the whole file.
- A PULL_FROM_URL download: cancelled once TikTok confirms its cancel (documented for pulls only).
- Anything else was handed to TikTok for good (every byte uploaded, a download TikTok would not stop, an
  inbox draft that is now the creator's): refused, and the post keeps following TikTok to its real end.

A cancelled post's workflow is stopped, its unused quota given back and its event sent.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from functions.ports import HasAccessTokens, HasClock, HasEventBus, HasPosts, HasQuota, HasTikTok, HasWorkflow
from functions.post_status import TERMINAL
from functions.posting.errors import PostRejectedError, TransientStepError
from functions.posting.finish import emit, give_back_slots
from functions.posting.prepared import Prepared
from functions.tiktok.errors import TikTokError


class CancelPorts(
    HasClock, HasPosts, HasQuota, HasTikTok, HasAccessTokens, HasWorkflow, HasEventBus, Protocol
):
    """The ports this module's functions use."""


NOTE = "cancelled through the API"
_MAX_ROUNDS = 3  # the post may move on between our read and our write; decide again


@dataclass(frozen=True)
class CancelAnswer:
    cancelled: bool
    post: dict[str, Any]
    reason: str  # how it was cancelled, or why it could not be


def cancel_post(w: CancelPorts, post_id: str) -> CancelAnswer | None:
    """None when there is no such post."""
    answer: CancelAnswer | None = None
    for _ in range(_MAX_ROUNDS):
        post = w.posts.get(post_id)
        if post is None:
            return None
        answer = _decide(w, post)
        if answer is not None:
            return answer
    post = w.posts.get(post_id) or {}
    return CancelAnswer(False, post, "the post kept changing while it was being cancelled: ask again")


def _decide(w: CancelPorts, post: dict[str, Any]) -> CancelAnswer | None:
    """The answer, or None when the post moved on and the decision must be made again."""
    status = str(post["status"])
    if status in TERMINAL:
        return CancelAnswer(False, post, f"the post already ended ({status})")
    if status == "SEND_TO_USER_INBOX":
        return _refused(
            post, "the draft is in the creator's TikTok inbox: it is theirs now to post or delete"
        )
    publish_id = post.get("publish_id")
    if not publish_id:
        return _cancel_before_tiktok(w, post)
    try:
        uploads = Prepared.of(post).uploads_a_file
    except PostRejectedError as exc:  # which way the media goes is unknown: nothing safe to stop
        return _refused(post, exc.detail)
    if uploads:
        return _cancel_upload(w, post, str(publish_id))
    return _cancel_pull(w, post, str(publish_id))


def _cancel_before_tiktok(w: CancelPorts, post: dict[str, Any]) -> CancelAnswer | None:
    if post.get("init_started_at"):
        return _refused(post, "TikTok is being asked to create this post right now: ask again in a moment")
    if w.posts.cancel(post["post_id"], now=w.now(), note=NOTE, publish_id=None):
        return _cancelled(w, post["post_id"], "nothing had reached TikTok")
    return None


def _cancel_upload(w: CancelPorts, post: dict[str, Any], publish_id: str) -> CancelAnswer | None:
    if post["status"] == "UPLOADING" and w.posts.cancel(
        post["post_id"], now=w.now(), note=NOTE, publish_id=publish_id, before_final_chunk=True
    ):
        return _cancelled(w, post["post_id"], "its upload stopped before the final chunk")
    if post["status"] == "UPLOADING" and not (w.posts.get(post["post_id"]) or {}).get("final_chunk_at"):
        return None  # it moved on between the read and the write
    return _refused(post, "every byte was handed to TikTok, which publishes it: delete it in the TikTok app")


def _cancel_pull(w: CancelPorts, post: dict[str, Any], publish_id: str) -> CancelAnswer | None:
    try:
        w.tiktok.cancel(w.access_tokens.for_account(post["account_id"]), publish_id)
    except TikTokError as exc:
        return _refused(post, f"TikTok would not cancel the download ({exc.code}): {exc.reason}")
    except (PostRejectedError, TransientStepError) as exc:
        return _refused(post, f"TikTok could not be asked to cancel it: {exc}")
    note = f"{NOTE}; TikTok confirmed the cancel"
    if w.posts.cancel(post["post_id"], now=w.now(), note=note, publish_id=publish_id):
        return _cancelled(w, post["post_id"], "TikTok confirmed the cancel of its download")
    return None


def _refused(post: dict[str, Any], reason: str) -> CancelAnswer:
    return CancelAnswer(False, post, f"not cancelled: {reason}; the post keeps following TikTok to its end")


def _cancelled(w: CancelPorts, post_id: str, how: str) -> CancelAnswer:
    w.workflow.stop(post_id, error="PostCancelled", cause=NOTE)
    post = w.posts.get(post_id) or {}
    give_back_slots(w, post, w.now())
    emit(w, post)
    return CancelAnswer(True, post, how)
