"""The TikTok scopes a connection asks for: posting always; reading the creator's public videos and
counts (after publishing: docs/after-publishing.md) unless the operator's app has not been granted them."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from functions.settings import Settings

# user.info.basic: who connected; video.upload: inbox drafts; video.publish: direct posts and creator_info.
POSTING_SCOPES = ("user.info.basic", "video.upload", "video.publish")
# video.list: the public link and numbers of a post; user.info.stats: the creator's counts.
VIDEO_LIST_SCOPE, STATS_SCOPE = "video.list", "user.info.stats"
DISPLAY_SCOPES = (VIDEO_LIST_SCOPE, STATS_SCOPE)


def wanted_scopes(settings: Settings) -> tuple[str, ...]:
    return POSTING_SCOPES + (DISPLAY_SCOPES if settings.display_scopes else ())


def connect_url(settings: Settings, account_id: str) -> str:
    """The connect link that (re)connects `account_id`, asking TikTok for every wanted scope."""
    base = settings.oauth_redirect_uri.removesuffix("oauth/callback")
    return f"{base}connect?alias={account_id}" if base else ""
