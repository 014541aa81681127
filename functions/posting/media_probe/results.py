"""What the probes return, and the one error they raise for any content."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


class MediaProbeError(ValueError):
    """The content is not media this module can read, or it is truncated or corrupt."""


@dataclass(frozen=True)
class VideoProbe:
    container: str
    """"mp4" | "mov" | "webm" | "matroska" (an EBML file whose DocType is not webm)."""
    codec: str | None
    """"h264" | "hevc" | "vp8" | "vp9" | "av1" | "mpeg4" | another codec tag lower-cased | None."""
    duration_seconds: float | None
    fps: float | None
    width: int | None
    """Coded width, before rotation."""
    height: int | None
    """Coded height, before rotation."""
    rotation: int = 0
    """Clockwise degrees (0/90/180/270) a player turns the picture, like ffprobe's `rotate` tag."""

    def summary(self) -> dict[str, Any]:
        """The facts a post records of its video (`prepared.video.probe`)."""
        return {
            "container": self.container,
            "codec": self.codec,
            "duration_seconds": self.duration_seconds,
            "fps": self.fps,
            "width": self.width,
            "height": self.height,
        }


@dataclass(frozen=True)
class ImageProbe:
    format: str
    """"jpeg" | "webp" | "png" | "gif" | "heic" | "avif" | "bmp"."""
    width: int
    height: int
