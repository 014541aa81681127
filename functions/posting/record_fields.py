"""Typed reads of a post record's parts: each wrong or missing field fails the post with
`post_record_invalid` naming it by its path (`prepared.video.size`, `media.keys[0]`), never a KeyError
deep in a step."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from functions.posting.errors import PostRejectedError


class RecordFields:
    """Typed reads of one mapping of the record, each error naming the field by its path."""

    def __init__(self, value: object, path: str) -> None:
        if not isinstance(value, Mapping):
            raise record_invalid(path, "an object", value)
        self.data: Mapping[str, Any] = value
        self.path = path

    def _get(self, name: str, kinds: tuple[type, ...], what: str, *, optional: bool = False) -> Any:
        value = self.data.get(name)
        if value is None and optional:
            return None
        # bool is an int to Python; never a number here, and a number is never a flag.
        if not isinstance(value, kinds) or (isinstance(value, bool) and bool not in kinds):
            raise record_invalid(f"{self.path}.{name}", what, value)
        return value

    def text(self, name: str, *, optional: bool = False) -> Any:
        return self._get(name, (str,), "a string", optional=optional)

    def number(self, name: str) -> int:
        return int(self._get(name, (int, float), "a number"))

    def flag(self, name: str) -> bool:
        """False when absent: a post prepared before the flag was recorded has TikTok's default."""
        return bool(self._get(name, (bool,), "true or false", optional=True))

    def mapping(self, name: str) -> dict[str, Any] | None:
        return dict(self._get(name, (dict,), "an object", optional=True) or {}) or None


def record_invalid(path: str, what: str, got: object) -> PostRejectedError:
    shown = "nothing" if got is None else f"{type(got).__name__} {got!r}"[:80]
    return PostRejectedError("post_record_invalid", f"the post record's {path} must be {what}, not {shown}")


@dataclass(frozen=True)
class PostMedia:
    """Where a post's media is (`media` on its record): the bucket, the keys in posting order (a video's
    one, a photo set's several), the exact versions S3 named at intake, and the key an S3 drop arrived at."""

    bucket: str
    keys: tuple[str, ...]
    version_ids: dict[str, str | None]
    origin_key: str | None

    @classmethod
    def of(cls, post: Mapping[str, Any]) -> PostMedia:
        fields = RecordFields(post.get("media"), "media")
        keys = fields.data.get("keys")
        if not isinstance(keys, list) or not keys or not all(isinstance(k, str) and k for k in keys):
            raise record_invalid("media.keys", "a non-empty list of object keys", keys)
        return cls(
            bucket=fields.text("bucket"),
            keys=tuple(keys),
            version_ids=dict(fields.mapping("version_ids") or {}),
            origin_key=fields.text("origin_key", optional=True),
        )


@dataclass(frozen=True)
class UploadProgress:
    """A FILE_UPLOAD's chunk plan and how far it got (`upload` on the record): Init writes the plan TikTok
    was given, Upload Chunks the bytes TikTok acknowledged, so a retried upload resumes where it stopped."""

    total: int
    chunk_size: int
    chunks: int
    preferred_chunk_size: int
    offset: int = 0
    complete: bool = False

    @classmethod
    def found_in(cls, post: Mapping[str, Any]) -> UploadProgress | None:
        """The record's upload, or None before Init planned one."""
        if post.get("upload") is None:
            return None
        fields = RecordFields(post["upload"], "upload")
        return cls(
            total=fields.number("total"),
            chunk_size=fields.number("chunk_size"),
            chunks=fields.number("chunks"),
            preferred_chunk_size=fields.number("preferred_chunk_size"),
            offset=fields.number("offset") if fields.data.get("offset") is not None else 0,
            complete=fields.flag("complete"),
        )

    def at(self, offset: int, *, complete: bool = False) -> UploadProgress:
        return dataclasses.replace(self, offset=offset, complete=complete)

    def to_record(self) -> dict[str, Any]:
        return dataclasses.asdict(self)
