"""What the repair library plans and reports, and the one error it raises for media it cannot repair."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from functions.posting.errors import PostRejectedError

if TYPE_CHECKING:
    from fractions import Fraction

    from functions.posting.media_probe import VideoProbe

AudioAction = Literal["copy", "reencode", "auto"]
"""copy: the packets as they are; reencode: to the output container's codec (AAC in MP4, Opus in WebM);
auto: the source's audio codec was not given to the planner, so the rule is applied when the file is
opened (and a file without audio gets none)."""


class RepairRefusedError(PostRejectedError):
    """The media cannot be made to follow TikTok's rules without changing what it is (cutting it, cropping
    it, guessing its timing) or it cannot be read at all. `reason` is a short machine code, `detail` a
    sentence a person understands.

    Reasons: no_video_stream, media_corrupt, media_truncated, media_unreadable (frame rate or duration
    unknown even after reading every packet), duration_too_long, aspect_ratio_unsupported,
    photo_unreadable, photo_format_unsupported (no decoder installed for it), photo_too_large.
    """


@dataclass(frozen=True)
class Change:
    """One thing the repair changes, as a machine key and a sentence, e.g. ("frame_rate",
    "frame rate 120 -> 60 fps")."""

    kind: Literal["frame_rate", "size", "codec", "container", "audio", "format", "orientation", "bytes"]
    sentence: str

    def __str__(self) -> str:
        return self.sentence


@dataclass(frozen=True)
class VideoFacts:
    """What PyAV reads from a video: the facts the planner needs, in the project's probe type, plus the
    audio codec the probe does not report."""

    probe: VideoProbe
    audio_codec: str | None
    """The first audio stream's codec ("aac", "pcm_s16le", ...), or None when the video has no audio."""


@dataclass(frozen=True)
class RepairPlan:
    needed: bool
    """False: the media already follows TikTok's rules; there is nothing to repair."""
    changes: tuple[Change, ...]
    """What the repair changes, in the words the post record shows."""


@dataclass(frozen=True)
class VideoRepairPlan(RepairPlan):
    container: str
    """The output container: "mp4" or "webm" (the source's when nothing is needed)."""
    codec: str
    """The output video codec: "h264" when re-encoding, else the source's."""
    reencode: bool
    """True: decode and encode every frame; False: copy the video packets (only the container changes)."""
    fps: Fraction
    width: int
    """Coded width of the output, before rotation (like VideoProbe.width)."""
    height: int
    rotation: int
    """Clockwise degrees a player turns the picture; written on the output as on the source."""
    audio: AudioAction
    source_audio_codec: str | None
    """The audio codec the plan was made for (None: not given, see AudioAction "auto")."""
    source_duration_seconds: float
    max_bitrate: int
    """Video bits per second the encoder must stay under, so the output fits TikTok's 4 GB."""


@dataclass(frozen=True)
class PhotoRepairPlan(RepairPlan):
    source_format: str
    width: int
    """Target width of the pixels as stored in the source (before its EXIF orientation is applied)."""
    height: int
    quality: int
    """JPEG quality of the first attempt; lowered only when the result would exceed max_bytes."""
    max_bytes: int


@dataclass(frozen=True)
class RepairOutcome:
    """What was done and the facts of the output, as read back from the written file."""

    changes: tuple[Change, ...]
    format: str
    """"mp4" | "webm" | "jpeg"."""
    codec: str | None
    """The video codec; None for a photo."""
    width: int
    """Video: coded width; photo: width of the upright picture."""
    height: int
    fps: float | None
    duration_seconds: float | None
    audio_codec: str | None
    size: int
    """Bytes written to the target."""
    seconds: float
    """Wall-clock time the repair took."""
