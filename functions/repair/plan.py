"""Planning a repair: from what a probe read, the changes that make a video or a photo follow TikTok's rules
(functions/posting/rules.py), or RepairRefusedError when no change can do it without altering what the
media is. Pure: no file is opened here.

Frame rate. A measured rate within 0.5% of a standard one (12, 12.5, 14.985, 15, 23.976, 24, 25, 29.97,
30, 48, 50, 59.94, 60, 90, 100, 119.88, 120, 240) is taken as the nearest such rate: measurements of phone
recordings wobble (59.98, 60.02), and a variable-rate clip averaging 30.1 fps is a 30 fps clip. Then a
rate above 60 is divided by the smallest whole number that brings it to 60 or below (120 -> 60,
100 -> 50, 90 -> 45, 144 -> 48, 119.88 -> 59.94): every n-th frame is kept, so motion stays even, where
100 -> 60 would drop two frames in five and judder; the result is never below 30. A rate below 23 is
multiplied by the smallest whole number that reaches 23 (15 -> 30, 12 -> 24, 10 -> 30, 20 -> 40): each
frame is shown exactly n times, so the video looks exactly as before, where 15 -> 23 or 24 would hold
frames for uneven times; the result is never above 45. A rate already within 23-60 is kept.

Picture size. When a side is outside 360-4096 px, both sides are scaled by one factor (the aspect ratio is
kept) so the long side becomes 4096 or the short side 360, then rounded to even numbers (H.264 in 4:2:0
needs them). When the other side then falls outside the range (4200x360 -> 4096x351) the video is refused:
fitting it would need cropping or bars, which changes the picture. A re-encoded video of odd size loses
its last odd row or column (H.264 4:2:0 again), which stays within the range.

Codec and container. A codec TikTok does not accept, or a frame rate or size to change, means a re-encode
to H.264 in MP4, with the index at the front (faststart). An accepted codec in another container (H.264 in
Matroska or AVI, VP9 in Matroska) is remuxed without re-encoding: H.264 and H.265 into MP4, VP8 and VP9
into WebM. Rotation metadata is written on the output as on the source, so it plays the same way.

Audio. Copied when the output container carries it as TikTok expects (AAC and MP3 in MP4, Opus and Vorbis
in WebM), else re-encoded (to AAC in MP4, to Opus in WebM). Audio alone never calls for a repair: the
rules check none. Only the first audio stream is kept.

Duration. A video longer than the limit is refused, never cut. A frame rate, duration or size the probe
could not read is refused too (read_video_facts measures them from the packets when the headers lack them).

Photos. Anything but JPEG or WebP, and any photo over 1080p (short side 1080, long side 1920) or 20 MB,
becomes a JPEG scaled by one factor to fit 1080p, upright, on white, in sRGB.
"""

from __future__ import annotations

import math
from fractions import Fraction
from typing import TYPE_CHECKING

from functions.posting.rules import (
    MAX_FPS,
    MAX_PHOTO_BYTES,
    MAX_SIDE,
    MAX_VIDEO_BYTES,
    MIN_FPS,
    MIN_SIDE,
    PHOTO_FORMATS,
    PHOTO_MAX_LONG,
    PHOTO_MAX_SHORT,
    VIDEO_CODECS,
    VIDEO_CONTAINERS,
)
from functions.repair.results import (
    AudioAction,
    Change,
    PhotoRepairPlan,
    RepairRefusedError,
    VideoRepairPlan,
)
from functions.repair.words import (
    audio_codec_name,
    container_name,
    fps_words,
    megabytes,
    photo_format_name,
    video_codec_name,
)

if TYPE_CHECKING:
    from functions.posting.media_probe import ImageProbe, VideoProbe

