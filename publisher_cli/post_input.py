"""What `post` is asked to post, checked before anything is uploaded, and the manifest it becomes.

The server checks every manifest again (functions/posting/manifest.py) and fails a post it refuses with
the reason; the checks here catch what is plainly wrong while nothing has been sent yet. The values they
use are the server's (tests/cli keeps them equal); this package imports nothing from functions/.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import Any, Literal

from publisher_cli.errors import BadInput

VIDEO_SUFFIXES = (".mp4", ".mov", ".webm")  # functions/posting/intake.py
PHOTO_SUFFIXES = (".jpg", ".jpeg", ".webp")  # JPEG and WebP: functions/posting/rules.py
PHOTOS_MAX = 35  # functions/tiktok/models.py PHOTO_IMAGES_MAX
ACCOUNT_ID = re.compile(r"[a-z0-9._-]{1,64}")  # functions/store/accounts.py
MAX_AHEAD = timedelta(days=30)  # functions/posting/manifest.py MAX_PUBLISH_AHEAD_SECONDS
PAST_TOLERANCE = timedelta(minutes=1)
_RELATIVE = re.compile(r"\+(\d+)([smhd])")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86_400}

Kind = Literal["video", "photo"]


class Privacy(StrEnum):
    PUBLIC_TO_EVERYONE = "PUBLIC_TO_EVERYONE"
    MUTUAL_FOLLOW_FRIENDS = "MUTUAL_FOLLOW_FRIENDS"
    FOLLOWER_OF_CREATOR = "FOLLOWER_OF_CREATOR"
    SELF_ONLY = "SELF_ONLY"


class Status(StrEnum):
    """A post's statuses, in the order a post goes through them (functions/post_status.py)."""

    RECEIVED = "RECEIVED"
    AWAITING_REVIEW = "AWAITING_REVIEW"
    SCHEDULED = "SCHEDULED"
    WAITING_QUOTA = "WAITING_QUOTA"
    INITIALIZING = "INITIALIZING"
    UPLOADING = "UPLOADING"
    PROCESSING = "PROCESSING"
    SEND_TO_USER_INBOX = "SEND_TO_USER_INBOX"
    PUBLISH_COMPLETE = "PUBLISH_COMPLETE"
    FAILED = "FAILED"
    CANCELLED = "CANCELLED"


def _choice(enum: type[Privacy] | type[Status], option: str, text: str) -> str:
    value = text.strip().upper()
    known = [member.value for member in enum]
    if value not in known:
        raise BadInput(f"{option} {text!r}: one of {', '.join(known)}")
    return value


def parse_privacy(text: str) -> Privacy:
    return Privacy(_choice(Privacy, "--privacy", text))


def parse_status(text: str) -> Status:
    return Status(_choice(Status, "--status", text))


def check_account_id(account: str, option: str = "--account") -> str:
    if not ACCOUNT_ID.fullmatch(account):
        raise BadInput(f"{option} {account!r}: an account is 1-64 characters of a-z, 0-9, '.', '_' or '-'")
    return account


def media_kind(path: Path) -> Kind:
    suffix = path.suffix.lower()
    if suffix in VIDEO_SUFFIXES:
        return "video"
    if suffix in PHOTO_SUFFIXES:
        return "photo"
    raise BadInput(
        f"{path}: neither a video ({', '.join(VIDEO_SUFFIXES)}) nor a photo ({', '.join(PHOTO_SUFFIXES)}), "
        "going by its extension"
    )


def check_files(files: list[Path]) -> Kind:
    """One video, or 1-35 photos, every one of them a readable file."""
    if not files:
        raise BadInput("name one video, or 1 to 35 photos")
    for path in files:
        if not path.exists():
            raise BadInput(f"{path}: no such file")
        if not path.is_file():
            raise BadInput(f"{path}: not a file")
    kinds = [media_kind(path) for path in files]
    if "video" in kinds:
        if len(files) > 1:
            raise BadInput("a post is one video, or photos alone: name the video by itself")
        return "video"
    if len(files) > PHOTOS_MAX:
        raise BadInput(f"a photo post holds 1 to {PHOTOS_MAX} photos, not {len(files)}")
    return "photo"


