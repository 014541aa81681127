"""TikTok's daily cap is the creator's, shared with every app they post from: public videos the creator
published elsewhere in the last 24 hours hold slots of our ledger too, so our post waits instead of being
refused with spam_risk_too_many_posts (docs/after-publishing.md, "What cannot be seen": private posts
made elsewhere are not listed, so they cannot be counted).

Each such video holds one slot (holder `elsewhere:<video id>`) until 24 hours after TikTok created it. A
video that is one of our own posts is not counted: its post holds its own slot.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any, Protocol

from functions.accounts.scopes import VIDEO_LIST_SCOPE
from functions.ports import HasAccessTokens, HasPosts, HasQuota, HasRateBudget, HasSettings, HasTikTok
from functions.posting.after_publish import completed_time, init_time
from functions.posting.public_video import match_public_video
from functions.posting.quota import DAY, INIT_MARGIN_SECONDS, posts_ledger
from functions.posting.record_parts import caption_of
from functions.store.quota import Full
from functions.tiktok.errors import TikTokError

if TYPE_CHECKING:
    from functions.store.accounts import Account
    from functions.tiktok.display import Video


class SharedCapPorts(HasSettings, HasPosts, HasQuota, HasTikTok, HasAccessTokens, HasRateBudget, Protocol):
    """The ports this module's functions use."""


LOG = logging.getLogger(__name__)
MAX_PAGES = 5  # 100 videos: far more than a daily cap


def hold_posts_made_elsewhere(w: SharedCapPorts, account: Account, now: int) -> int:
    """Hold a daily-cap slot for each public video the creator posted elsewhere in the last 24 hours;
    how many of them found no free slot (our posts hold them all). 0 when the account may not list its
    videos."""
    return hold_slots(w, account, posts_made_elsewhere(w, account, now), now)


def posts_made_elsewhere(w: SharedCapPorts, account: Account, now: int) -> list[Video]:
    """The creator's public videos of the last 24 hours that are not our posts; none when the account
    may not list its videos, or TikTok would not list them now."""
    if not w.settings.display_scopes or VIDEO_LIST_SCOPE not in account.scopes:
        return []
    try:
        recent = _recent_videos(w, account.account_id, now)
    except TikTokError as exc:
        # Our own slots still keep our posts within the cap; TikTok's answer to the init decides the rest.
        LOG.warning("could not list the creator's recent videos: %s", exc.code)
        return []
    # A video TikTok created in the last 24 hours that is ours was published by us since then.
    ours = w.posts.published_since(account.account_id, now - DAY - INIT_MARGIN_SECONDS)
    return [v for v in recent if not _is_ours(v, ours)]


def hold_slots(w: SharedCapPorts, account: Account, videos: list[Video], now: int) -> int:
    """A daily-cap slot for each video until 24 hours after TikTok created it (one it holds already is
    kept); how many found the ledger full."""
    key, unheld = posts_ledger(account.account_id), 0
    for video in videos:
        until = video.create_time + DAY + INIT_MARGIN_SECONDS
        held = w.quota.reserve(
            key,
            capacity=account.daily_post_cap,
            window_seconds=max(until - now, 1),
            holder=f"elsewhere:{video.id}",
            now=now,
        )
        unheld += isinstance(held, Full)
    return unheld


def _recent_videos(w: SharedCapPorts, account_id: str, now: int) -> list[Video]:
    from functions.tiktok.display import list_videos  # noqa: PLC0415 - pydantic models: accounts that list

    token = w.access_tokens.for_account(account_id)
    found: list[Video] = []
    cursor: int | None = None
    for _ in range(MAX_PAGES):
        w.rate_budget.take(account_id, "video_list")
        page = list_videos(w.tiktok, token, cursor=cursor)
        found.extend(v for v in page.videos if v.create_time > now - DAY)
        if not page.has_more or any(v.create_time <= now - DAY for v in page.videos):
            break
        cursor = page.cursor
    return found


def _is_ours(video: Video, posts: list[dict[str, Any]]) -> bool:
    """One of our posts: by the id TikTok gave or we found, or a published post of ours it matches."""
    for post in posts:
        named = {str(post.get("video_id") or ""), *(str(i) for i in post.get("tiktok_post_ids") or [])}
        if video.id in named:
            return True
        if post.get("status") == "PUBLISH_COMPLETE" and not post.get("video_id"):
            fits = match_public_video(
                [video], caption=caption_of(post), init_at=init_time(post), completed_at=completed_time(post)
            )
            if fits.verdict == "found":
                return True
    return False
