"""The parts of a post record the steps read, as types (the `prepared` part is in prepared.py): each is
read through `RecordFields`, so a part written otherwise fails the post with `post_record_invalid` naming
the field (docs/data-model.md lists every field of the record)."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from functions.posting.errors import PostRejectedError
from functions.posting.record_fields import RecordFields, record_invalid


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


@dataclass(frozen=True)
class TikTokRetry:
    """A new init after TikTok failed the post with a reason it says to retry (`tiktok_retry`)."""

    attempt: int
    reason: str
    not_before: int

    @classmethod
    def found_in(cls, post: Mapping[str, Any]) -> TikTokRetry | None:
        if not post.get("tiktok_retry"):
            return None
        fields = RecordFields(post["tiktok_retry"], "tiktok_retry")
        return cls(
            attempt=fields.number("attempt"),
            reason=str(fields.text("reason", optional=True) or ""),
            not_before=fields.number("not_before"),
        )

    def to_record(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclass(frozen=True)
class ReviewState:
    """Why a post waits for the creator's review and the link it was given (`review`): the link is valid
    only while `expires_at` matches the one signed into it; `decision` is what the creator chose."""

    reason: str | None = None
    url: str | None = None
    expires_at: int | None = None
    issued_at: int | None = None
    decision: dict[str, Any] | None = None

    @classmethod
    def of(cls, post: Mapping[str, Any]) -> ReviewState:
        """The post's review; an empty one when it never needed any."""
        if post.get("review") is None:
            return cls()
        fields = RecordFields(post["review"], "review")
        return cls(
            reason=fields.text("reason", optional=True),
            url=fields.text("url", optional=True),
            expires_at=fields.number("expires_at") if fields.data.get("expires_at") is not None else None,
            issued_at=fields.number("issued_at") if fields.data.get("issued_at") is not None else None,
            decision=fields.mapping("decision"),
        )

    @classmethod
    def link_of(cls, post: Mapping[str, Any]) -> str:
        """The review link as issued, for a page or a view; "" when there is none or the record cannot say
        (a page about a post whose record is unreadable still shows)."""
        try:
            return cls.of(post).url or ""
        except PostRejectedError:
            return ""

    def issued(self, url: str, *, expires_at: int, now: int) -> ReviewState:
        return dataclasses.replace(self, url=url, expires_at=expires_at, issued_at=now)

    def decided(self, decision: dict[str, Any]) -> ReviewState:
        return dataclasses.replace(self, decision=decision)

    def to_record(self) -> dict[str, Any]:
        return {k: v for k, v in dataclasses.asdict(self).items() if v is not None}


@dataclass(frozen=True)
class PublicLink:
    """Where the search for the post's public video stands (`public_link`): `state` (searching, found,
    not_listed, private, scope_missing, unavailable) and `why`, in words."""

    state: str
    why: str

    @classmethod
    def found_in(cls, post: Mapping[str, Any]) -> PublicLink | None:
        if post.get("public_link") is None:
            return None
        fields = RecordFields(post["public_link"], "public_link")
        return cls(state=fields.text("state"), why=str(fields.text("why", optional=True) or ""))


@dataclass(frozen=True)
class AfterPublishPlan:
    """What follows a publish (`after_publish`): when it was planned, when TikTok completed the post, and
    the snapshot times still due (epoch seconds)."""

    planned_at: int
    completed_at: int | None = None
    snapshots_due: tuple[int, ...] = ()

    @classmethod
    def found_in(cls, post: Mapping[str, Any]) -> AfterPublishPlan | None:
        if not post.get("after_publish"):
            return None
        fields = RecordFields(post["after_publish"], "after_publish")
        due = fields.data.get("snapshots_due") or []
        if not isinstance(due, list) or not all(isinstance(d, int | float) for d in due):
            raise record_invalid("after_publish.snapshots_due", "a list of times", due)
        completed = fields.data.get("completed_at")
        return cls(
            planned_at=fields.number("planned_at"),
            completed_at=fields.number("completed_at") if completed is not None else None,
            snapshots_due=tuple(int(d) for d in due),
        )

    def due(self, snapshots_due: list[int]) -> AfterPublishPlan:
        return dataclasses.replace(self, snapshots_due=tuple(snapshots_due))

    def to_record(self) -> dict[str, Any]:
        record: dict[str, Any] = {"planned_at": self.planned_at}
        if self.completed_at is not None:
            record["completed_at"] = self.completed_at
        if self.completed_at is not None or self.snapshots_due:
            record["snapshots_due"] = list(self.snapshots_due)
        return record


def caption_of(post: Mapping[str, Any]) -> str:
    """The words the post went out with (its caption, or a photo post's title): what its public video is
    recognised by among the creator's."""
    fields = RecordFields(post.get("settings") or {}, "settings")
    return str(fields.text("caption", optional=True) or fields.text("title", optional=True) or "")


def reserved_at(post: Mapping[str, Any]) -> int | None:
    """When ReserveQuota took the post's slots (`quota.reserved_at`); None before it did."""
    if post.get("quota") is None:
        return None
    fields = RecordFields(post["quota"], "quota")
    return fields.number("reserved_at") if fields.data.get("reserved_at") is not None else None
