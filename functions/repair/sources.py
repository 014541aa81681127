"""Opening a source video with PyAV, and reading from it the facts the planner needs (VideoFacts): those the
project's probe reads, for containers it does not parse (AVI, FLV, MPEG-TS...), the audio codec it does
not report, and a frame rate or duration measured from the packets when the headers lack them."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from fractions import Fraction
from typing import TYPE_CHECKING, Any, BinaryIO

import av

from functions.posting.media_probe import SNIFF_BYTES, VideoProbe, sniff
from functions.repair.results import RepairRefusedError, VideoFacts

if TYPE_CHECKING:
    from av.audio.stream import AudioStream
    from av.container import InputContainer
    from av.video.stream import VideoStream

_ISO_OR_EBML = frozenset({"mp4", "mov", "webm", "matroska"})
_DECODE_TRIES = 32  # packets fed to the decoder for the first frame (its delay), before giving up


@contextmanager
def open_source(source: BinaryIO) -> Iterator[InputContainer]:
    """The source opened for reading; what FFmpeg cannot open is refused as corrupt."""
    source.seek(0)
    try:
        container = av.open(source, "r")
    except av.FFmpegError as exc:
        raise RepairRefusedError(
            "media_corrupt", f"the file could not be read as a video ({_ffmpeg_words(exc)})"
        ) from exc
    try:
        yield container
    finally:
        container.close()


def video_stream(container: InputContainer) -> VideoStream:
    """The first video stream that is not a cover picture; refused when there is none."""
    for stream in container.streams.video:
        if not stream.disposition & av.stream.Disposition.attached_pic:
            return stream
    raise RepairRefusedError(
        "no_video_stream", "the file has no video stream (an audio file or a still picture?)"
    )


def audio_stream(container: InputContainer) -> AudioStream | None:
    return container.streams.audio[0] if container.streams.audio else None


def read_video_facts(source: BinaryIO) -> VideoFacts:
    """Container, codec, frame rate, duration, size and rotation of the source's video, and its audio codec,
    as PyAV reads them. The source must be readable and seekable; it is left at an unspecified position."""
    source.seek(0)
    kind = sniff(source.read(SNIFF_BYTES))
    with open_source(source) as container:
        video = video_stream(container)
        audio = audio_stream(container)
        fps = _rate(video.average_rate)
        duration = _header_duration(container, video)
        rotation, measured = _scan_packets(container, video, measure=fps is None or duration is None)
        if measured is not None:
            fps, duration = fps or measured[0], duration or measured[1]
        probe = VideoProbe(
            container=kind if kind in _ISO_OR_EBML else container.format.name.split(",")[0],
            codec=video.codec.canonical_name,
            duration_seconds=duration,
            fps=fps,
            width=video.codec_context.width or None,
            height=video.codec_context.height or None,
            rotation=rotation,
        )
        return VideoFacts(probe, audio.codec.canonical_name if audio is not None else None)


def clockwise(frame_rotation: float) -> int:
    """FFmpeg's counter-clockwise display rotation as the probe's clockwise degrees (0/90/180/270)."""
    return (-round(frame_rotation / 90) * 90) % 360


def counter_clockwise(rotation: int) -> int:
    return (-rotation) % 360


def _rate(rate: Fraction | None) -> float | None:
    return float(rate) if rate else None


def _header_duration(container: InputContainer, video: VideoStream) -> float | None:
    if video.duration and video.time_base:
        return float(video.duration * video.time_base)
    return container.duration / av.time_base if container.duration else None


def _scan_packets(
    container: InputContainer, video: VideoStream, *, measure: bool
) -> tuple[int, tuple[float, float] | None]:
    """(rotation of the first decoded frame, (fps, duration) measured from every video packet when
    `measure`, else None). Reading stops at the first frame unless measuring."""
    rotation: int | None = None
    tries = count = end = 0
    first: int | None = None
    try:
        for packet in container.demux(video):
            if packet.pts is None:
                continue  # the empty packet that ends the stream
            if rotation is None and tries < _DECODE_TRIES:
                tries += 1
                rotation = _rotation_of(packet)
            if not measure and (rotation is not None or tries >= _DECODE_TRIES):
                break
            first = packet.pts if first is None else min(first, packet.pts)
            end = max(end, packet.pts + (packet.duration or 0))
            count += 1
    except av.FFmpegError as exc:
        raise RepairRefusedError("media_corrupt", f"the video cannot be read ({_ffmpeg_words(exc)})") from exc
    if not measure or first is None or video.time_base is None or end <= first:
        return rotation or 0, None
    duration = float((end - first) * video.time_base)
    return rotation or 0, (count / duration, duration)


def _rotation_of(packet: Any) -> int | None:
    frames = packet.decode()
    return clockwise(frames[0].rotation) if frames else None


def _ffmpeg_words(exc: av.FFmpegError) -> str:
    return f"FFmpeg: {exc.strerror or exc}"
