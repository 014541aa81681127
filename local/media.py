"""Real media made on the spot (PyAV's bundled FFmpeg and Pillow; no system ffmpeg): an H.264 MP4 of any
size for uploads, and photos for photo posts. Used by the demo and the end-to-end tests."""

from __future__ import annotations

import io
import struct
import tempfile
from functools import cache
from pathlib import Path

import av
from PIL import Image, ImageDraw


@cache
def video(
    *, width: int = 720, height: int = 1280, fps: int = 30, seconds: float = 2.0, label: str = ""
) -> bytes:
    """An H.264 MP4 (yuv420p, faststart): a moving colour band, so every frame differs."""
    frames = max(int(fps * seconds), 1)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "clip.mp4"
        with av.open(str(path), "w", format="mp4", options={"movflags": "faststart"}) as output:
            stream = output.add_stream("libx264", rate=fps)
            if not isinstance(stream, av.VideoStream):
                raise TypeError("PyAV returned a non-video stream for libx264")
            stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
            stream.options = {"preset": "ultrafast"}
            for index in range(frames):
                image = Image.new("RGB", (width, height), (20, 20, 40))
                draw = ImageDraw.Draw(image)
                top = (index * height // frames) % height
                draw.rectangle((0, top, width, top + height // 8), fill=(254, 44, 85))
                if label:
                    draw.text((24, 24), label, fill=(255, 255, 255))
                for packet in stream.encode(av.VideoFrame.from_image(image)):  # type: ignore[no-untyped-call]
                    output.mux(packet)
            for packet in stream.encode():
                output.mux(packet)
        return path.read_bytes()


def video_of_size(size: int, *, label: str = "") -> bytes:
    """A valid MP4 of exactly `size` bytes: the clip plus a trailing ISO-BMFF `free` box (skipped by every
    demuxer), for uploads that must land on or around chunk boundaries."""
    clip = video(label=label)
    pad = size - len(clip)
    if pad == 0:
        return clip
    if pad < 8:
        raise ValueError(f"{size} bytes is too close to the clip's own {len(clip)} bytes for a free box")
    if pad >= 2**32:  # a 64-bit box: 16-byte header
        return clip + struct.pack(">I4sQ", 1, b"free", pad) + bytes(pad - 16)
    return clip + struct.pack(">I4s", pad, b"free") + bytes(pad - 8)


def photo(
    *, width: int = 1080, height: int = 1920, fmt: str = "JPEG", colour: tuple[int, int, int] = (250, 200, 40)
) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), colour).save(out, fmt)
    return out.getvalue()
