"""InitPost: the one TikTok init call of a post, its publish_id stored before anything else.

Never repeated blindly. If an earlier attempt may have reached TikTok without us learning the answer:
- FILE_UPLOAD: asking again is safe, since a post TikTok created but never received bytes for is never
  published (its upload URL lapses after an hour);
- PULL_FROM_URL: TikTok fetches the media by itself, so a second init could publish twice; the post
  fails with `init_outcome_unknown` and says to check the account before posting again.

Every init TikTok may count holds a daily-cap slot from the moment it is asked until 24 hours after: the
slot is renewed (or taken again, if it lapsed while TikTok kept answering "not now") before the call,
and when none is free the post goes back to wait for one (`requeue`) instead of reaching TikTok.

The answer also says how the workflow learns the post's end (`poll`): TikTok announces success by webhook
only for an inbox draft (`inbox_delivered`) and a public direct post (`publicly_available`); any other
direct post is followed by status polling from the start (its failure may still come by webhook).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

from functions import metrics
from functions.ports import (
    CallsTikTok,
    HasClock,
    HasMediaSigningKey,
    HasPosts,
    HasQuota,
    HasSettings,
)
from functions.posting.errors import (
    PostRejectedError,
    TransientStepError,
)
from functions.posting.manifest import PostManifest, manifest_of
from functions.posting.media_urls import pull_url
from functions.posting.prepared import Prepared
from functions.posting.quota import hold_from_init, slot_holder
from functions.posting.record_parts import UploadProgress
from functions.posting.reserve import take_slots
from functions.posting.tiktok_calls import step_error
from functions.posting.transfer_method import both_refused_reason, fallback_for, refusal, refuses_method
from functions.tiktok.chunks import plan_chunks
from functions.tiktok.errors import TikTokError, TikTokQuotaError, UnknownOutcomeError
from functions.tiktok.models import (
    InitResult,
    PhotoPostInfo,
    PhotoPostMode,
    PhotoSourceInfo,
    VideoPostInfo,
    VideoSourceInfo,
)

if TYPE_CHECKING:
    from functions.posting.step_results import InitStepResult


class MediaUrlPorts(HasClock, HasSettings, HasMediaSigningKey, Protocol):
    """What signing a pull URL needs."""


class InitPorts(CallsTikTok, HasSettings, HasPosts, HasQuota, HasMediaSigningKey, Protocol):
    """The ports this module's functions use."""


def media_url(w: MediaUrlPorts, key: str, version_id: str | None) -> str:
    """Where TikTok pulls the object: a signed, short-lived URL on the verified media domain."""
    return pull_url(
        w.settings.media_base_url,
        key,
        version_id,
        key_pair_id=w.settings.media_key_pair_id,
        private_key_pem=w.media_signing_key(),
        now=w.now(),
    )


def init_post(w: InitPorts, post_id: str) -> InitStepResult:
    post = w.posts.get(post_id)
    if post is None:
        raise PostRejectedError("post_missing", f"no post {post_id}")
    prepared = Prepared.of(post)
    manifest = manifest_of(post)
    poll = not announced_by_webhook(manifest)
    if post.get("publish_id"):
        upload = UploadProgress.found_in(post)
        uploading = prepared.uploads_a_file and not (upload is not None and upload.complete)
        return {"upload": uploading, "poll": poll}
    now = w.now()
    if post.get("init_started_at"):
        if not prepared.uploads_a_file:
            raise PostRejectedError(
                "init_outcome_unknown",
                "an earlier attempt to create this post at TikTok got no answer; it was not repeated, so the "
                "post cannot be published twice: check the account in TikTok before posting it again",
            )
        # TikTok may have counted the unanswered init: the next one holds a slot of its own.
        spent = int(post.get("unanswered_inits") or 0) + 1
        retry = {
            "init_retry_note": "earlier init unanswered; safe to repeat for uploads",
            "unanswered_inits": spent,
            "init_started_at": None,
        }
        w.posts.update_fields(post_id, retry, now)
        post = {**post, **retry}
    if not take_slots(w, post, now, for_init=True).reserved:
        return {"upload": False, "requeue": True}
    # Decided against a cancel in one conditional write: either TikTok is asked, or the post is cancelled.
    if not w.posts.transition(
        post_id, "INITIALIZING", now=now, allow_same_rank=True, fields={"init_started_at": now}
    ):
        raise PostRejectedError("post_cancelled", "the post ended before TikTok was asked to create it")

    account_id = post["account_id"]
    token = w.access_tokens.for_account(account_id)
    w.rate_budget.take(account_id, "init")
    try:
        result, upload = _call_choosing_method(w, post, prepared, token, manifest)
    except UnknownOutcomeError as exc:
        metrics.tiktok_error("unknown_outcome")
        raise TransientStepError(f"init outcome unknown: {exc}") from None
    except TikTokError as exc:
        metrics.tiktok_error(exc.code)
        # TikTok answered with a refusal: nothing was created (or counted), so asking again later is safe.
        refused: dict[str, Any] = {"init_started_at": None}
        if isinstance(exc, TikTokQuotaError):  # "not now": the next init reads video.list again first
            refused["init_deferred_at"] = w.now()
        w.posts.update_fields(post_id, refused, w.now())
        raise step_error(w, account_id, "init", exc) from None
    now = w.now()
    w.posts.set_publish_id(post_id, result.publish_id, now)
    hold_from_init(
        w.quota, account_id=account_id, holder=slot_holder(post), inbox=manifest.mode == "inbox", now=now + 1
    )
    fields: dict[str, Any] = {"init_started_at": None}  # answered: nothing left unknown
    if upload is not None:
        fields["upload"] = upload.to_record()
        fields["upload_url"] = result.upload_url
    status = "UPLOADING" if upload is not None else "PROCESSING"
    w.posts.transition(post_id, status, now=now, note=f"TikTok publish_id {result.publish_id}", fields=fields)
    return {"upload": upload is not None, "poll": poll}


