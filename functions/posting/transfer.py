"""UploadChunks: the media streamed from S3 to TikTok's upload URL, resumable across invocations.

One invocation sends chunks until the Lambda's time is nearly over, stores the offset TikTok acknowledged,
and answers `complete: false`; the state machine calls it again and it resumes from that offset. An upload
URL TikTok no longer accepts (it lives one hour) leads back to Init (`reinit`): a FILE_UPLOAD post TikTok
never received all bytes for is never published, so a new init cannot publish twice.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from functions.posting.errors import PostRejectedError, TransientStepError
from functions.tiktok.chunks import ChunkPlan, plan_chunks
from functions.tiktok.errors import (
    TikTokRetryableError,
    UploadError,
    UploadTaskMissingError,
    UploadUrlExpiredError,
)

if TYPE_CHECKING:
    from functions.tiktok.upload import ChunkUploader
    from functions.wiring import Wiring

SAFETY_SECONDS = 30.0  # stop sending this long before the Lambda's own deadline


def upload_chunks(w: Wiring, post_id: str, remaining_ms: Callable[[], int] | None = None) -> dict[str, Any]:
    post = w.posts.get(post_id)
    if post is None:
        raise PostRejectedError("post_missing", f"no post {post_id}")
    upload = post.get("upload") or {}
    if post["prepared"]["source"] != "FILE_UPLOAD" or upload.get("complete"):
        return {"complete": True}
    url = post.get("upload_url")
    if not url:
        raise PostRejectedError("upload_url_missing", "TikTok gave no upload URL for this post")
    video = post["prepared"]["video"]
    plan: ChunkPlan = plan_chunks(int(upload["total"]), int(upload["preferred_chunk_size"]))
    if plan.chunk_size != int(upload["chunk_size"]):
        raise PostRejectedError(
            "chunk_plan_mismatch", "the upload plan differs from the one TikTok was given"
        )
    bucket = post["media"]["bucket"]
    offset = int(upload.get("offset", 0))
    deadline = None
    if remaining_ms is not None:
        deadline = time.monotonic() + remaining_ms() / 1000 - SAFETY_SECONDS

    def progress(acknowledged: int, _total: int) -> None:
        w.posts.update_fields(
            post_id, {"upload": {**upload, "offset": acknowledged, "complete": False}}, w.now()
        )

    uploader: ChunkUploader = w.uploader
    try:
        result = uploader.upload(
            url,
            plan,
            lambda start: w.media.open_stream(bucket, video["key"], start, video.get("version_id")),
            video["content_type"],
            start_offset=offset,
            on_progress=progress,
            deadline=deadline,
        )
    except (UploadUrlExpiredError, UploadTaskMissingError) as exc:
        _abandon(w, post, reason=exc.reason)
        return {"complete": False, "reinit": True}
    except TikTokRetryableError as exc:
        raise TransientStepError(f"upload: {exc.reason}") from None
    except UploadError as exc:
        raise PostRejectedError(exc.code, exc.reason) from None
    now = w.now()
    w.metrics_count("BytesUploaded", result.bytes_acknowledged - offset)
    if not result.complete:
        w.posts.update_fields(post_id, {"upload": {**upload, "offset": result.bytes_acknowledged}}, now)
        return {"complete": False}
    w.posts.transition(
        post_id,
        "PROCESSING",
        now=now,
        note=f"{plan.video_size} bytes uploaded",
        fields={"upload": {**upload, "offset": plan.video_size, "complete": True}, "upload_url": None},
    )
    return {"complete": True}


def _abandon(w: Wiring, post: dict[str, Any], *, reason: str) -> None:
    """Forget a publish_id whose upload can no longer finish, so Init asks TikTok for a new one."""
    if not w.posts.reset_for_reinit(
        post["post_id"],
        str(post.get("publish_id", "")),
        now=w.now(),
        note=f"upload URL no longer valid ({reason}); asking TikTok again",
    ):
        raise TransientStepError("the post changed while its upload was being restarted")
