"""What Prepare found out about a post (`prepared` on its record), as a type: the media TikTok gets, how
it goes (FILE_UPLOAD or PULL_FROM_URL), the interaction flags and the creator it was checked for.

`Prepared.of(post)` reads it and checks its shape: a record written otherwise fails the post with
`post_record_invalid` naming the field, never a KeyError deep in a step. `to_record()` writes it back.
Plain dataclasses, not pydantic: Upload Chunks and Cancel read it, and they do not load pydantic
(docs/decisions.md, 2026-12-07).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from functions.posting.record_fields import RecordFields, record_invalid

FILE_UPLOAD, PULL_FROM_URL = "FILE_UPLOAD", "PULL_FROM_URL"


@dataclass(frozen=True)
class MediaObject:
    """One object TikTok gets, by its exact S3 version; `repaired_from` names the original of a copy."""

    key: str
    version_id: str | None
    size: int
    repaired_from: dict[str, Any] | None

    @staticmethod
    def _common(fields: RecordFields) -> dict[str, Any]:
        return {
            "key": fields.text("key"),
            "version_id": fields.text("version_id", optional=True),
            "size": fields.number("size"),
            "repaired_from": fields.mapping("repaired_from"),
        }

    def to_record(self) -> dict[str, Any]:
        return {k: v for k, v in dataclasses.asdict(self).items() if v is not None or k == "version_id"}


@dataclass(frozen=True)
class PreparedVideo(MediaObject):
    content_type: str
    probe: dict[str, Any] | None
    """The probe's summary (functions/posting/media_probe/results.py); None when only PyAV can read it."""

    @classmethod
    def of(cls, value: object, path: str) -> PreparedVideo:
        fields = RecordFields(value, path)
        return cls(
            **cls._common(fields), content_type=fields.text("content_type"), probe=fields.mapping("probe")
        )

    @property
    def duration_seconds(self) -> float | None:
        value = (self.probe or {}).get("duration_seconds")
        return float(value) if isinstance(value, int | float) else None


@dataclass(frozen=True)
class PreparedPhoto(MediaObject):
    format: str
    width: int
    height: int

    @classmethod
    def of(cls, value: object, path: str) -> PreparedPhoto:
        fields = RecordFields(value, path)
        return cls(
            **cls._common(fields),
            format=fields.text("format"),
            width=fields.number("width"),
            height=fields.number("height"),
        )


@dataclass(frozen=True)
class Prepared:
    source: str
    """FILE_UPLOAD or PULL_FROM_URL: how the media goes to TikTok (Init may switch it once, transfer_method)."""
    video: PreparedVideo | None
    photos: tuple[PreparedPhoto, ...]
    disable_comment: bool
    disable_duet: bool
    disable_stitch: bool
    notes: tuple[str, ...]
    creator_username: str
    creator_nickname: str

    @classmethod
    def of(cls, post: Mapping[str, Any]) -> Prepared:
        fields = RecordFields(post.get("prepared"), "prepared")
        source = fields.text("source")
        if source not in (FILE_UPLOAD, PULL_FROM_URL):
            raise record_invalid("prepared.source", f"{FILE_UPLOAD} or {PULL_FROM_URL}", source)
        photos = fields.data.get("photos")
        if fields.data.get("video") is None and not isinstance(photos, list):
            raise record_invalid("prepared.video", "an object (or prepared.photos a list)", None)
        creator = RecordFields(fields.data.get("creator") or {}, "prepared.creator")
        notes = fields.data.get("notes") or []
        if not isinstance(notes, list):
            raise record_invalid("prepared.notes", "a list", notes)
        return cls(
            source=source,
            video=(
                PreparedVideo.of(fields.data["video"], "prepared.video")
                if fields.data.get("video") is not None
                else None
            ),
            photos=tuple(PreparedPhoto.of(p, f"prepared.photos[{i}]") for i, p in enumerate(photos or [])),
            disable_comment=fields.flag("disable_comment"),
            disable_duet=fields.flag("disable_duet"),
            disable_stitch=fields.flag("disable_stitch"),
            notes=tuple(str(n) for n in notes),
            creator_username=str(creator.text("username", optional=True) or ""),
            creator_nickname=str(creator.text("nickname", optional=True) or ""),
        )

    @classmethod
    def found_in(cls, post: Mapping[str, Any]) -> Prepared | None:
        """`of(post)`, or None for a post that ended before Prepare wrote it."""
        return cls.of(post) if post.get("prepared") is not None else None

    def the_video(self) -> PreparedVideo:
        """The video of a video post; post_record_invalid when the record has none."""
        if self.video is None:
            raise record_invalid("prepared.video", "an object for a video post", None)
        return self.video

    @property
    def uploads_a_file(self) -> bool:
        return self.source == FILE_UPLOAD

    @property
    def media(self) -> tuple[MediaObject, ...]:
        """What TikTok gets, in order: the video, or the photos."""
        return (self.video,) if self.video is not None else self.photos

    def replace(self, **changes: Any) -> Prepared:
        return dataclasses.replace(self, **changes)

    def to_record(self) -> dict[str, Any]:
        record: dict[str, Any] = {
            "source": self.source,
            "disable_comment": self.disable_comment,
            "disable_duet": self.disable_duet,
            "disable_stitch": self.disable_stitch,
            "notes": list(self.notes),
            "creator": {"username": self.creator_username, "nickname": self.creator_nickname},
        }
        if self.video is not None:
            record["video"] = self.video.to_record()
        else:
            record["photos"] = [p.to_record() for p in self.photos]
        return record
