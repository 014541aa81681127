"""TikTok's Display API (docs/reference/tiktok-in-the-field.md §6): a creator's public videos and their
numbers (`video.list` scope), and the creator's counts (`user.info.stats`).

TikTok lists public videos only, newest first; a private post is never there. Limits: 600 requests a
minute per endpoint and token (the same rate budgets as the posting calls keep them).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict, Field

if TYPE_CHECKING:
    from functions.tiktok.client import TikTokClient

VIDEO_LIST_PATH = "/v2/video/list/"
VIDEO_QUERY_PATH = "/v2/video/query/"
VIDEO_LIST_SCOPE = "video.list"
STATS_SCOPE = "user.info.stats"
MAX_COUNT = 20  # per page, and ids per query
VIDEO_FIELDS = (
    "id",
    "create_time",
    "share_url",
    "title",
    "video_description",
    "duration",
    "view_count",
    "like_count",
    "comment_count",
    "share_count",
)
STATS_FIELDS = ("follower_count", "following_count", "likes_count", "video_count")


class Video(BaseModel):
    """One public video as the Display API describes it (the fields VIDEO_FIELDS asks for)."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    id: str
    create_time: int = 0
    share_url: str = ""
    title: str = ""
    video_description: str = ""
    duration: int = 0
    view_count: int = 0
    like_count: int = 0
    comment_count: int = 0
    share_count: int = 0

    @property
    def caption(self) -> str:
        return self.video_description or self.title

    def numbers(self) -> dict[str, int]:
        return {
            "view_count": self.view_count,
            "like_count": self.like_count,
            "comment_count": self.comment_count,
            "share_count": self.share_count,
        }


class VideoPage(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    videos: list[Video] = Field(default_factory=list)
    cursor: int | None = None
    has_more: bool = False


def list_videos(
    client: TikTokClient, access_token: str, *, cursor: int | None = None, max_count: int = MAX_COUNT
) -> VideoPage:
    """One page of the creator's public videos, newest first; `cursor` is the previous page's."""
    if not 1 <= max_count <= MAX_COUNT:
        raise ValueError(f"max_count must be 1-{MAX_COUNT}")
    body: dict[str, int] = {"max_count": max_count}
    if cursor is not None:
        body["cursor"] = cursor
    data = client.read("video_list", VIDEO_LIST_PATH, access_token, body, params=_fields(VIDEO_FIELDS))
    return VideoPage.model_validate(data)


def query_videos(client: TikTokClient, access_token: str, video_ids: Sequence[str]) -> list[Video]:
    """The creator's own public videos among `video_ids` (at most 20); the others are absent."""
    ids = list(dict.fromkeys(str(i) for i in video_ids))
    if not 1 <= len(ids) <= MAX_COUNT:
        raise ValueError(f"between 1 and {MAX_COUNT} video ids per query")
    body = {"filters": {"video_ids": ids}}
    data = client.read("video_query", VIDEO_QUERY_PATH, access_token, body, params=_fields(VIDEO_FIELDS))
    return VideoPage.model_validate(data).videos


def creator_stats(client: TikTokClient, access_token: str) -> dict[str, int]:
    """Follower, following, like and video counts of the creator (`user.info.stats`)."""
    user = client.user_info(access_token, fields=STATS_FIELDS)
    return {name: int(user.get(name) or 0) for name in STATS_FIELDS}


def _fields(names: Sequence[str]) -> dict[str, str]:
    return {"fields": ",".join(names)}
