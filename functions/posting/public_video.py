"""Which of a creator's public videos is the post we published, when TikTok did not say
(`publicaly_available_post_id` is often never sent: docs/reference/tiktok-in-the-field.md §3).

A candidate was created between the post's first init and a while after TikTok reported it published,
and its caption is the post's. Exactly one candidate is the post; none means "not listed yet"; two or
more are never guessed between (a creator posting the same caption twice in minutes, say).
"""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from functions.tiktok.display import Video

# TikTok's video object holds the first 150 characters of a caption; whitespace may be folded.
CAPTION_CHARS = 150
# TikTok's create_time is when it created the post, between our init and its processing end (minutes).
BEFORE_INIT_SECONDS = 120
AFTER_COMPLETE_SECONDS = 3600

Verdict = Literal["found", "not_listed", "ambiguous"]


@dataclass(frozen=True)
class Match:
    verdict: Verdict
    video: Video | None = None
    candidates: tuple[str, ...] = ()  # the ids that fit, when ambiguous


def _normal(caption: str) -> str:
    return re.sub(r"\s+", " ", caption).strip().casefold()[:CAPTION_CHARS]


def match_public_video(
    videos: Sequence[Video],
    *,
    caption: str,
    init_at: int,
    completed_at: int,
    claimed: Collection[str] = (),
) -> Match:
    """The post among `videos`; `claimed` are ids other posts of the account already own."""
    wanted = _normal(caption)
    earliest, latest = init_at - BEFORE_INIT_SECONDS, completed_at + AFTER_COMPLETE_SECONDS
    fits = [
        v
        for v in videos
        if v.id not in claimed and earliest <= v.create_time <= latest and _normal(v.caption) == wanted
    ]
    if len(fits) == 1:
        return Match("found", fits[0])
    if not fits:
        return Match("not_listed")
    return Match("ambiguous", candidates=tuple(v.id for v in fits))
