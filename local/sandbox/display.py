"""The Display API (docs/reference/tiktok-in-the-field.md §6): a creator's public videos
(`/v2/video/list/`, `/v2/video/query/`) and `/v2/user/info/` with its basic, profile and stats fields.

A creator's videos are the sandbox posts that became publicly available, each under the post id the
status reports in `publicaly_available_post_id`, and the public videos posted elsewhere
(`ElsewhereVideo`). Views, likes, comments and shares are a function of the video id and its age on
the sandbox clock alone: they grow as the clock advances and are the same for the same id and time.
"""

from __future__ import annotations

import dataclasses
import hashlib
import math
from collections.abc import Container
from dataclasses import dataclass
from html import escape
from typing import TYPE_CHECKING, Any

from local.sandbox import endpoints
from local.sandbox.creators import Creator
from local.sandbox.errors import invalid_params, scope_not_authorized
from local.sandbox.posting import USER_FIELDS, authenticate, creator_of, json_body, ok
from local.sandbox.state import PUBLISH_COMPLETE, ElsewhereVideo, Post
from local.sandbox.validation import INT64, integer, obj
from local.sandbox.wire import Request, Response

if TYPE_CHECKING:
    from local.sandbox.app import SandboxApp

VIDEO_LIST_SCOPE = "video.list"
PUBLIC = "PUBLIC_TO_EVERYONE"
DEFAULT_MAX_COUNT = 10
MAX_COUNT = 20
MAX_QUERY_IDS = 20
# TikTok's video object: title and video_description hold at most 150 characters, and the cover
# link lives 6 hours.
TEXT_LIMIT = 150
COVER_TTL = 6 * 3600
# A video posted elsewhere has no media to measure: it is given a portrait 1080p frame.
ELSEWHERE_WIDTH, ELSEWHERE_HEIGHT = 1080, 1920
VIEWS_PER_LOG_HOUR = 1000.0
VIEWS_PER_FOLLOWER = 50

VIDEO_FIELDS = frozenset(
    {
        "id",
        "create_time",
        "cover_image_url",
        "share_url",
        "video_description",
        "duration",
        "height",
        "width",
        "title",
        "embed_html",
        "embed_link",
        "like_count",
        "comment_count",
        "share_count",
        "view_count",
    }
)


@dataclass(frozen=True)
class Video:
    """One public video, whichever way it was posted, before the requested fields are picked."""

    video_id: str
    username: str
    created_ms: int  # also the pagination cursor: unix milliseconds
    title: str
    description: str
    duration: int
    width: int
    height: int

    @property
    def created_at(self) -> float:
        return self.created_ms / 1000


@dataclass(frozen=True)
class Engagement:
    views: int
    likes: int
    comments: int
    shares: int


def engagement(video_id: str, age_seconds: float) -> Engagement:
    """The counts of a video `age_seconds` old. Views grow with the log of the age in hours, scaled by
    the video's own appeal; likes are a share of views, comments and shares a share of likes. Each is
    the floor of a non-decreasing function of age, so no count goes down as the clock moves on."""
    hours = max(0.0, age_seconds) / 3600
    views = int(VIEWS_PER_LOG_HOUR * _trait(video_id, "appeal", 0.5, 2.0) * math.log1p(hours))
    likes = int(views * _trait(video_id, "likes", 0.04, 0.12))
    comments = int(likes * _trait(video_id, "comments", 0.02, 0.08))
    shares = int(likes * _trait(video_id, "shares", 0.01, 0.05))
    return Engagement(views, likes, comments, shares)


def _trait(video_id: str, name: str, low: float, high: float) -> float:
    """A number in [low, high) fixed by the video id: every video has its own, always the same."""
    digest = hashlib.sha256(f"{name}:{video_id}".encode()).digest()
    return low + (high - low) * int.from_bytes(digest[:8], "big") / 2**64


def _to_ms(seconds: float) -> int:
    # round, not int: 1700000000.123 * 1000 is 1700000000122.9998 in floating point.
    return round(seconds * 1000)


def _cut(text: Any) -> str:
    return str(text or "")[:TEXT_LIMIT]


