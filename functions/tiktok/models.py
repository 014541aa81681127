"""Request and response models for Login Kit and the Content Posting API (pydantic v2).

Requests are strict (unknown fields are a bug); responses ignore fields TikTok may add. Field rules
come from docs/reference/tiktok-api.md §1.3 and §2; the names follow TikTok's, misspellings included where
TikTok sends them (`publicaly_available_post_id`).
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import Any, Literal

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator

from functions.tiktok.chunks import TIKTOK_RULES, ChunkPlan

VIDEO_TITLE_MAX = 2200  # UTF-16 code units (§2.3)
PHOTO_TITLE_MAX = 90  # §2.5
PHOTO_DESCRIPTION_MAX = 4000
PHOTO_IMAGES_MAX = 35
_INT32_MAX = 2**31 - 1


def utf16_length(text: str) -> int:
    """TikTok counts caption limits in UTF-16 code units: an emoji outside the BMP counts as two."""
    return len(text.encode("utf-16-le")) // 2


def _check_utf16(text: str | None, limit: int, what: str) -> str | None:
    if text is not None and utf16_length(text) > limit:
        raise ValueError(f"{what} is {utf16_length(text)} UTF-16 characters; TikTok allows at most {limit}")
    return text


class PrivacyLevel(StrEnum):
    PUBLIC_TO_EVERYONE = "PUBLIC_TO_EVERYONE"
    MUTUAL_FOLLOW_FRIENDS = "MUTUAL_FOLLOW_FRIENDS"
    FOLLOWER_OF_CREATOR = "FOLLOWER_OF_CREATOR"
    SELF_ONLY = "SELF_ONLY"


class MediaSource(StrEnum):
    FILE_UPLOAD = "FILE_UPLOAD"
    PULL_FROM_URL = "PULL_FROM_URL"


class PhotoPostMode(StrEnum):
    DIRECT_POST = "DIRECT_POST"
    MEDIA_UPLOAD = "MEDIA_UPLOAD"  # the creator's inbox (draft)


class PostStatus(StrEnum):
    """Known `status` values (§5.1); PublishStatus.status stays a plain string so new values still parse."""

    PROCESSING_UPLOAD = "PROCESSING_UPLOAD"
    PROCESSING_DOWNLOAD = "PROCESSING_DOWNLOAD"
    SEND_TO_USER_INBOX = "SEND_TO_USER_INBOX"
    PUBLISH_COMPLETE = "PUBLISH_COMPLETE"
    FAILED = "FAILED"


class _Request(BaseModel):
    model_config = ConfigDict(defer_build=True, extra="forbid", frozen=True)

    def to_api(self) -> dict[str, Any]:
        """The JSON object TikTok expects: enum values as strings, unset optional fields left out."""
        return self.model_dump(mode="json", exclude_none=True)


class _Response(BaseModel):
    model_config = ConfigDict(defer_build=True, extra="ignore", frozen=True)


# ---------------------------------------------------------------------------------------------- OAuth


class TokenResponseError(ValueError):
    """The token endpoint answered 2xx with a body that is not a usable token set (names no values)."""


def _seconds(body: Mapping[str, Any], key: str) -> int | None:
    value = body.get(key)
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if value >= 0 else None
    if isinstance(value, str) and value.isdigit():
        return int(value)
    return None


def parse_scopes(value: object) -> list[str]:
    """TikTok's comma-separated scope list (tolerating spaces) as a de-duplicated list, order kept."""
    if isinstance(value, str):
        items = value.replace(" ", ",").split(",")
    elif isinstance(value, list | tuple):
        items = [str(v) for v in value]
    else:
        return []
    return list(dict.fromkeys(s.strip() for s in items if s.strip()))


