"""Real media for the contract tests, generated with PyAV and Pillow (small, so the suite stays fast)."""

from __future__ import annotations

import io
import struct
import tempfile
from functools import cache
from pathlib import Path

import av
from PIL import Image


@cache
def video(
    codec: str = "libx264",
    container: str = "mp4",
    *,
    width: int = 360,
    height: int = 640,
    fps: int = 30,
    frames: int = 64,
) -> bytes:
    """An encoded video; `container` is an FFmpeg muxer name (mp4, mov, webm, matroska, avi)."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"clip.{container}"
        with av.open(str(path), "w", format=container) as output:
            stream = output.add_stream(codec, rate=fps)
            assert isinstance(stream, av.VideoStream)
            stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
            if codec == "libx264":
                stream.options = {"preset": "ultrafast"}
            elif codec == "libx265":
                stream.options = {"preset": "ultrafast", "x265-params": "log-level=error"}
            for index in range(frames):
                shade = (index * 7) % 255
                image = Image.new("RGB", (width, height), (shade, 90, 160))
                frame = av.VideoFrame.from_image(image)  # type: ignore[no-untyped-call]
                for packet in stream.encode(frame):
                    output.mux(packet)
            for packet in stream.encode():
                output.mux(packet)
        return path.read_bytes()


def padded_mp4(size: int) -> bytes:
    """The standard clip grown to exactly `size` bytes with a trailing ISO-BMFF `free` box, which
    demuxers skip: a valid MP4 of any size for chunk-boundary tests."""
    clip = video()
    pad = size - len(clip)
    if pad < 8:
        raise ValueError("size too small for a free box")
    return clip + struct.pack(">I", pad) + b"free" + bytes(pad - 8)


@cache
def photo(fmt: str = "JPEG", width: int = 1080, height: int = 1920) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), (250, 200, 40)).save(out, fmt)
    return out.getvalue()