def announced_by_webhook(manifest: PostManifest) -> bool:
    """Whether TikTok sends a webhook when this post succeeds (docs/reference/tiktok-api.md §6.3)."""
    return manifest.mode == "inbox" or manifest.privacy_level == "PUBLIC_TO_EVERYONE"


def _call_choosing_method(
    w: InitPorts, post: dict[str, Any], prepared: Prepared, token: str, manifest: PostManifest
) -> tuple[InitResult, UploadProgress | None]:
    """The init with the prepared method and, if TikTok refuses that method (not the post), once more with
    the other one (functions/posting/transfer_method.py)."""
    post_id = post["post_id"]
    first = prepared.source
    try:
        return _call(w, token, manifest, prepared)
    except TikTokError as exc:
        fallback = fallback_for(w, manifest, first, exc)
        if fallback is None:
            raise
        metrics.tiktok_error(exc.code)
        refused = [refusal(first, exc)]
    # Recorded before asking: a retry after an unanswered second init knows which method it used.
    prepared = prepared.replace(source=fallback)
    transfer = {"method": fallback, "refused": refused}
    w.posts.update_fields(post_id, {"prepared": prepared.to_record(), "transfer": transfer}, w.now())
    w.rate_budget.take(post["account_id"], "init")
    try:
        return _call(w, token, manifest, prepared)
    except TikTokError as exc:
        if not refuses_method(exc, fallback):
            raise
        metrics.tiktok_error(exc.code)
        refused.append(refusal(fallback, exc))
        w.posts.update_fields(post_id, {"transfer": {"method": None, "refused": refused}}, w.now())
        raise PostRejectedError("transfer_refused", both_refused_reason(refused)) from None


def _call(
    w: InitPorts, token: str, manifest: PostManifest, prepared: Prepared
) -> tuple[InitResult, UploadProgress | None]:
    client = w.tiktok
    if manifest.kind == "photo":
        urls = [media_url(w, p.key, p.version_id) for p in prepared.photos]
        direct = manifest.mode == "direct"
        photo_info = PhotoPostInfo(
            title=manifest.title,
            description=manifest.description,
            privacy_level=manifest.privacy_level if direct else None,
            disable_comment=prepared.disable_comment if direct else None,
            auto_add_music=manifest.auto_add_music if direct else None,
            brand_content_toggle=manifest.branded_content if direct else None,
            brand_organic_toggle=manifest.brand_organic if direct else None,
        )
        mode = PhotoPostMode.DIRECT_POST if direct else PhotoPostMode.MEDIA_UPLOAD
        source = PhotoSourceInfo(photo_images=urls, photo_cover_index=manifest.cover_index)
        result = client.init_photo(
            token, mode=mode, post_info=photo_info, source=source, is_aigc=manifest.is_aigc
        )
        return result, None

    video = prepared.the_video()
    upload: UploadProgress | None = None
    if prepared.uploads_a_file:
        plan = plan_chunks(video.size, w.settings.upload_chunk_bytes)
        video_source = VideoSourceInfo.file_upload(plan)
        upload = UploadProgress(
            total=plan.video_size,
            chunk_size=plan.chunk_size,
            chunks=plan.total_chunk_count,
            preferred_chunk_size=w.settings.upload_chunk_bytes,  # replans the same chunks in Upload
        )
    else:
        video_source = VideoSourceInfo.pull_from_url(media_url(w, video.key, video.version_id))
    if manifest.mode == "inbox":
        return client.init_video_inbox(token, video_source), upload
    if manifest.privacy_level is None:  # the manifest model requires it for direct posts
        raise PostRejectedError("privacy_level_option_mismatch", "a direct post needs a privacy_level")
    info = VideoPostInfo(
        privacy_level=manifest.privacy_level,
        title=manifest.caption,
        disable_comment=prepared.disable_comment,
        disable_duet=prepared.disable_duet,
        disable_stitch=prepared.disable_stitch,
        video_cover_timestamp_ms=manifest.cover_timestamp_ms,
        brand_content_toggle=manifest.branded_content,
        brand_organic_toggle=manifest.brand_organic,
        is_aigc=manifest.is_aigc,
    )
    return client.init_video_direct(token, info, video_source), upload