def parse_at(text: str, now: datetime | None = None) -> str:
    """`--at`: an ISO 8601 time (without a zone: this machine's local time) or `+30m`, `+2h`, `+1d`; as the
    manifest's `publish_at` (UTC, whole seconds)."""
    now = now or datetime.now(UTC)
    relative = _RELATIVE.fullmatch(text.strip())
    if relative:
        at = now + timedelta(seconds=int(relative[1]) * _UNIT_SECONDS[relative[2]])
    else:
        try:
            at = datetime.fromisoformat(text.strip())
        except ValueError:
            raise BadInput(
                f"--at {text!r}: not a time; give e.g. 2026-12-01T18:00 (local time), "
                "2026-12-01T18:00:00Z, or +30m, +2h, +1d"
            ) from None
        if at.tzinfo is None:
            at = at.astimezone()  # the user's own clock
    if at < now - PAST_TOLERANCE:
        raise BadInput(f"--at {text!r} is in the past")
    if at > now + MAX_AHEAD:
        raise BadInput(f"--at {text!r} is more than {MAX_AHEAD.days} days ahead")
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class PostOptions:
    """The settings `post` was given; None where the user said nothing (the server's default applies)."""

    inbox: bool = False
    privacy: Privacy | None = None
    caption: str | None = None
    title: str | None = None
    description: str | None = None
    publish_at: str | None = None
    cover_ms: int | None = None
    cover_index: int | None = None
    aigc: bool = False
    allow_comment: bool | None = None
    allow_duet: bool | None = None
    allow_stitch: bool | None = None
    branded_content: bool = False
    brand_organic: bool = False
    auto_add_music: bool = False
    client_token: str | None = None

    def problems(self, kind: Kind, photo_count: int) -> list[str]:
        """Every option that does not fit the others or the media (all of them, not just the first)."""
        out = self._inbox_problems()
        if self.branded_content and self.privacy is Privacy.SELF_ONLY:
            out.append("--branded-content cannot be private: choose another --privacy than SELF_ONLY")
        return out + (self._video_problems() if kind == "video" else self._photo_problems(photo_count))

    def _inbox_problems(self) -> list[str]:
        if not self.inbox:
            return []
        out: list[str] = []
        if self.privacy is not None:
            out.append("--privacy is for direct posts: the creator picks it in the TikTok app for a draft")
        if self.aigc:
            out.append("--aigc cannot go with --inbox: the creator sets the label in the TikTok app")
        if self.branded_content or self.brand_organic:
            out.append(
                "--branded-content/--brand-organic cannot go with --inbox: the creator sets it in the TikTok app"
            )
        return out

    def _video_problems(self) -> list[str]:
        out: list[str] = []
        if self.title is not None or self.description is not None:
            out.append("--title/--description are for photo posts; a video takes --caption")
        if self.cover_index is not None:
            out.append("--cover-index is for photo posts; a video takes --cover-ms")
        return out

    def _photo_problems(self, photo_count: int) -> list[str]:
        out: list[str] = []
        if self.caption is not None:
            out.append("--caption is for videos; a photo post takes --title and --description")
        if self.cover_ms is not None:
            out.append("--cover-ms is for videos; a photo post takes --cover-index")
        if self.allow_duet or self.allow_stitch:
            out.append("--allow-duet/--allow-stitch do not apply to photo posts")
        if self.cover_index is not None and self.cover_index >= photo_count:
            out.append(f"--cover-index {self.cover_index} is past the last photo (index {photo_count - 1})")
        return out

    def manifest(self, kind: Kind, media: list[str]) -> dict[str, Any]:
        """The manifest naming `media` (keys relative to the manifest's folder); what the user left unsaid
        stays out, so the server's defaults apply."""
        fields: dict[str, Any] = {
            "video" if kind == "video" else "photos": media[0] if kind == "video" else media,
            "mode": "inbox" if self.inbox else "direct",
            "privacy_level": self.privacy.value if self.privacy is not None else None,
            "caption": self.caption,
            "title": self.title,
            "description": self.description,
            "publish_at": self.publish_at,
            "cover_timestamp_ms": self.cover_ms,
            "cover_index": self.cover_index,
            "allow_comment": self.allow_comment,
            "allow_duet": self.allow_duet,
            "allow_stitch": self.allow_stitch,
            "is_aigc": self.aigc or None,
            "branded_content": self.branded_content or None,
            "brand_organic": self.brand_organic or None,
            "auto_add_music": self.auto_add_music or None,
            "client_token": self.client_token,
        }
        return {k: v for k, v in fields.items() if v is not None}