def _published(post: Post) -> list[Video]:
    """The public videos a sandbox post became: one per post id (an inbox draft the creator posts
    twice has two), each created when its id was minted."""
    if post.status != PUBLISH_COMPLETE or not post.publicly_available:
        return []
    minted_at = post.public_at
    info = post.post_info
    # A video has one caption (its `title`); a photo post has a title and a description.
    title = info.get("title")
    description = info.get("description") if post.media_type == "PHOTO" else title
    facts = post.probe[0] if post.probe else {}  # the video, or the first photo
    return [
        Video(
            video_id=str(post_id),
            username=post.username,
            created_ms=_to_ms(minted_at[index] if index < len(minted_at) else post.created_at),
            title=_cut(title),
            description=_cut(description),
            duration=round(facts.get("duration_sec", 0)),
            width=int(facts.get("width", 0)),
            height=int(facts.get("height", 0)),
        )
        for index, post_id in enumerate(post.post_ids)
    ]


def _from_elsewhere(video: ElsewhereVideo) -> Video:
    return Video(
        video_id=video.video_id,
        username=video.username,
        created_ms=_to_ms(video.created_at),
        title=_cut(video.title),
        description=_cut(video.description),
        duration=video.duration,
        width=ELSEWHERE_WIDTH,
        height=ELSEWHERE_HEIGHT,
    )


def public_videos(app: SandboxApp, open_id: str) -> list[Video]:
    """Every public video of the creator, newest first; the caller holds the state lock."""
    published = [
        video for post in app.state.posts.values() if post.open_id == open_id for video in _published(post)
    ]
    elsewhere = [
        _from_elsewhere(video)
        for video in app.state.elsewhere_videos
        if video.open_id == open_id and video.privacy_level == PUBLIC
    ]
    return sorted([*published, *elsewhere], key=lambda v: (v.created_ms, v.video_id), reverse=True)


def add_elsewhere_video(app: SandboxApp, video: ElsewhereVideo, now: float) -> dict[str, Any]:
    """Store a video posted elsewhere and describe it for the control's answer: every Display field,
    its privacy, and whether the Display API lists it. The caller holds the state lock."""
    # The cursor is a millisecond: two listed videos of one creator created in the same millisecond
    # could straddle a page boundary and one would be skipped, so a taken millisecond moves on by one.
    taken = {listed.created_ms for listed in public_videos(app, video.open_id)}
    created_ms = _to_ms(video.created_at)
    while created_ms in taken:
        created_ms += 1
    stored = dataclasses.replace(video, created_at=created_ms / 1000)
    app.state.elsewhere_videos.append(stored)
    fields = video_fields(app, _from_elsewhere(stored), now)
    return {**fields, "privacy_level": stored.privacy_level, "listed": stored.privacy_level == PUBLIC}


def video_fields(app: SandboxApp, video: Video, now: float) -> dict[str, Any]:
    """Every field of TikTok's video object for `video`, with the counts at sandbox time `now`."""
    counts = engagement(video.video_id, now - video.created_at)
    share_url = f"https://www.tiktok.com/@{video.username}/video/{video.video_id}"
    return {
        "id": video.video_id,
        "create_time": video.created_ms // 1000,
        "cover_image_url": f"{app.base_url}/_sandbox/covers/{video.video_id}.jpeg"
        f"?x-expires={int(now) + COVER_TTL}",
        "share_url": share_url,
        "video_description": video.description,
        "duration": video.duration,
        "height": video.height,
        "width": video.width,
        "title": video.title,
        "embed_html": _embed_html(video, share_url),
        "embed_link": f"https://www.tiktok.com/embed/v2/{video.video_id}",
        "like_count": counts.likes,
        "comment_count": counts.comments,
        "share_count": counts.shares,
        "view_count": counts.views,
    }


def _embed_html(video: Video, share_url: str) -> str:
    profile = f"https://www.tiktok.com/@{video.username}"
    return (
        f'<blockquote class="tiktok-embed" cite="{share_url}" data-video-id="{video.video_id}" '
        'style="max-width: 605px;min-width: 325px;"><section>'
        f'<a target="_blank" title="@{escape(video.username)}" href="{profile}">@{escape(video.username)}</a> '
        f"<p>{escape(video.description)}</p></section></blockquote>"
        '<script async src="https://www.tiktok.com/embed.js"></script>'
    )


def requested_fields(req: Request, known: Container[str]) -> list[str]:
    """The `fields` query parameter: required, comma separated, every name one of `known`."""
    raw = (req.query.get("fields") or [""])[-1]
    fields = list(dict.fromkeys(name.strip() for name in raw.split(",") if name.strip()))
    if not fields:
        raise invalid_params("The fields query parameter is required.")
    unknown = [name for name in fields if name not in known]
    if unknown:
        raise invalid_params(f"Unknown field(s) in fields: {', '.join(unknown)}.")
    return fields


