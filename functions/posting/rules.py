"""Preflight: a post checked against TikTok's rules, the creator's creator_info and the app's status,
before anything is sent to TikTok. Each failure names the rule in words a person understands."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from functions.posting.errors import PostRejectedError
from functions.settings import AppStatus
from functions.tiktok.models import CreatorInfo, PrivacyLevel

if TYPE_CHECKING:
    from functions.posting.manifest import PostManifest
    from functions.posting.media_probe import ImageProbe, VideoProbe

MAX_VIDEO_BYTES = 4 * 1024**3
MAX_PHOTO_BYTES = 20 * 1024**2
VIDEO_CONTAINERS = {"mp4", "mov", "webm"}
VIDEO_CODECS = {"h264", "hevc", "vp8", "vp9"}
PHOTO_FORMATS = {"jpeg", "webp"}
MIN_FPS, MAX_FPS = 23.0, 60.0
MIN_SIDE, MAX_SIDE = 360, 4096
# "max 1080p" (docs/reference/tiktok-api.md §3.6): the short side at most 1080 px, the long side at most
# 1920 px.
PHOTO_MAX_SHORT, PHOTO_MAX_LONG = 1080, 1920
DEFAULT_MAX_DURATION = 600


@dataclass(frozen=True)
class Interactions:
    """The disable_* flags to send: what the author allowed, never more than the creator allows."""

    disable_comment: bool
    disable_duet: bool
    disable_stitch: bool
    notes: tuple[str, ...]


def duration_limit(creator: CreatorInfo | None) -> int:
    """The longest video this creator may post, in seconds (creator_info's, else TikTok's default)."""
    return (creator.max_video_post_duration_sec if creator else None) or DEFAULT_MAX_DURATION


def check_video(
    probe: VideoProbe, size: int, creator: CreatorInfo | None, *, max_duration_seconds: int | None = None
) -> None:
    """Raises PostRejectedError naming the first rule the video breaks. The duration limit is the
    creator's (`max_duration_seconds` when given instead, as recorded when the post was prepared)."""
    if size > MAX_VIDEO_BYTES:
        raise PostRejectedError(
            "file_format_check_failed", f"the video is {size} bytes; TikTok accepts up to 4 GB"
        )
    if probe.container not in VIDEO_CONTAINERS:
        raise PostRejectedError(
            "file_format_check_failed", f"the video is {probe.container}; TikTok accepts MP4, MOV and WebM"
        )
    if probe.codec not in VIDEO_CODECS:
        raise PostRejectedError(
            "file_format_check_failed",
            f"the video is encoded as {probe.codec or 'an unknown codec'}; TikTok accepts H.264, H.265, VP8 and VP9",
        )
    fps, duration = probe.fps, probe.duration_seconds
    # A value the file does not give never skips its rule: TikTok would judge what we could not read.
    unknown = [what for what, value in _measures(probe) if value is None]
    if unknown or fps is None or duration is None:
        raise PostRejectedError(
            "media_unreadable",
            f"the video's {' and '.join(unknown)} could not be read from the file, so TikTok's limits on "
            "them cannot be checked; export it again (MP4 with H.264, 23-60 fps) and post that",
        )
    if not MIN_FPS <= fps <= MAX_FPS:
        raise PostRejectedError(
            "frame_rate_check_failed", f"the video runs at {fps:.2f} fps; TikTok accepts 23 to 60 fps"
        )
    for side, value in (("width", probe.width), ("height", probe.height)):
        if value is not None and not MIN_SIDE <= value <= MAX_SIDE:
            raise PostRejectedError(
                "picture_size_check_failed",
                f"the video's {side} is {value} px; TikTok accepts 360 to 4096 px",
            )
    limit = max_duration_seconds or duration_limit(creator)
    if duration > limit:
        raise PostRejectedError(
            "duration_check_failed",
            f"the video lasts {duration:.1f} s; this account may post at most {limit} s",
        )


def _measures(probe: VideoProbe) -> list[tuple[str, float | int | None]]:
    return [
        ("frame rate", probe.fps),
        ("duration", probe.duration_seconds),
        ("width", probe.width),
        ("height", probe.height),
    ]


def check_photo(name: str, probe: ImageProbe, size: int) -> None:
    if probe.format not in PHOTO_FORMATS:
        raise PostRejectedError(
            "file_format_check_failed",
            f"photo {name} is {probe.format.upper()}; TikTok accepts JPEG and WebP",
        )
    if size > MAX_PHOTO_BYTES:
        raise PostRejectedError(
            "picture_size_check_failed", f"photo {name} is {size} bytes; the limit is 20 MB"
        )
    short, long_ = sorted((probe.width, probe.height))
    if short > PHOTO_MAX_SHORT or long_ > PHOTO_MAX_LONG:
        raise PostRejectedError(
            "picture_size_check_failed",
            f"photo {name} is {probe.width}x{probe.height}; TikTok accepts up to 1080p (1080x1920)",
        )


def check_privacy(manifest: PostManifest, creator: CreatorInfo, app_status: AppStatus) -> None:
    """Direct posts only: the privacy level must be one the creator offers, and what the app may do."""
    if manifest.mode != "direct" or manifest.privacy_level is None:
        return
    level = manifest.privacy_level
    if app_status is AppStatus.UNAUDITED:
        if level is not PrivacyLevel.SELF_ONLY:
            raise PostRejectedError(
                "unaudited_client_can_only_post_to_private_accounts",
                f"this app is not audited by TikTok, so direct posts can only be SELF_ONLY, not {level}; "
                "use privacy_level SELF_ONLY or mode inbox",
            )
        if PrivacyLevel.PUBLIC_TO_EVERYONE in creator.privacy_level_options:
            raise PostRejectedError(
                "unaudited_client_can_only_post_to_private_accounts",
                "this app is not audited by TikTok, so it can direct-post only to private accounts; make the "
                "account private or use mode inbox",
            )
    if level not in creator.privacy_level_options:
        offered = ", ".join(str(o) for o in creator.privacy_level_options) or "none"
        raise PostRejectedError(
            "privacy_level_option_mismatch",
            f"privacy_level {level} is not offered for this account (offered: {offered})",
        )


def interactions(manifest: PostManifest, creator: CreatorInfo) -> Interactions:
    notes = []
    comment = manifest.allow_comment and not creator.comment_disabled
    duet = manifest.allow_duet and not creator.duet_disabled
    stitch = manifest.allow_stitch and not creator.stitch_disabled
    for what, asked, got in (
        ("comments", manifest.allow_comment, comment),
        ("duets", manifest.allow_duet, duet),
        ("stitches", manifest.allow_stitch, stitch),
    ):
        if asked and not got:
            notes.append(f"{what} stay off: the creator turned them off in TikTok")
    return Interactions(not comment, not duet, not stitch, tuple(notes))


def inbox_notes(manifest: PostManifest) -> list[str]:
    """What an inbox draft cannot carry that the author asked for, and what becomes of it."""
    if manifest.mode == "inbox" and manifest.kind == "video" and manifest.caption:
        return [
            "caption: TikTok's inbox upload carries no caption; it is kept here for the creator to paste "
            "when posting the draft in the TikTok app"
        ]
    return []
