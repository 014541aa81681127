"""Post records: how a new post is written, and the view of a post the API returns."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from functions.posting.record_parts import AfterPublishPlan, ReviewState

if TYPE_CHECKING:
    from functions.posting.manifest import PostManifest

# Fields kept out of API responses and events: the task token resumes a workflow; the upload URL is a
# short-lived credential to write media to TikTok.
PRIVATE_FIELDS = frozenset({"task_token", "upload_url"})


def post_id_for_object(bucket: str, key: str, version_id: str | None) -> str:
    """One post per object version: the same S3 event delivered twice names the same post."""
    return hashlib.sha256(f"s3\n{bucket}\n{key}\n{version_id or ''}".encode()).hexdigest()[:32]


def post_id_for_request(account_id: str, manifest: dict[str, Any]) -> str:
    """One post per account and manifest: a retried POST /posts names the same post (client_token lets a
    caller post the same content again on purpose)."""
    canonical = json.dumps(manifest, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(f"api\n{account_id}\n{canonical}".encode()).hexdigest()[:32]


@dataclass(frozen=True)
class PostOrigin:
    """Where a post came from: its id and account, the intake (`s3` or `api`), the bucket of its media
    and, for an S3 drop, the key that was dropped."""

    post_id: str
    account_id: str
    source: str
    bucket: str
    origin_key: str | None


def new_post(
    origin: PostOrigin, *, manifest: PostManifest | None, media_keys: list[str], now: int
) -> dict[str, Any]:
    post_id, account_id, source = origin.post_id, origin.account_id, origin.source
    bucket, origin_key = origin.bucket, origin.origin_key
    item: dict[str, Any] = {
        "post_id": post_id,
        "account_id": account_id,
        "created_at": now,
        "updated_at": now,
        "status": "RECEIVED",
        "status_rank": 0,
        "source": source,
        "media": {"bucket": bucket, "keys": media_keys, "origin_key": origin_key},
        "history": [{"at": now, "status": "RECEIVED", "note": f"from {source}"}],
    }
    if manifest is not None:
        item["settings"] = manifest.model_dump(mode="json", exclude_none=True)
        item["kind"] = manifest.kind
        item["mode"] = manifest.mode
    return item


def failed_post(base: dict[str, Any], *, reason: str, detail: str, now: int) -> dict[str, Any]:
    """A post rejected before anything was sent to TikTok, recorded with its reason."""
    return {
        **base,
        "status": "FAILED",
        "status_rank": 100,
        "fail_reason": reason,
        "fail_detail": detail,
        "history": [*base["history"], {"at": now, "status": "FAILED", "note": detail}],
    }


def public_view(post: dict[str, Any]) -> dict[str, Any]:
    """A post as the API and events show it: no task token, no upload URL. A post waiting for review shows
    its review link on top (`review_url`; the link names this post only and expires at `review.expires_at`)."""
    view = {k: v for k, v in post.items() if k not in PRIVATE_FIELDS and k != "status_rank"}
    upload = view.get("upload")
    if isinstance(upload, dict):
        view["upload"] = {k: v for k, v in upload.items() if k not in PRIVATE_FIELDS}
    link = ReviewState.link_of(post)
    if post.get("status") == "AWAITING_REVIEW" and link:
        view["review_url"] = link
    return view


def metrics_view(post: dict[str, Any]) -> dict[str, Any]:
    """A post's numbers after publishing (docs/after-publishing.md): where it is, the latest snapshot, all
    of them, and why there are none when there are none. post_record_invalid when its plan is unreadable."""
    plan = AfterPublishPlan.found_in(post)
    return {
        "post_id": post["post_id"],
        "video_id": post.get("video_id"),
        "share_url": post.get("share_url"),
        "public_link": post.get("public_link"),
        "latest": post.get("metrics"),
        "history": list(post.get("metrics_history") or []),
        "snapshots_due": list(plan.snapshots_due) if plan else [],
        "snapshots_ended": post.get("snapshots_ended"),
    }