def _picked(app: SandboxApp, videos: list[Video], fields: list[str], now: float) -> list[dict[str, Any]]:
    answers = []
    for video in videos:
        values = video_fields(app, video, now)
        answers.append({name: values[name] for name in fields})
    return answers


def video_list(app: SandboxApp, req: Request) -> Response:
    """The creator's public videos, newest first, a page at a time: `cursor` is the creation time (unix
    ms) of the previous page's last video, and the next page holds the videos created strictly before."""
    token = authenticate(app, req, endpoints.VIDEO_LIST, (VIDEO_LIST_SCOPE,))
    fields = requested_fields(req, VIDEO_FIELDS)
    body = json_body(req) if req.body.strip() else {}  # every key has a default
    max_count = integer(body, "max_count", required=False, bounds=(1, MAX_COUNT)) or DEFAULT_MAX_COUNT
    cursor = integer(body, "cursor", required=False, bounds=(0, INT64[1]))
    now = app.clock.now()
    with app.state.lock:
        creator = creator_of(app, token)
        older = [v for v in public_videos(app, creator.open_id) if cursor is None or v.created_ms < cursor]
    page = older[:max_count]
    # An empty page leaves the cursor where it was.
    unchanged = cursor if cursor is not None else _to_ms(now)
    data = {
        "videos": _picked(app, page, fields, now),
        "cursor": page[-1].created_ms if page else unchanged,
        "has_more": len(older) > len(page),
    }
    return ok(data)


def _video_ids(body: dict[str, Any]) -> list[str]:
    filters = obj(body, "filters", required=True) or {}
    ids = filters.get("video_ids")
    if not isinstance(ids, list) or not 1 <= len(ids) <= MAX_QUERY_IDS:
        raise invalid_params(f"The field filters.video_ids must list 1 to {MAX_QUERY_IDS} video ids.")
    # Ids are 19-digit numbers: as JSON numbers they lose precision in JavaScript, so text only.
    if not all(isinstance(video_id, str) for video_id in ids):
        raise invalid_params("The field filters.video_ids must hold the ids as strings.")
    return list(dict.fromkeys(ids))


def video_query(app: SandboxApp, req: Request) -> Response:
    """The asked-for videos that are the creator's own and public, in the order asked; any other id is
    left out without an error."""
    token = authenticate(app, req, endpoints.VIDEO_QUERY, (VIDEO_LIST_SCOPE,))
    fields = requested_fields(req, VIDEO_FIELDS)
    wanted = _video_ids(json_body(req))
    now = app.clock.now()
    with app.state.lock:
        creator = creator_of(app, token)
        own = {video.video_id: video for video in public_videos(app, creator.open_id)}
    found = [own[video_id] for video_id in wanted if video_id in own]
    return ok({"videos": _picked(app, found, fields, now)})


def _user_values(app: SandboxApp, creator: Creator, videos: list[Video], now: float) -> dict[str, Any]:
    """Every /v2/user/info/ field; the stats follow the creator's public videos at sandbox time `now`."""
    counts = [engagement(video.video_id, now - video.created_at) for video in videos]
    avatar = f"{app.base_url}/_sandbox/avatars/{creator.username}.jpeg"
    return {
        "open_id": creator.open_id,
        "union_id": creator.union_id,
        "avatar_url": avatar,
        "avatar_url_100": avatar,
        "avatar_large_url": avatar,
        "display_name": creator.nickname,
        "username": creator.username,
        "bio_description": creator.bio_description,
        "profile_deep_link": f"https://www.tiktok.com/@{creator.username}",
        "is_verified": creator.is_verified,
        "follower_count": creator.follower_base + sum(c.views for c in counts) // VIEWS_PER_FOLLOWER,
        "following_count": creator.following_count,
        "likes_count": sum(c.likes for c in counts),
        "video_count": len(videos),
    }


def user_info(app: SandboxApp, req: Request) -> Response:
    """The fields asked for, each allowed only when the token holds its scope."""
    token = authenticate(app, req, endpoints.USER_INFO, ())
    fields = requested_fields(req, USER_FIELDS)
    for name in fields:
        if USER_FIELDS[name] not in token.scopes:
            raise scope_not_authorized(USER_FIELDS[name])
    now = app.clock.now()
    with app.state.lock:
        creator = creator_of(app, token)
        videos = public_videos(app, creator.open_id)
    values = _user_values(app, creator, videos, now)
    return ok({"user": {name: values[name] for name in fields}})