class TokenSet(BaseModel):
    """A user's tokens with absolute expiry times (Unix seconds), computed from TikTok's `expires_in`.

    Token values are SecretStr: repr, str and JSON dumps show `**********`; read them with
    `.get_secret_value()` only where they are sent or encrypted.
    """

    model_config = ConfigDict(defer_build=True, extra="forbid", frozen=True, hide_input_in_errors=True)

    access_token: SecretStr
    refresh_token: SecretStr
    open_id: str
    scopes: list[str]
    access_expires_at: int
    refresh_expires_at: int
    token_type: str = "Bearer"  # noqa: S105 - the token kind, not a secret

    @classmethod
    def from_token_response(
        cls,
        body: Mapping[str, Any],
        *,
        now: float,
        fallback_refresh_token: str | None = None,
        fallback_refresh_expires_at: int | None = None,
    ) -> TokenSet:
        """Build from the flat token JSON received at `now`.

        TikTok rotates the refresh token on every refresh, so the one in the response always wins. Only
        if a response carried none (never documented) does the caller's current one stay in use.
        Raises TokenResponseError naming missing fields, never their values.
        """
        access_token = body.get("access_token")
        open_id = body.get("open_id")
        expires_in = _seconds(body, "expires_in")
        refresh_token = body.get("refresh_token")
        refresh_expires_in = _seconds(body, "refresh_expires_in")
        issued = int(now)
        if isinstance(refresh_token, str) and refresh_token:
            refresh_expires_at = issued + refresh_expires_in if refresh_expires_in is not None else None
        else:
            refresh_token = fallback_refresh_token
            refresh_expires_at = (
                issued + refresh_expires_in if refresh_expires_in is not None else fallback_refresh_expires_at
            )
        missing = [
            name
            for name, ok in (
                ("access_token", isinstance(access_token, str) and bool(access_token)),
                ("open_id", isinstance(open_id, str) and bool(open_id)),
                ("expires_in", expires_in is not None),
                ("refresh_token", bool(refresh_token)),
                ("refresh_expires_in", refresh_expires_at is not None),
            )
            if not ok
        ]
        if missing or expires_in is None or refresh_expires_at is None:
            raise TokenResponseError(f"token response lacks usable {', '.join(missing)}")
        token_type = body.get("token_type")
        return cls(
            access_token=SecretStr(str(access_token)),
            refresh_token=SecretStr(str(refresh_token)),
            open_id=str(open_id),
            scopes=parse_scopes(body.get("scope")),
            access_expires_at=issued + expires_in,
            refresh_expires_at=refresh_expires_at,
            token_type=token_type if isinstance(token_type, str) and token_type else "Bearer",
        )

    def access_valid(self, now: float, *, margin_seconds: int = 300) -> bool:
        """True while the access token has more than `margin_seconds` left."""
        return now + margin_seconds < self.access_expires_at

    def refresh_valid(self, now: float, *, margin_seconds: int = 0) -> bool:
        return now + margin_seconds < self.refresh_expires_at

    def has_scopes(self, *required: str) -> bool:
        return set(required) <= set(self.scopes)


# ------------------------------------------------------------------------------------- Content Posting


class CreatorInfo(_Response):
    creator_avatar_url: str = ""  # expires after 2 h: never store it
    creator_username: str = ""
    creator_nickname: str = ""
    privacy_level_options: list[PrivacyLevel] = Field(default_factory=list)
    comment_disabled: bool = False
    duet_disabled: bool = False
    stitch_disabled: bool = False
    max_video_post_duration_sec: int | None = None

    @field_validator("privacy_level_options", mode="before")
    @classmethod
    def _known_levels_only(cls, value: object) -> list[str]:
        # A level TikTok adds later cannot be chosen by our models anyway; dropping it keeps parsing working.
        if not isinstance(value, list):
            return []
        known = {level.value for level in PrivacyLevel}
        return [v for v in value if isinstance(v, str) and v in known]

    @field_validator("creator_avatar_url", "creator_username", "creator_nickname", mode="before")
    @classmethod
    def _none_is_empty(cls, value: object) -> object:
        return "" if value is None else value


class VideoPostInfo(_Request):
    """`post_info` of a Direct Post video. `privacy_level` has no default: the creator must choose it."""

    privacy_level: PrivacyLevel
    title: str | None = None
    disable_duet: bool | None = None
    disable_stitch: bool | None = None
    disable_comment: bool | None = None
    video_cover_timestamp_ms: int | None = Field(default=None, ge=0, le=_INT32_MAX)
    brand_content_toggle: bool = False  # marked required by TikTok, so always sent
    brand_organic_toggle: bool = False
    is_aigc: bool = False

    @field_validator("title")
    @classmethod
    def _title_length(cls, value: str | None) -> str | None:
        return _check_utf16(value, VIDEO_TITLE_MAX, "the caption")

    @model_validator(mode="after")
    def _branded_not_private(self) -> VideoPostInfo:
        if self.brand_content_toggle and self.privacy_level is PrivacyLevel.SELF_ONLY:
            raise ValueError(
                "branded content cannot be posted as SELF_ONLY (only me); choose another privacy"
            )
        return self


class PhotoPostInfo(_Request):
    """`post_info` of a photo post. DIRECT_POST needs `privacy_level`; the inbox takes title/description only."""

    title: str | None = None
    description: str | None = None
    privacy_level: PrivacyLevel | None = None
    disable_comment: bool | None = None
    auto_add_music: bool | None = None
    brand_content_toggle: bool | None = None
    brand_organic_toggle: bool | None = None

    @field_validator("title")
    @classmethod
    def _title_length(cls, value: str | None) -> str | None:
        return _check_utf16(value, PHOTO_TITLE_MAX, "the photo title")

    @field_validator("description")
    @classmethod
    def _description_length(cls, value: str | None) -> str | None:
        return _check_utf16(value, PHOTO_DESCRIPTION_MAX, "the photo description")

    def to_api_for(self, mode: PhotoPostMode) -> dict[str, Any]:
        """The post_info for `mode`; raises ValueError for a field that mode does not take."""
        body = self.to_api()
        if mode is PhotoPostMode.DIRECT_POST:
            if self.privacy_level is None:
                raise ValueError("a DIRECT_POST photo post needs a privacy_level chosen by the creator")
            if self.brand_content_toggle and self.privacy_level is PrivacyLevel.SELF_ONLY:
                raise ValueError("branded content cannot be posted as SELF_ONLY (only me)")
            return body
        direct_only = sorted(set(body) - {"title", "description"})
        if direct_only:
            raise ValueError(f"photo inbox uploads (MEDIA_UPLOAD) do not take {', '.join(direct_only)}")
        return body


