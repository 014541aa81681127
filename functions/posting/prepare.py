"""Prepare: everything about a post is checked before TikTok is asked to create it.

Reads the media with a few ranged reads (size, container, codec, duration, frame rate, dimensions), asks
TikTok's creator_info what this creator may post now, and checks the manifest against both and against
what the app's audit status allows. A post that breaks a rule fails here, with the rule named, unless the
rule is one a repair can fix and repair is wanted (functions/posting/repair_needs.py): the post is then
marked for the Repair step, which makes a conforming copy before it goes on.

A direct post without a privacy level chosen by its author (or every direct post, when the operator asks for
approval) is marked for review: the workflow then waits for the creator's decision on the review page.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

from functions.ports import (
    CallsTikTok,
    HasMedia,
    HasPosts,
    HasPullVideos,
    HasSettings,
)
from functions.posting.errors import PostRejectedError, TransientStepError
from functions.posting.manifest import PostManifest, manifest_of, publish_at_text
from functions.posting.media_probe import MediaProbeError, ReadRange, probe_image, probe_video
from functions.posting.prepared import Prepared, PreparedPhoto, PreparedVideo
from functions.posting.record_parts import PostMedia
from functions.posting.repair_needs import photo_needs, read_only_by_pyav, video_needs
from functions.posting.rules import (
    check_photo,
    check_privacy,
    check_video,
    duration_limit,
    inbox_notes,
    interactions,
)
from functions.posting.tiktok_calls import tiktok_call
from functions.settings import AppStatus, Settings
from functions.store.errors import NotFoundError
from functions.tiktok.models import CreatorInfo, PrivacyLevel

if TYPE_CHECKING:
    from functions.posting.media_probe import VideoProbe
    from functions.posting.step_results import PrepareResult


class PreparePorts(CallsTikTok, HasSettings, HasPosts, HasMedia, HasPullVideos, Protocol):
    """The ports this module's functions use."""


CONTENT_TYPES = {"mp4": "video/mp4", "mov": "video/quicktime", "webm": "video/webm"}


def review_reason(manifest: PostManifest, settings: Settings) -> str | None:
    """Why this post waits for the creator on the review page, or None when it goes straight on."""
    if manifest.mode != "direct":
        return None  # the creator finishes an inbox upload in the TikTok app
    if manifest.privacy_level is None:
        return "its author chose no privacy level, so the creator chooses it on the review page"
    if settings.review_all_direct_posts:
        return "this deployment asks for every direct post to be approved on the review page"
    return None


def creator_info(w: PreparePorts, account_id: str) -> CreatorInfo:
    """What the creator may post now; TikTok's "can't post now" answers make the post wait. An answer that
    says they can lifts the pause noted when the account was connected."""
    info = tiktok_call(w, account_id, "creator_info", lambda client, token: client.creator_info(token))
    w.accounts.resume_posting(account_id, w.now())
    return info


def prepare(w: PreparePorts, post_id: str) -> PrepareResult:
    post = w.posts.get(post_id)
    if post is None:
        raise PostRejectedError("post_missing", f"no post {post_id}")
    manifest = manifest_of(post)
    account_id = post["account_id"]
    media = PostMedia.of(post)
    bucket, versions = media.bucket, media.version_ids
    now = w.now()

    creator = creator_info(w, account_id)
    repair = _RepairNeeds(w, manifest, account_id, duration_limit(creator))
    video: PreparedVideo | None = None
    photos: tuple[PreparedPhoto, ...] = ()
    if manifest.kind == "video":
        video = _video(w, bucket, media.keys[0], versions, creator=creator, repair=repair)
    else:
        photos = tuple(_photo(w, bucket, key, versions, repair) for key in media.keys)
    check_privacy(manifest, creator, w.settings.app_status)
    review = review_reason(manifest, w.settings)
    if review and w.settings.app_status is AppStatus.UNAUDITED:
        # Whatever the creator picks on the review page must be SELF_ONLY: refuse now what can never post.
        check_privacy(
            manifest.model_copy(update={"privacy_level": PrivacyLevel.SELF_ONLY}),
            creator,
            w.settings.app_status,
        )
    flags = interactions(manifest, creator)
    notes = [*flags.notes, *inbox_notes(manifest)]
    source = "PULL_FROM_URL" if manifest.kind == "photo" or w.pull_videos else "FILE_UPLOAD"
    if source == "PULL_FROM_URL" and not w.settings.media_base_url:
        raise PostRejectedError(
            "media_domain_missing",
            "photo posts need a verified media domain (TikTok pulls photos from a URL): set MEDIA_BASE_URL",
        )
    prepared = Prepared(
        source=source,
        video=video,
        photos=photos,
        disable_comment=flags.disable_comment,
        disable_duet=flags.disable_duet,
        disable_stitch=flags.disable_stitch,
        notes=tuple(notes),
        creator_username=creator.creator_username,
        creator_nickname=creator.creator_nickname,
    )
    fields: dict[str, Any] = {"prepared": prepared.to_record()}
    publish_at = publish_at_text(manifest, now)
    result: PrepareResult = {"review": review is not None}
    if repair.items:
        # The Repair step makes a conforming copy before anything else waits or is sent (review previews it).
        fields["repair"] = repair.record()
        result["repair"] = True
    if publish_at:
        result["publish_at"] = publish_at
    if review:
        # The review step parks the post (AWAITING_REVIEW); the creator's decision schedules it.
        fields["review"] = {"reason": review}
        w.posts.update_fields(post_id, fields, now)
    elif publish_at:
        w.posts.transition(post_id, "SCHEDULED", now=now, note=f"waits until {publish_at}", fields=fields)
    else:
        w.posts.update_fields(post_id, fields, now)
    return result


