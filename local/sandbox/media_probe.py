"""Media checks TikTok runs after the bytes are in (docs/reference/tiktok-api.md §3.5, §3.6), with its
fail_reason values.

Videos are opened with PyAV (FFmpeg) and one frame is decoded, so a file that only looks like a
video fails too. Photos are opened with Pillow.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

FILE_FORMAT = "file_format_check_failed"
DURATION = "duration_check_failed"
FRAME_RATE = "frame_rate_check_failed"
PICTURE_SIZE = "picture_size_check_failed"

VIDEO_CODECS = frozenset({"h264", "hevc", "vp8", "vp9"})
MIN_FPS, MAX_FPS = 23.0, 60.0
MIN_SIDE, MAX_SIDE = 360, 4096
PHOTO_FORMATS = frozenset({"JPEG", "WEBP"})
# "max 1080p": a photo must fit in 1080 x 1920, either way round (docs/sandbox.md).
PHOTO_SHORT_SIDE, PHOTO_LONG_SIDE = 1080, 1920
MAX_PHOTO_BYTES = 20 * 1024 * 1024


@dataclass
class ProbeResult:
    fail_reason: str = ""
    detail: str = ""
    facts: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"fail_reason": self.fail_reason, "detail": self.detail, **self.facts}


def _container_kind(format_name: str, path: Path) -> str | None:
    """'mp4', 'mov' or 'webm' for the accepted containers, None for anything else."""
    names = set(format_name.split(","))
    if "mp4" in names or "mov" in names:
        with path.open("rb") as handle:
            head = handle.read(12)
        return "mov" if head[8:12] == b"qt  " else "mp4"
    if "webm" in names:
        # FFmpeg reports Matroska and WebM alike; the EBML DocType tells them apart.
        return "webm" if _ebml_doctype(path) == "webm" else None
    return None


def _ebml_doctype(path: Path) -> str:
    with path.open("rb") as handle:
        head = handle.read(256)
    at = head.find(b"\x42\x82")
    if at < 0 or at + 2 >= len(head):
        return ""
    first = head[at + 2]
    width = next((i + 1 for i in range(8) if first & (0x80 >> i)), 0)
    if not width:
        return ""
    size = first & (0xFF >> width)
    for byte in head[at + 3 : at + 2 + width]:
        size = (size << 8) | byte
    start = at + 2 + width
    return head[start : start + size].decode("ascii", "replace")


def probe_video(path: Path, max_duration_sec: int) -> ProbeResult:  # noqa: PLR0911 - one return per check
    import av  # heavy: only loaded when a video is checked

    try:
        container = av.open(str(path))
    except Exception as exc:  # anything FFmpeg cannot open is an unsupported format
        return ProbeResult(FILE_FORMAT, f"not a readable media file ({type(exc).__name__})")
    with container:
        kind = _container_kind(container.format.name, path)
        facts: dict[str, Any] = {"container": kind or container.format.name}
        if kind is None:
            return ProbeResult(FILE_FORMAT, "container must be MP4, MOV or WebM", facts)
        if not container.streams.video:
            return ProbeResult(FILE_FORMAT, "no video stream", facts)
        stream = container.streams.video[0]
        codec = stream.codec_context.name
        facts["codec"] = codec
        if codec not in VIDEO_CODECS:
            return ProbeResult(FILE_FORMAT, "codec must be H.264, H.265, VP8 or VP9", facts)
        try:
            next(container.decode(stream))
        except Exception as exc:  # an undecodable stream is an unsupported format
            return ProbeResult(FILE_FORMAT, f"video stream does not decode ({type(exc).__name__})", facts)
        width, height = stream.codec_context.width, stream.codec_context.height
        facts.update(width=width, height=height)
        if not (MIN_SIDE <= width <= MAX_SIDE and MIN_SIDE <= height <= MAX_SIDE):
            return ProbeResult(PICTURE_SIZE, f"each side must be {MIN_SIDE}-{MAX_SIDE} px", facts)
        rate = stream.average_rate or stream.guessed_rate
        fps = float(rate) if rate else 0.0
        facts["fps"] = round(fps, 3)
        if not MIN_FPS <= fps <= MAX_FPS:
            return ProbeResult(FRAME_RATE, f"frame rate must be {MIN_FPS:g}-{MAX_FPS:g} fps", facts)
        duration = _duration_seconds(container, stream)
        facts["duration_sec"] = round(duration, 3)
        if duration <= 0:
            return ProbeResult(FILE_FORMAT, "the video has no duration", facts)
        if duration > max_duration_sec:
            return ProbeResult(DURATION, f"longer than the creator's {max_duration_sec} s", facts)
        return ProbeResult("", "", facts)


def _duration_seconds(container: Any, stream: Any) -> float:
    if stream.duration is not None and stream.time_base is not None:
        return float(stream.duration * stream.time_base)
    if container.duration is not None:
        return float(container.duration) / 1_000_000  # AV_TIME_BASE
    return 0.0


def probe_photo(path: Path) -> ProbeResult:
    from PIL import Image, UnidentifiedImageError

    size = path.stat().st_size
    facts: dict[str, Any] = {"bytes": size}
    if size > MAX_PHOTO_BYTES:
        return ProbeResult(FILE_FORMAT, "a photo must be at most 20 MB", facts)
    try:
        with Image.open(path) as image:
            facts.update(format=image.format, width=image.width, height=image.height)
            if image.format not in PHOTO_FORMATS:
                return ProbeResult(FILE_FORMAT, "a photo must be JPEG or WebP", facts)
            image.verify()
    except Image.DecompressionBombError:
        return ProbeResult(PICTURE_SIZE, "a photo must fit in 1080 x 1920 (1080p)", facts)
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        return ProbeResult(FILE_FORMAT, f"not a readable image ({type(exc).__name__})", facts)
    short, long = sorted((facts["width"], facts["height"]))
    if short > PHOTO_SHORT_SIDE or long > PHOTO_LONG_SIDE:
        return ProbeResult(PICTURE_SIZE, "a photo must fit in 1080 x 1920 (1080p)", facts)
    return ProbeResult("", "", facts)