# TikTok fetches https only; plain http is accepted for loopback hosts, where the local sandbox pulls.
_LOOPBACK_HTTP = ("http://127.0.0.1:", "http://127.0.0.1/", "http://localhost:", "http://localhost/")


def _is_https_url(value: str) -> bool:
    lower = value.lower()
    secure = lower.startswith("https://") and len(value) > len("https://")
    return (secure or lower.startswith(_LOOPBACK_HTTP)) and " " not in value


class VideoSourceInfo(_Request):
    """`source_info` of a video: FILE_UPLOAD with the chunk plan's numbers, or PULL_FROM_URL with a URL."""

    source: MediaSource
    video_url: str | None = None
    video_size: int | None = None
    chunk_size: int | None = None
    total_chunk_count: int | None = None

    @classmethod
    def file_upload(cls, plan: ChunkPlan) -> VideoSourceInfo:
        return cls(
            source=MediaSource.FILE_UPLOAD,
            video_size=plan.video_size,
            chunk_size=plan.chunk_size,
            total_chunk_count=plan.total_chunk_count,
        )

    @classmethod
    def pull_from_url(cls, url: str) -> VideoSourceInfo:
        return cls(source=MediaSource.PULL_FROM_URL, video_url=url)

    @model_validator(mode="after")
    def _fields_match_source(self) -> VideoSourceInfo:
        sizes = (self.video_size, self.chunk_size, self.total_chunk_count)
        if self.source is MediaSource.PULL_FROM_URL:
            if self.video_url is None or not _is_https_url(self.video_url):
                raise ValueError("PULL_FROM_URL needs an https video_url (TikTok does not fetch plain http)")
            if any(v is not None for v in sizes):
                raise ValueError("PULL_FROM_URL takes no video_size, chunk_size or total_chunk_count")
            return self
        if self.video_url is not None:
            raise ValueError("FILE_UPLOAD takes no video_url")
        if self.video_size is None or self.chunk_size is None or self.total_chunk_count is None:
            raise ValueError("FILE_UPLOAD needs video_size, chunk_size and total_chunk_count")
        if self.video_size <= 0 or self.chunk_size <= 0:
            raise ValueError("video_size and chunk_size must be positive")
        if self.video_size > TIKTOK_RULES.max_video_bytes:
            raise ValueError("TikTok accepts videos of at most 4 GB")
        if self.total_chunk_count != self.video_size // self.chunk_size:
            raise ValueError("total_chunk_count must be floor(video_size / chunk_size) (TikTok's rule)")
        if not 1 <= self.total_chunk_count <= TIKTOK_RULES.max_chunks:
            raise ValueError("total_chunk_count must be between 1 and 1000")
        return self


class PhotoSourceInfo(_Request):
    """`source_info` of a photo post: PULL_FROM_URL only, 1-35 https URLs on a verified domain."""

    source: Literal["PULL_FROM_URL"] = "PULL_FROM_URL"
    photo_images: list[str] = Field(min_length=1, max_length=PHOTO_IMAGES_MAX)
    photo_cover_index: int = Field(ge=0)

    @model_validator(mode="after")
    def _urls_and_cover(self) -> PhotoSourceInfo:
        bad = [i for i, url in enumerate(self.photo_images) if not _is_https_url(url)]
        if bad:
            raise ValueError(f"photo_images must be https URLs (not at positions {bad})")
        if self.photo_cover_index >= len(self.photo_images):
            raise ValueError(
                f"photo_cover_index {self.photo_cover_index} is out of range for {len(self.photo_images)} photos"
            )
        return self


class InitResult(_Response):
    publish_id: str = Field(min_length=1)
    upload_url: str | None = None  # FILE_UPLOAD only; valid for one hour


class PublishStatus(_Response):
    status: str
    fail_reason: str | None = None
    publicly_available_post_ids: list[str] = Field(
        default_factory=list,
        validation_alias=AliasChoices(
            "publicaly_available_post_id",  # TikTok's spelling on the wire
            "publicly_available_post_id",
            "publicly_available_post_ids",
        ),
    )
    uploaded_bytes: int | None = None
    downloaded_bytes: int | None = None

    @field_validator("publicly_available_post_ids", mode="before")
    @classmethod
    def _ids_as_text(cls, value: object) -> list[str]:
        # int64 ids: kept as text so no JSON consumer rounds them.
        if value is None:
            return []
        if not isinstance(value, list):
            value = [value]
        return [str(v) for v in value if isinstance(v, int | str) and not isinstance(v, bool) and str(v)]

    @field_validator("fail_reason", mode="before")
    @classmethod
    def _empty_is_none(cls, value: object) -> object:
        return None if value == "" else value

    @property
    def is_final(self) -> bool:
        return self.status in (PostStatus.PUBLISH_COMPLETE.value, PostStatus.FAILED.value)
