"""UploadChunks: the media streamed from S3 to TikTok's upload URL, resumable across invocations.

One invocation sends chunks until the Lambda's time is nearly over, stores the offset TikTok acknowledged,
and answers `complete: false`; the state machine calls it again and it resumes from that offset.

An upload URL TikTok no longer accepts (403: it lives one hour; 404: no upload task) is an unclear end: the
answer to the final chunk may have been lost and the chunk sent again, and TikTok may hold every byte. So
TikTok is asked for the status of the publish_id first: if it holds the whole file the upload is done;
only if it says the upload failed, does not know it, or holds part of it (a FILE_UPLOAD TikTok never
received all bytes for is never published) does the post go back to Init (`reinit`) for a new one.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol

from functions import metrics
from functions.ports import (
    CallsTikTok,
    HasMedia,
    HasPosts,
    HasUploader,
)
from functions.posting.errors import PostRejectedError, TransientStepError
from functions.posting.prepared import Prepared
from functions.posting.record_fields import record_invalid
from functions.posting.record_parts import PostMedia, UploadProgress
from functions.posting.tiktok_calls import tiktok_call
from functions.tiktok.chunks import ChunkPlan, plan_chunks
from functions.tiktok.errors import (
    TikTokRetryableError,
    UploadError,
    UploadTaskMissingError,
    UploadUrlExpiredError,
)

if TYPE_CHECKING:
    from functions.posting.step_results import UploadResult
    from functions.tiktok.upload import ChunkUploader


class TransferPorts(CallsTikTok, HasPosts, HasMedia, HasUploader, Protocol):
    """The ports this module's functions use."""


SAFETY_SECONDS = 30.0  # stop sending this long before the Lambda's own deadline


def upload_chunks(
    w: TransferPorts, post_id: str, remaining_ms: Callable[[], int] | None = None
) -> UploadResult:
    post = w.posts.get(post_id)
    if post is None:
        raise PostRejectedError("post_missing", f"no post {post_id}")
    prepared = Prepared.of(post)
    upload = _upload_left(post, prepared)
    if upload is None:
        return {"complete": True}
    url = post.get("upload_url")
    if not url:
        raise PostRejectedError("upload_url_missing", "TikTok gave no upload URL for this post")
    video = prepared.the_video()
    plan: ChunkPlan = plan_chunks(upload.total, upload.preferred_chunk_size)
    if plan.chunk_size != upload.chunk_size:
        raise PostRejectedError(
            "chunk_plan_mismatch", "the upload plan differs from the one TikTok was given"
        )
    bucket = PostMedia.of(post).bucket
    offset = upload.offset
    deadline = None
    if remaining_ms is not None:
        deadline = time.monotonic() + remaining_ms() / 1000 - SAFETY_SECONDS

    def progress(acknowledged: int, _total: int) -> None:
        w.posts.update_fields(post_id, {"upload": upload.at(acknowledged).to_record()}, w.now())

    uploader: ChunkUploader = w.uploader
    try:
        result = uploader.upload(
            url,
            plan,
            lambda start: w.media.open_stream(bucket, video.key, start, video.version_id),
            video.content_type,
            start_offset=offset,
            on_progress=progress,
            deadline=deadline,
            # Decided against a cancel in one conditional write: the final chunk goes, or the post is cancelled.
            before_final_chunk=lambda: w.posts.mark_final_chunk(
                post_id, str(post.get("publish_id")), w.now()
            ),
        )
    except (UploadUrlExpiredError, UploadTaskMissingError) as exc:
        if _tiktok_holds_every_byte(w, post, plan.video_size):
            return _done(
                w, post, upload, note=f"TikTok holds all {plan.video_size} bytes (after {exc.reason})"
            )
        _abandon(w, post, reason=exc.reason)
        return {"complete": False, "reinit": True}
    except TikTokRetryableError as exc:
        raise TransientStepError(f"upload: {exc.reason}") from None
    except UploadError as exc:
        raise PostRejectedError(exc.code, exc.reason) from None
    metrics.count("BytesUploaded", result.bytes_acknowledged - offset)
    if result.cancelled:
        raise PostRejectedError(
            "post_cancelled",
            "the post was cancelled before its final chunk: TikTok never received the whole file",
        )
    if not result.complete:
        w.posts.update_fields(post_id, {"upload": upload.at(result.bytes_acknowledged).to_record()}, w.now())
        return {"complete": False}
    return _done(w, post, upload, note=f"{plan.video_size} bytes uploaded")


def _upload_left(post: dict[str, Any], prepared: Prepared) -> UploadProgress | None:
    """The upload still to do; None when the media goes by URL or TikTok has every byte."""
    if not prepared.uploads_a_file:
        return None
    upload = UploadProgress.found_in(post)
    if upload is None:
        raise record_invalid("upload", "the chunk plan Init gave TikTok", None)
    return None if upload.complete else upload


def _done(w: TransferPorts, post: dict[str, Any], upload: UploadProgress, *, note: str) -> UploadResult:
    done = upload.at(upload.total, complete=True).to_record()
    w.posts.transition(
        post["post_id"], "PROCESSING", now=w.now(), note=note, fields={"upload": done, "upload_url": None}
    )
    return {"complete": True}


def _tiktok_holds_every_byte(w: TransferPorts, post: dict[str, Any], size: int) -> bool:
    """What TikTok says of the publish_id: True when it has the whole file (or is past the upload)."""
    publish_id = str(post.get("publish_id") or "")
    try:
        status = tiktok_call(
            w, post["account_id"], "status", lambda client, token: client.fetch_status(token, publish_id)
        )
    except PostRejectedError:
        return False  # TikTok does not know the publish_id (or refuses it for good): a new init is safe
    if status.status == "FAILED":
        return False
    if status.status == "PROCESSING_UPLOAD":
        return (status.uploaded_bytes or 0) >= size
    return True  # processing, in the inbox or published: TikTok has the file


def _abandon(w: TransferPorts, post: dict[str, Any], *, reason: str) -> None:
    """Forget a publish_id whose upload can no longer finish, so Init asks TikTok for a new one."""
    if not w.posts.reset_for_reinit(
        post["post_id"],
        str(post.get("publish_id", "")),
        now=w.now(),
        note=f"upload URL no longer valid ({reason}); asking TikTok again",
    ):
        raise TransientStepError("the post changed while its upload was being restarted")