_STANDARD_RATES = tuple(
    Fraction(rate)
    for rate in (
        12,
        Fraction(25, 2),
        Fraction(15000, 1001),
        15,
        Fraction(24000, 1001),
        24,
        25,
        Fraction(30000, 1001),
        30,
        48,
        50,
        Fraction(60000, 1001),
        60,
        90,
        100,
        Fraction(120000, 1001),
        120,
        240,
    )
)
_SNAP_TOLERANCE = 0.005
_MAX_BITRATE = 40_000_000  # ample for 4K H.264; TikTok re-encodes everything it receives anyway
_OUTPUT_SHARE = 0.9  # of TikTok's 4 GB for the video track; the rest for audio and the container
_AUDIO_COPIED = {"mp4": frozenset({"aac", "mp3"}), "webm": frozenset({"opus", "vorbis"})}
_AUDIO_TARGET = {"mp4": "AAC", "webm": "Opus"}
PHOTO_QUALITY = 90


def plan_video_repair(
    probe: VideoProbe, *, max_duration_seconds: int | None, audio_codec: str | None = None
) -> VideoRepairPlan:
    """The repair that makes the probed video follow TikTok's rules; `needed` is False when it already
    does. `audio_codec` is the source's first audio codec (VideoFacts.audio_codec); when it is not given
    the audio rule is applied at repair time. Raises RepairRefusedError for what cannot be repaired."""
    fps, duration, width, height = _readable_measures(probe)
    if max_duration_seconds is not None and duration > max_duration_seconds:
        raise RepairRefusedError(
            "duration_too_long",
            f"the video lasts {duration:.1f} s and this account may post at most {max_duration_seconds} s; "
            "it is not cut automatically: trim it and post it again",
        )
    target_fps = conforming_fps(fps)
    target_width, target_height = conforming_size(width, height)
    fps_wrong = not MIN_FPS <= fps <= MAX_FPS
    reencode = (
        probe.codec not in VIDEO_CODECS or fps_wrong or (target_width, target_height) != (width, height)
    )
    if reencode:
        target_width, target_height = _even_floor(target_width), _even_floor(target_height)
    container = _output_container(probe, reencode)
    codec = "h264" if reencode else str(probe.codec)
    changes: list[Change] = []
    if fps_wrong:
        changes.append(Change("frame_rate", f"frame rate {fps_words(fps)} -> {fps_words(target_fps)} fps"))
    if (target_width, target_height) != (width, height):
        changes.append(Change("size", f"size {width}x{height} -> {target_width}x{target_height}"))
    if codec != probe.codec:
        changes.append(Change("codec", f"codec {video_codec_name(probe.codec)} -> H.264"))
    if container != probe.container:
        changes.append(
            Change("container", f"container {container_name(probe.container)} -> {container_name(container)}")
        )
    needed = bool(changes)
    audio = audio_action(audio_codec, container) if needed else "copy"
    if audio == "reencode" and audio_codec is not None:
        changes.append(audio_change(audio_codec, container))
    return VideoRepairPlan(
        needed=needed,
        changes=tuple(changes),
        container=container,
        codec=codec,
        reencode=reencode,
        fps=target_fps if reencode else _snap(fps),
        width=target_width,
        height=target_height,
        rotation=probe.rotation,
        audio=audio,
        source_audio_codec=audio_codec,
        source_duration_seconds=duration,
        max_bitrate=int(min(_MAX_BITRATE, _OUTPUT_SHARE * MAX_VIDEO_BYTES * 8 / max(duration, 1.0))),
    )


def conforming_fps(measured: float) -> Fraction:
    """The frame rate within 23-60 fps the video gets (see the module docstring)."""
    fps = _snap(measured)
    if fps > MAX_FPS:
        return fps / math.ceil(fps / MAX_FPS)
    if fps < MIN_FPS:
        return fps * math.ceil(MIN_FPS / fps)
    return fps


