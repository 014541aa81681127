"""Real media made on the spot (PyAV's bundled FFmpeg and Pillow; no system ffmpeg): an H.264 MP4 of any
size for uploads, photos for photo posts (HEIC with pillow-heif), and clips in any container and codec
FFmpeg writes (what TikTok would reject, for the repair). Used by the demo, the end-to-end tests and the
benchmarks."""

from __future__ import annotations

import io
import struct
import tempfile
from fractions import Fraction
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


# Encoders made fast for test clips (the content, not the quality, is what matters).
_FAST_OPTIONS = {
    "libx264": {"preset": "ultrafast"},
    "libx265": {"preset": "ultrafast", "x265-params": "log-level=error"},
    "libvpx-vp9": {"deadline": "realtime", "cpu-used": "8"},
    "libsvtav1": {"preset": "12"},
}
_NATIVE_PIXELS = {"prores_ks": "yuv422p10le", "mjpeg": "yuvj420p"}


@cache
def clip(
    *,
    container: str = "mp4",
    encoder: str = "libx264",
    width: int = 360,
    height: int = 640,
    fps: int | Fraction = 30,
    frames: int = 30,
    audio: str | None = None,
    options: tuple[tuple[str, str], ...] = (),
) -> bytes:
    """A short clip of `frames` frames in any container and codec FFmpeg writes ("mov" + "prores_ks",
    "avi" + "mjpeg", "matroska" + "libx264", ...), a bar moving down a dark picture, with a stereo tone
    in `audio` ("aac", "pcm_s16le", ...) when given. Frames are drawn as YUV planes (no Pillow), so a
    large picture is cheap to make."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"clip.{container}"
        with av.open(str(path), "w", format=container, options=dict(options)) as output:
            stream = output.add_stream(encoder, rate=fps, options=_FAST_OPTIONS.get(encoder, {}))
            if not isinstance(stream, av.VideoStream):
                raise TypeError(f"PyAV returned a non-video stream for {encoder}")
            stream.width, stream.height = width, height
            stream.pix_fmt = _NATIVE_PIXELS.get(encoder, "yuv420p")
            sound = output.add_stream(audio, rate=48000) if audio else None
            if isinstance(sound, av.AudioStream):
                sound.layout = "stereo"
            samples = 0
            for index in range(frames):
                output.mux(
                    stream.encode(
                        _bar_frame(width, height, index, frames=frames, fps=fps, pix_fmt=stream.pix_fmt)
                    )
                )
                while isinstance(sound, av.AudioStream) and samples < (index + 1) * 48000 / fps:
                    output.mux(sound.encode(_tone(sound.format.name, samples)))
                    samples += 1024
            output.mux(stream.encode(None))
            if isinstance(sound, av.AudioStream):
                output.mux(sound.encode(None))
        return path.read_bytes()


def _bar_frame(
    width: int, height: int, index: int, *, frames: int, fps: int | Fraction, pix_fmt: str
) -> av.VideoFrame:
    frame = av.VideoFrame(width, height, "yuv420p")
    luma = frame.planes[0]
    top = (index * height // max(frames, 1)) % height
    rows = bytearray([24]) * (luma.line_size * luma.height)
    start, end = top * luma.line_size, min(top + max(height // 8, 2), height) * luma.line_size
    rows[start:end] = bytes([180]) * (end - start)
    luma.update(bytes(rows))
    for plane, value in zip(frame.planes[1:], (110, 170), strict=True):
        plane.update(bytes([value]) * plane.buffer_size)
    frame.pts, frame.time_base = index, 1 / Fraction(fps)
    return frame.reformat(format=pix_fmt) if pix_fmt != "yuv420p" else frame


def _tone(sample_format: str, start: int) -> av.AudioFrame:
    frame = av.AudioFrame(format=sample_format, layout="stereo", samples=1024)
    for plane in frame.planes:
        plane.update(bytes(plane.buffer_size))  # silence: what matters is that there is audio
    frame.sample_rate, frame.pts = 48000, start
    return frame


def image(*, width: int, height: int, fmt: str, colour: tuple[int, int, int] = (60, 140, 220)) -> bytes:
    """A photo in any format Pillow writes ("PNG", "GIF", "BMP", "JPEG", ...), with a white square in its
    top-left corner (so an orientation change shows)."""
    picture = Image.new("RGBA" if fmt == "PNG" else "RGB", (width, height), colour)
    picture.paste((255, 255, 255), (0, 0, width // 4, height // 4))
    out = io.BytesIO()
    picture.save(out, fmt)
    return out.getvalue()


@cache
def heic(
    *, width: int, height: int, orientation: int = 1, colour: tuple[int, int, int] = (60, 140, 220)
) -> bytes:
    """A HEIC photo as a phone takes it: `width` x `height` pixels as the sensor read them, with the white
    square of `image` in their top-left corner, and `orientation` (EXIF 1-8) both in its EXIF and as the
    HEIF rotation and mirror a decoder applies. Encoded with pillow-heif (libheif and x265), a development
    dependency: the repair layer's pi-heif only decodes."""
    import pillow_heif

    picture = Image.new("RGB", (width, height), colour)
    picture.paste((255, 255, 255), (0, 0, width // 4, height // 4))
    exif = Image.Exif()
    exif[0x0112] = orientation
    out = io.BytesIO()
    pillow_heif.from_pillow(picture).save(out, quality=60, exif=exif.tobytes())
    return out.getvalue()


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
