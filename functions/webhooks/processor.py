"""Apply TikTok's webhook events to posts and accounts.

TikTok sends no event id and delivers at least once, so a delivery is deduplicated by the sha256 of its
body, and every change is monotonic: a repeated or late event changes nothing. Events for posts we do
not know are logged and acknowledged; they are not errors.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any, Protocol

from functions.ports import (
    CallsTikTok,
    HasDedupe,
    HasEventBus,
    HasPosts,
    HasQuota,
    HasSchedules,
    HasSettings,
    HasTokens,
    HasWorkflow,
)
from functions.post_status import TERMINAL
from functions.posting.after_publish import after_published
from functions.posting.finish import emit
from functions.posting.outcome import apply_tiktok_status, resume_waiting
from functions.posting.quota import release_inbox


class ProcessorPorts(
    CallsTikTok,
    HasSettings,
    HasPosts,
    HasTokens,
    HasQuota,
    HasDedupe,
    HasWorkflow,
    HasEventBus,
    HasSchedules,
    Protocol,
):
    """The ports this module's functions use."""


DEDUPE_TTL_SECONDS = 7 * 86_400  # longer than TikTok's 72 h of retries plus the signature tolerance
REMOVAL_REASONS = {
    0: "unknown reason",
    1: "the creator disconnected the app in TikTok",
    2: "the TikTok account was deleted",
    3: "the creator's age changed",
    4: "the TikTok account was banned",
    5: "the app's developer revoked the authorisation",
}
POST_EVENTS = {
    "post.publish.failed",
    "post.publish.complete",
    "post.publish.inbox_delivered",
    "post.publish.publicly_available",
    "post.publish.no_longer_publicaly_available",  # TikTok's spelling
}


@dataclass(frozen=True)
class Applied:
    event: str
    effect: str  # what happened, for logs and tests: "applied", "duplicate", "unknown_post", ...


def body_key(body: str) -> str:
    return "webhook#" + hashlib.sha256(body.encode("utf-8")).hexdigest()


def _content(payload: dict[str, Any]) -> dict[str, Any]:
    raw = payload.get("content")
    if isinstance(raw, dict):
        return raw
    if isinstance(raw, str):
        try:
            parsed = json.loads(raw)
        except json.JSONDecodeError:
            return {}
        return parsed if isinstance(parsed, dict) else {}
    return {}


def process(w: ProcessorPorts, body: str) -> Applied:
    """Apply one delivered body; raises only for infrastructure faults (SQS then retries the message)."""
    try:
        payload = json.loads(body)
    except json.JSONDecodeError:
        return Applied("?", "not_json")
    if not isinstance(payload, dict):
        return Applied("?", "not_an_object")
    event = str(payload.get("event", ""))
    key = body_key(body)
    if not w.dedupe.first_time(key, now=w.now(), ttl_seconds=DEDUPE_TTL_SECONDS):
        return Applied(event, "duplicate")
    try:
        effect = _apply(w, event, payload)
    except Exception:
        w.dedupe.forget(key)  # let SQS's retry of this message apply it
        raise
    return Applied(event, effect)


def _apply(w: ProcessorPorts, event: str, payload: dict[str, Any]) -> str:
    content = _content(payload)
    if event == "authorization.removed":
        return _authorization_removed(w, str(payload.get("user_openid", "")), content.get("reason"))
    if event not in POST_EVENTS:
        return "ignored_event_type"
    publish_id = content.get("publish_id")
    post = w.posts.get_by_publish_id(publish_id) if isinstance(publish_id, str) and publish_id else None
    if post is None:
        return "unknown_post"
    note = f"webhook {event}"
    if event == "post.publish.failed":
        reason = content.get("reason")
        changed = apply_tiktok_status(
            w, post, "FAILED", fail_reason=str(reason) if reason else None, note=note
        )
    elif event == "post.publish.inbox_delivered":
        changed = apply_tiktok_status(w, post, "SEND_TO_USER_INBOX", note=note)
    elif event == "post.publish.complete":
        changed = apply_tiktok_status(w, post, "PUBLISH_COMPLETE", note=note)
        if post.get("mode") == "inbox":
            release_inbox(w.quota, account_id=post["account_id"], post_id=post["post_id"], now=w.now())
            if changed and post.get("status") == "SEND_TO_USER_INBOX":
                emit(w, w.posts.get(post["post_id"]) or post)  # the creator finished the draft
                after_published(w, post["post_id"])
    else:
        changed = _visibility(w, post, event, content)
    return "applied" if changed else "no_change"


def _visibility(w: ProcessorPorts, post: dict[str, Any], event: str, content: dict[str, Any]) -> bool:
    public = event == "post.publish.publicly_available"
    post_id = content.get("post_id")
    ids = list(post.get("tiktok_post_ids") or [])
    if post_id is not None and str(post_id) not in ids:
        ids.append(str(post_id))
    if public and post.get("status") not in TERMINAL:
        apply_tiktok_status(w, post, "PUBLISH_COMPLETE", note=f"webhook {event}")
    if post.get("publicly_available") is public and ids == list(post.get("tiktok_post_ids") or []):
        return False
    fields: dict[str, Any] = {"publicly_available": public, "tiktok_post_ids": ids}
    if len(ids) == 1 and not post.get("video_id"):
        fields["video_id"] = ids[0]  # TikTok's id of the public video (its link comes from the Display API)
    return w.posts.update_fields(post["post_id"], fields, w.now())


def _authorization_removed(w: ProcessorPorts, open_id: str, reason_code: object) -> str:
    account = w.accounts.find_by_open_id(open_id) if open_id else None
    if account is None:
        return "unknown_account"
    code = reason_code if isinstance(reason_code, int) else 0
    reason = f"authorisation removed: {REMOVAL_REASONS.get(code, REMOVAL_REASONS[0])}"
    now = w.now()
    if account.status == "disconnected" and account.status_reason == reason:
        return "no_change"
    w.tokens.delete(account.account_id)  # TikTok revoked them already
    w.accounts.set_status(account.account_id, "disconnected", reason, now)
    for post in w.posts.list_by_account(account.account_id, limit=1000):
        if post.get("status") in TERMINAL:
            continue
        failed = w.posts.transition(
            post["post_id"],
            "FAILED",
            now=now,
            note=reason,
            fields={
                "fail_reason": "auth_removed",
                "fail_detail": f"{reason}; connect the account again to post",
            },
        )
        if failed:
            # A workflow parked on TikTok's answer is failed now; one waiting on a timer fails at its next
            # step, which finds the account disconnected. Either way the record already says why.
            resume_waiting(w, post["post_id"])
            emit(w, w.posts.get(post["post_id"]) or post)
    return "applied"
