"""Sandbox creators: the TikTok accounts that can be authorised, and what creator_info says about them."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

# docs/reference/tiktok-api.md §2.2: the options creator_info offers for public and private accounts.
PUBLIC_PRIVACY_OPTIONS = ("PUBLIC_TO_EVERYONE", "MUTUAL_FOLLOW_FRIENDS", "SELF_ONLY")
PRIVATE_PRIVACY_OPTIONS = ("FOLLOWER_OF_CREATOR", "MUTUAL_FOLLOW_FRIENDS", "SELF_ONLY")
# §7.2: an unaudited client may only post SELF_ONLY.
UNAUDITED_PRIVACY_OPTIONS = ("SELF_ONLY",)


@dataclass
class Creator:
    """One TikTok account. `posts_today` preloads Direct Posts made "elsewhere" in the last 24 h
    (TikTok's cap is shared across every API client), so `posts_today >= cap` is a creator at the cap."""

    username: str
    nickname: str
    open_id: str
    private: bool = False
    max_video_post_duration_sec: int = 600
    comment_disabled: bool = False
    duet_disabled: bool = False
    stitch_disabled: bool = False
    posts_today: int = 0
    post_cap: int | None = None  # None: SandboxConfig.posts_per_day
    banned: bool = False
    # Judge this creator's posts as if they came through an unaudited client, so one sandbox can
    # exercise both rule sets; SandboxConfig.audited=False applies the same rules to every creator.
    unaudited_client: bool = False
    app_version: str = "35.1.0"  # photo MEDIA_UPLOAD needs >= 31.8 (§2.5)
    union_id: str = ""
    # Profile and stats for /v2/user/info/. follower_count is this base plus followers the
    # creator's public videos win as their views grow (display.py).
    bio_description: str = ""
    is_verified: bool = False
    follower_base: int = 0
    following_count: int = 0

    def __post_init__(self) -> None:
        if not self.username or not self.open_id:
            raise ValueError("a creator needs a username and an open_id")
        if self.max_video_post_duration_sec <= 0:
            raise ValueError(f"{self.username}: max_video_post_duration_sec must be positive")
        if self.posts_today < 0:
            raise ValueError(f"{self.username}: posts_today cannot be negative")
        if self.post_cap is not None and self.post_cap < 0:
            raise ValueError(f"{self.username}: post_cap cannot be negative")
        if self.follower_base < 0 or self.following_count < 0:
            raise ValueError(f"{self.username}: follower_base and following_count cannot be negative")
        if not self.union_id:
            self.union_id = f"union-{self.open_id}"

    def is_unaudited(self, client_audited: bool) -> bool:
        return self.unaudited_client or not client_audited

    def privacy_level_options(
        self, client_audited: bool, *, lists_public_when_unaudited: bool = False
    ) -> list[str]:
        if self.is_unaudited(client_audited) and not lists_public_when_unaudited:
            return list(UNAUDITED_PRIVACY_OPTIONS)
        return list(PRIVATE_PRIVACY_OPTIONS if self.private else PUBLIC_PRIVACY_OPTIONS)

    def interaction_settings(self) -> dict[str, bool]:
        # §2.2: duet and stitch are also reported disabled for every private account.
        return {
            "comment_disabled": self.comment_disabled,
            "duet_disabled": self.duet_disabled or self.private,
            "stitch_disabled": self.stitch_disabled or self.private,
        }

    def app_version_at_least(self, minimum: tuple[int, ...]) -> bool:
        parts: list[int] = []
        for piece in self.app_version.split("."):
            digits = "".join(ch for ch in piece if ch.isdigit())
            parts.append(int(digits) if digits else 0)
        return tuple(parts) >= minimum

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, raw: Any) -> Creator:
        if not isinstance(raw, dict):
            raise ValueError("a creator must be a JSON object")
        known = {f.name: f for f in dataclasses.fields(cls)}
        unknown = sorted(set(raw) - set(known))
        if unknown:
            raise ValueError(f"unknown creator field(s): {', '.join(unknown)}")
        for name in ("username", "nickname", "open_id"):
            if not isinstance(raw.get(name), str):
                raise ValueError(f"creator field {name!r} must be a string")
        for name, value in raw.items():
            _check_field_type(name, value)
        return cls(**raw)


_BOOL_FIELDS = {
    "private",
    "comment_disabled",
    "duet_disabled",
    "stitch_disabled",
    "banned",
    "unaudited_client",
    "is_verified",
}
_INT_FIELDS = {"max_video_post_duration_sec", "posts_today", "follower_base", "following_count"}
_STR_FIELDS = {"username", "nickname", "open_id", "app_version", "union_id", "bio_description"}


def _check_field_type(name: str, value: Any) -> None:
    ok = True
    if name in _BOOL_FIELDS:
        ok = isinstance(value, bool)
    elif name in _INT_FIELDS:
        ok = isinstance(value, int) and not isinstance(value, bool)
    elif name == "post_cap":
        ok = value is None or (isinstance(value, int) and not isinstance(value, bool))
    elif name in _STR_FIELDS:
        ok = isinstance(value, str)
    if not ok:
        raise ValueError(f"creator field {name!r} has the wrong type")


def default_creators() -> list[Creator]:
    """One creator per situation a client must handle (documented in docs/sandbox.md)."""
    return [
        Creator(
            username="sandbox_public",
            nickname="Sandbox Public",
            open_id="open-id-public-0001",
            private=False,
            max_video_post_duration_sec=600,
            bio_description="Posts from the sandbox",
            is_verified=True,
            follower_base=1200,
            following_count=85,
        ),
        Creator(
            username="sandbox_private",
            nickname="Sandbox Private",
            open_id="open-id-private-0002",
            private=True,
            max_video_post_duration_sec=300,
            comment_disabled=True,
            follower_base=40,
            following_count=12,
        ),
        Creator(
            username="sandbox_capped",
            nickname="Sandbox At Cap",
            open_id="open-id-capped-0003",
            private=False,
            max_video_post_duration_sec=180,
            posts_today=15,
        ),
        Creator(
            username="sandbox_banned",
            nickname="Sandbox Banned",
            open_id="open-id-banned-0004",
            private=False,
            max_video_post_duration_sec=180,
            banned=True,
        ),
        Creator(
            username="sandbox_unaudited",
            nickname="Sandbox Unaudited",
            open_id="open-id-unaudited-0005",
            private=True,
            max_video_post_duration_sec=180,
            unaudited_client=True,
        ),
    ]
