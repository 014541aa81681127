"""TikTok's `fail_reason` values (status fetch and `post.publish.failed` webhooks) as kinds and sentences.

Source: docs/reference/tiktok-api.md §5.2. Pure stdlib.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from functions.tiktok.error_codes import ErrorKind


@dataclass(frozen=True)
class FailReason:
    code: str
    kind: ErrorKind
    sentence: str


FAIL_REASONS: Mapping[str, tuple[ErrorKind, str]] = {
    "file_format_check_failed": (
        ErrorKind.TERMINAL,
        "TikTok does not support this file's format (use MP4, WebM or MOV with H.264, H.265, VP8 or VP9).",
    ),
    "duration_check_failed": (
        ErrorKind.TERMINAL,
        "The video is too long or too short for this creator's account.",
    ),
    "frame_rate_check_failed": (
        ErrorKind.TERMINAL,
        "TikTok does not support this video's frame rate (23-60 fps is accepted).",
    ),
    "picture_size_check_failed": (
        ErrorKind.TERMINAL,
        "TikTok does not support the media's dimensions (video 360-4096 px per side; photos up to 1080p).",
    ),
    "internal": (
        ErrorKind.RETRYABLE,
        "TikTok failed internally while processing the post; TikTok's guidance is to post it again.",
    ),
    "video_pull_failed": (
        ErrorKind.RETRYABLE,
        "TikTok could not download the video from its URL (unreachable, redirected or over one hour); "
        "TikTok's guidance is to retry once the URL is reachable.",
    ),
    "photo_pull_failed": (
        ErrorKind.RETRYABLE,
        "TikTok could not download a photo from its URL (unreachable, redirected or over one hour); "
        "TikTok's guidance is to retry once the URL is reachable.",
    ),
    "publish_cancelled": (ErrorKind.TERMINAL, "The post was cancelled before TikTok finished it."),
    "auth_removed": (
        ErrorKind.REAUTH,
        "The creator removed this app's access while the post was processing; it will not be retried.",
    ),
    "spam_risk_too_many_posts": (
        ErrorKind.QUOTA_WAIT,
        "The creator reached TikTok's daily limit of posts made through apps.",
    ),
    "spam_risk_user_banned_from_posting": (
        ErrorKind.TERMINAL,
        "TikTok has banned this account from posting.",
    ),
    "spam_risk_text": (
        ErrorKind.TERMINAL,
        "TikTok flagged the caption as risky or spam; change the text before posting again.",
    ),
    "spam_risk": (ErrorKind.TERMINAL, "TikTok flagged the post as a spam risk."),
}


def describe_fail_reason(reason: str | None) -> FailReason:
    """The kind and a sentence for a TikTok fail_reason; unknown values are terminal and named as such."""
    code = (reason or "").strip() or "unknown"
    known = FAIL_REASONS.get(code)
    if known:
        return FailReason(code, known[0], known[1])
    return FailReason(code, ErrorKind.TERMINAL, f"TikTok reported that the post failed ({code}).")
