"""The post manifest: what a creator or a tool asks to post, validated before anything reaches TikTok.

A manifest is a JSON object (a `*.json` file under `posts/<account>/`, or the body of `POST /posts`).
Every error names the field that is wrong and why, in words a person understands.

A direct post without `privacy_level` is valid: its author made no choice, and TikTok forbids choosing one
for them, so the post waits for the creator on the review page (functions/review) instead.
"""

from __future__ import annotations

import json
import posixpath
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from functions.posting.errors import PostRejectedError
from functions.tiktok.models import (
    PHOTO_DESCRIPTION_MAX,
    PHOTO_IMAGES_MAX,
    PHOTO_TITLE_MAX,
    VIDEO_TITLE_MAX,
    PrivacyLevel,
    utf16_length,
)

ACCOUNT_ID_PATTERN = re.compile(r"^[a-z0-9._-]{1,64}$")
POSTS_PREFIX = "posts/"
MAX_MANIFEST_BYTES = 64 * 1024
MAX_PUBLISH_AHEAD_SECONDS = 30 * 86_400  # a Standard execution may last a year; a month is plenty


class ManifestError(ValueError):
    """A manifest that cannot be posted; `problems` lists each field and what is wrong with it."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("; ".join(problems))


class PostManifest(BaseModel):
    model_config = ConfigDict(defer_build=True, extra="forbid", frozen=True, str_strip_whitespace=True)

    account: str | None = Field(default=None, description="the connected account to post to")
    video: str | None = Field(default=None, description="S3 key of the video (relative to the manifest)")
    photos: list[str] | None = Field(default=None, description="S3 keys of 1-35 photos, in order")
    mode: Literal["direct", "inbox"] = "direct"
    caption: str | None = Field(default=None, description="video caption (direct posts only)")
    title: str | None = Field(default=None, description="photo post title")
    description: str | None = Field(default=None, description="photo post description")
    privacy_level: PrivacyLevel | None = Field(
        default=None, description="direct posts; left out, the creator chooses it on the review page"
    )
    allow_comment: bool = False
    allow_duet: bool = False
    allow_stitch: bool = False
    brand_organic: bool = Field(default=False, description="promotes the creator's own brand ('Your brand')")
    branded_content: bool = Field(default=False, description="a paid partnership ('Branded content')")
    is_aigc: bool = False
    auto_add_music: bool = False
    cover_timestamp_ms: int | None = Field(default=None, ge=0, le=2**31 - 1)
    cover_index: int = Field(default=0, ge=0)
    publish_at: datetime | None = None
    client_token: str | None = Field(default=None, max_length=128, description="posting the same again")
    repair: bool | None = Field(
        default=None,
        description="repair media TikTok would reject into a conforming copy (left out: the account's "
        "saved preference, else true); false fails such a post with its reason",
    )

    @field_validator("account")
    @classmethod
    def _account(cls, value: str | None) -> str | None:
        if value is not None and not ACCOUNT_ID_PATTERN.fullmatch(value):
            raise ValueError("must be 1-64 characters of a-z, 0-9, '.', '_' or '-'")
        return value

    @field_validator("photos")
    @classmethod
    def _photos(cls, value: list[str] | None) -> list[str] | None:
        if value is not None and not 1 <= len(value) <= PHOTO_IMAGES_MAX:
            raise ValueError(f"must name 1 to {PHOTO_IMAGES_MAX} photos, not {len(value)}")
        return value

    @field_validator("publish_at")
    @classmethod
    def _publish_at(cls, value: datetime | None) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("needs a time zone, e.g. 2026-12-01T18:00:00Z")
        return value.astimezone(UTC) if value else None

    @model_validator(mode="after")
    def _consistent(self) -> PostManifest:
        problems = self.problems()
        if problems:
            raise ValueError("; ".join(problems))
        return self

    def problems(self) -> list[str]:
        """Rules that span fields (TikTok's API and its Direct Post UX rules)."""
        out: list[str] = []
        if (self.video is None) == (self.photos is None):
            out.append("name exactly one of 'video' or 'photos'")
        if self.mode == "inbox":
            out += self._inbox_problems()
        if self.branded_content and self.privacy_level is PrivacyLevel.SELF_ONLY:
            out.append("branded content cannot be private (SELF_ONLY): choose another privacy_level")
        out += self._video_problems() if self.video is not None else self._photo_problems()
        return out

    def _inbox_problems(self) -> list[str]:
        # TikTok's inbox upload takes the media alone: settings it cannot carry are refused, not dropped.
        out: list[str] = []
        if self.privacy_level is not None:
            out.append("privacy_level applies to direct posts only; the creator picks it in the TikTok app")
        if self.is_aigc:
            out.append(
                "is_aigc: an inbox draft cannot carry the AI-generated label; the creator turns it on in the "
                "TikTok app when posting the draft (or use mode direct)"
            )
        if self.branded_content or self.brand_organic:
            out.append(
                "branded_content/brand_organic: an inbox draft cannot carry the disclosure; the creator sets it "
                "in the TikTok app when posting the draft (or use mode direct)"
            )
        return out

    def _video_problems(self) -> list[str]:
        out: list[str] = []
        if self.title is not None or self.description is not None:
            out.append("title/description are for photo posts; a video uses 'caption'")
        if self.caption is not None and utf16_length(self.caption) > VIDEO_TITLE_MAX:
            out.append(f"caption is {utf16_length(self.caption)} characters; TikTok allows {VIDEO_TITLE_MAX}")
        return out

    def _photo_problems(self) -> list[str]:
        out: list[str] = []
        photos = self.photos or []
        if self.caption is not None:
            out.append("'caption' is for videos; a photo post uses 'title' and 'description'")
        if self.allow_duet or self.allow_stitch:
            out.append("duet and stitch do not apply to photo posts")
        if photos and self.cover_index >= len(photos):
            out.append(f"cover_index {self.cover_index} is past the last photo (index {len(photos) - 1})")
        if self.title is not None and utf16_length(self.title) > PHOTO_TITLE_MAX:
            out.append(f"title is {utf16_length(self.title)} characters; TikTok allows {PHOTO_TITLE_MAX}")
        if self.description is not None and utf16_length(self.description) > PHOTO_DESCRIPTION_MAX:
            out.append(
                f"description is {utf16_length(self.description)} characters; TikTok allows {PHOTO_DESCRIPTION_MAX}"
            )
        return out

    def repair_wanted(self, preferences: dict[str, Any]) -> bool:
        """Whether media TikTok would reject is repaired: the manifest's choice, else the account's saved
        preference, else yes."""
        if self.repair is not None:
            return self.repair
        saved = preferences.get("repair")
        return saved if isinstance(saved, bool) else True

    @property
    def kind(self) -> Literal["video", "photo"]:
        return "video" if self.video is not None else "photo"

    def media_keys(self) -> list[str]:
        return [self.video] if self.video is not None else list(self.photos or [])


def _describe(error: ValidationError) -> list[str]:
    problems = []
    for item in error.errors():
        where = ".".join(str(p) for p in item["loc"])
        message = item["msg"].removeprefix("Value error, ")
        if item["type"] == "extra_forbidden":
            message = "is not a manifest field"
        problems.append(f"{where}: {message}" if where else message)
    return problems


def parse_manifest(raw: bytes | str | dict[str, Any]) -> PostManifest:
    """A validated manifest, or ManifestError naming every problem."""
    if isinstance(raw, bytes | str):
        if len(raw) > MAX_MANIFEST_BYTES:
            raise ManifestError([f"the manifest is larger than {MAX_MANIFEST_BYTES} bytes"])
        try:
            data = json.loads(raw)
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise ManifestError([f"the manifest is not valid JSON: {exc}"]) from None
    else:
        data = raw
    if not isinstance(data, dict):
        raise ManifestError(["the manifest must be a JSON object"])
    try:
        return PostManifest.model_validate(data)
    except ValidationError as exc:
        raise ManifestError(_describe(exc)) from None


def manifest_of(post: Mapping[str, Any]) -> PostManifest:
    """A post's `settings`: the manifest validated at intake, read back; post_record_invalid naming the
    fields when the record holds something else."""
    try:
        return PostManifest.model_validate(post.get("settings"))
    except ValidationError as exc:
        problems = "; ".join(_describe(exc))
        raise PostRejectedError("post_record_invalid", f"the post record's settings: {problems}") from None


def resolve_media_key(manifest_key: str, name: str, account_id: str) -> str:
    """The S3 key a manifest's media name points to: relative names resolve against the manifest's folder;
    the result must stay under the account's own prefix (no '..' escape to another account's media)."""
    base = posixpath.dirname(manifest_key) if manifest_key else f"{POSTS_PREFIX}{account_id}"
    key = posixpath.normpath(name if name.startswith(POSTS_PREFIX) else posixpath.join(base, name))
    if not key.startswith(f"{POSTS_PREFIX}{account_id}/"):
        raise ManifestError([f"media {name!r} is outside posts/{account_id}/"])
    return key


def check_publish_at(manifest: PostManifest, now: int) -> None:
    if manifest.publish_at is None:
        return
    ahead = manifest.publish_at.timestamp() - now
    if ahead > MAX_PUBLISH_AHEAD_SECONDS:
        raise ManifestError([f"publish_at is more than {MAX_PUBLISH_AHEAD_SECONDS // 86_400} days ahead"])


def publish_at_text(manifest: PostManifest, now: int) -> str | None:
    """publish_at as Step Functions compares it (whole seconds, Z), or None when it is not in the future."""
    if manifest.publish_at is None or manifest.publish_at.timestamp() <= now:
        return None
    return manifest.publish_at.strftime("%Y-%m-%dT%H:%M:%SZ")


def bare_video_manifest(video_key: str, preferences: dict[str, Any]) -> PostManifest:
    """The manifest of a video dropped without one: the account's saved preferences, or a clear error."""
    if not preferences:
        raise ManifestError(
            [
                "this video came without a manifest and the account has no saved posting preferences: "
                "save them (PUT /accounts/{account}/preferences) or upload a .json manifest naming the video"
            ]
        )
    allowed = set(PostManifest.model_fields) - {"video", "photos", "account", "publish_at", "client_token"}
    settings = {k: v for k, v in preferences.items() if k in allowed}
    return parse_manifest({**settings, "video": video_key})
