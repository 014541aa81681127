"""How a video's bytes reach TikTok, and what to do when TikTok refuses the way rather than the post.

Two methods: FILE_UPLOAD (we send the chunks) and PULL_FROM_URL (TikTok fetches a signed URL on the media
domain). TikTok has been seen refusing one of them for reasons that say nothing about the post
(docs/reference/tiktok-in-the-field.md §1): every multi-chunk FILE_UPLOAD of an app, for weeks ("The
chunk size is invalid"); a pull from a domain TikTok has not verified yet (`url_ownership_unverified`). Such a refusal
creates nothing at TikTok, so the init is made once more with the other method; the post records the
method that was used and each refusal (`transfer`). Photos have only PULL_FROM_URL: no fallback.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

from functions.ports import HasSettings

if TYPE_CHECKING:
    from functions.posting.manifest import PostManifest
    from functions.tiktok.errors import TikTokError


class TransferMethodPorts(HasSettings, Protocol):
    """The ports this module's functions use."""


FILE_UPLOAD = "FILE_UPLOAD"
PULL_FROM_URL = "PULL_FROM_URL"


def refuses_method(exc: TikTokError, source: str) -> bool:
    """Whether TikTok refused this way of sending the media, not the post."""
    if source == FILE_UPLOAD:
        return exc.code == "invalid_params" and "chunk" in exc.message.lower()
    return exc.code == "url_ownership_unverified"


def fallback_for(w: TransferMethodPorts, manifest: PostManifest, source: str, exc: TikTokError) -> str | None:
    """The other method to try after `exc`, or None when there is none."""
    if manifest.kind != "video" or not refuses_method(exc, source):
        return None
    if source == FILE_UPLOAD:
        return PULL_FROM_URL if w.settings.media_base_url else None
    return FILE_UPLOAD


def refusal(source: str, exc: TikTokError) -> dict[str, Any]:
    return {"method": source, "code": exc.code, "reason": exc.reason, "message": exc.message}


def both_refused_reason(refusals: list[dict[str, Any]]) -> str:
    said = "; ".join(f"{r['method']}: {r['code']} ({r['message'] or r['reason']})" for r in refusals)
    return (
        f"TikTok refused both ways of sending this video, {said}. Verify the media domain (or its URL "
        "prefix) in TikTok's developer portal and post the video again"
    )