def conforming_size(width: int, height: int) -> tuple[int, int]:
    """(width, height) scaled by one factor so both sides are within 360-4096 px, even when scaled;
    unchanged when they already are. Raises RepairRefusedError when no factor fits both sides."""
    short, long_ = sorted((width, height))
    if short >= MIN_SIDE and long_ <= MAX_SIDE:
        return width, height
    scale = MAX_SIDE / long_ if long_ > MAX_SIDE else MIN_SIDE / short
    scaled = (_even_round(width * scale), _even_round(height * scale))
    if not all(MIN_SIDE <= side <= MAX_SIDE for side in scaled):
        raise RepairRefusedError(
            "aspect_ratio_unsupported",
            f"the video is {width}x{height}; TikTok needs each side within {MIN_SIDE}-{MAX_SIDE} px, and "
            f"scaling it to fit would make it {scaled[0]}x{scaled[1]}: its proportions cannot fit without "
            "cropping it or adding bars; crop it and post it again",
        )
    return scaled


def audio_action(codec: str | None, container: str) -> AudioAction:
    """Copy audio the output container carries as TikTok expects; re-encode the rest. None: not known."""
    if codec is None:
        return "auto"
    return "copy" if codec in _AUDIO_COPIED[container] else "reencode"


def audio_change(codec: str, container: str) -> Change:
    """The sentence for audio re-encoded into the output container's codec."""
    return Change("audio", f"audio {audio_codec_name(codec)} -> {_AUDIO_TARGET[container]}")


def plan_photo_repair(probe: ImageProbe, size: int) -> PhotoRepairPlan:
    """The repair that makes the probed photo (of `size` bytes) follow TikTok's rules; `needed` is False
    when it already does."""
    short, long_ = sorted((probe.width, probe.height))
    scale = min(1.0, PHOTO_MAX_SHORT / short, PHOTO_MAX_LONG / long_)
    width, height = max(1, round(probe.width * scale)), max(1, round(probe.height * scale))
    changes: list[Change] = []
    too_big = size > MAX_PHOTO_BYTES
    if probe.format not in PHOTO_FORMATS or (probe.format != "jpeg" and (scale < 1 or too_big)):
        changes.append(Change("format", f"{photo_format_name(probe.format)} -> JPEG {width}x{height}"))
    elif scale < 1:
        changes.append(Change("size", f"size {probe.width}x{probe.height} -> {width}x{height}"))
    if too_big:
        changes.append(Change("bytes", f"file {megabytes(size)} -> under {megabytes(MAX_PHOTO_BYTES)}"))
    return PhotoRepairPlan(
        needed=bool(changes),
        changes=tuple(changes),
        source_format=probe.format,
        width=width,
        height=height,
        quality=PHOTO_QUALITY,
        max_bytes=MAX_PHOTO_BYTES,
    )


def _readable_measures(probe: VideoProbe) -> tuple[float, float, int, int]:
    fps, duration, width, height = probe.fps, probe.duration_seconds, probe.width, probe.height
    if fps and duration and width and height and min(fps, duration, width, height) > 0:
        return fps, duration, width, height
    measures = {"frame rate": fps, "duration": duration, "width": width, "height": height}
    unknown = [what for what, value in measures.items() if not value or value <= 0]
    raise RepairRefusedError(
        "media_unreadable",
        f"the video's {' and '.join(unknown)} could not be read, even from its packets, so it cannot be "
        "repaired safely; export it again (MP4 with H.264, 23-60 fps) and post that",
    )


def _snap(measured: float) -> Fraction:
    nearest = min(_STANDARD_RATES, key=lambda rate: abs(measured - rate))
    if abs(measured - nearest) <= _SNAP_TOLERANCE * nearest:
        return nearest
    return Fraction(measured).limit_denominator(1001)


def _output_container(probe: VideoProbe, reencode: bool) -> str:
    if reencode:
        return "mp4"
    if probe.container in VIDEO_CONTAINERS:
        return probe.container
    return "webm" if probe.codec in ("vp8", "vp9") else "mp4"


def _even_round(value: float) -> int:
    return max(2, 2 * round(value / 2))


def _even_floor(value: int) -> int:
    return value - value % 2