class _RepairNeeds:
    """The media Prepare found breaking a rule a repair can fix, as the Repair step reads them."""

    def __init__(self, w: PreparePorts, manifest: PostManifest, account_id: str, max_duration: int) -> None:
        self._w, self._manifest, self._account_id = w, manifest, account_id
        self.max_duration = max_duration
        self.items: list[dict[str, Any]] = []
        self._wanted: bool | None = None

    def wanted(self) -> bool:
        """Asked only of media that breaks a rule: the account is read only when the manifest is silent."""
        if self._wanted is None:
            account = self._w.accounts.get(self._account_id) if self._manifest.repair is None else None
            self._wanted = self._manifest.repair_wanted(account.preferences if account else {})
        return self._wanted

    def add(self, key: str, needs: dict[str, Any]) -> None:
        self.items.append({"key": key, **needs})

    def record(self) -> dict[str, Any]:
        return {"status": "needed", "items": self.items, "max_duration_seconds": self.max_duration}


def _video(
    w: PreparePorts,
    bucket: str,
    key: str,
    versions: dict[str, str | None],
    *,
    creator: CreatorInfo,
    repair: _RepairNeeds,
) -> PreparedVideo:
    head = _head(w, bucket, key, versions.get(key))
    read = _reader(w, bucket, key, head["version_id"])
    probe: VideoProbe | None = None
    try:
        probe = probe_video(read, head["size"])
        check_video(probe, head["size"], creator)
    except MediaProbeError as exc:
        unreadable = PostRejectedError("file_format_check_failed", f"{key}: {exc}")
        if not (read_only_by_pyav(read) and repair.wanted()):
            raise unreadable from None
        repair.add(key, video_needs(unreadable, None, max_duration_seconds=repair.max_duration))
    except PostRejectedError as broken:
        if probe is None or not repair.wanted():
            raise
        repair.add(key, video_needs(broken, probe, max_duration_seconds=repair.max_duration))
    return PreparedVideo(
        key=key,
        version_id=head["version_id"],
        size=int(head["size"]),
        repaired_from=None,
        content_type=CONTENT_TYPES.get(probe.container if probe else "", "video/mp4"),
        probe=probe.summary() if probe is not None else None,
    )


def _photo(
    w: PreparePorts, bucket: str, key: str, versions: dict[str, str | None], repair: _RepairNeeds
) -> PreparedPhoto:
    head = _head(w, bucket, key, versions.get(key))
    try:
        image = probe_image(_reader(w, bucket, key, head["version_id"]), head["size"])
    except MediaProbeError as exc:
        raise PostRejectedError("file_format_check_failed", f"{key}: {exc}") from None
    try:
        check_photo(key, image, head["size"])
    except PostRejectedError as broken:
        if not repair.wanted():
            raise
        repair.add(key, photo_needs(broken, image, head["size"]))
    return PreparedPhoto(
        key=key,
        version_id=head["version_id"],
        size=int(head["size"]),
        repaired_from=None,
        format=image.format,
        width=image.width,
        height=image.height,
    )


def _reader(w: PreparePorts, bucket: str, key: str, version_id: str | None) -> ReadRange:
    def read(start: int, end_inclusive: int) -> bytes:
        return w.media.read_range(bucket, key, start, end_inclusive, version_id)

    return read


def _head(w: PreparePorts, bucket: str, key: str, version_id: str | None) -> dict[str, Any]:
    try:
        return w.media.head(bucket, key, version_id)
    except NotFoundError:
        # A manifest may arrive before its media finishes uploading: retried for a few minutes, then failed.
        raise TransientStepError(f"media {key} is not in the bucket (yet)") from None
