"""Real media for the media_probe tests, made in memory with PyAV and Pillow, plus the tools to
reshape it: a small ISO BMFF box editor, an EBML element blanker, and sparse "virtual" files that
stand for gigabytes without allocating them.

Nothing here is shipped; PyAV and Pillow are test-only dependencies.
"""

from __future__ import annotations

import io
import struct
import tempfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from fractions import Fraction
from functools import cache
from pathlib import Path
from typing import Any

import av
from PIL import Image

# FFmpeg's own log stays off (PyAV's default): routing it into Python's logging, as set_level() does, can
# deadlock an encoder whose worker threads log while the test thread waits on them.
av.logging.set_level(None)

ENCODER_NAMES = {
    "h264": ("libx264", "h264"),
    "hevc": ("libx265", "hevc"),
    "vp8": ("libvpx", "vp8"),
    "vp9": ("libvpx-vp9", "vp9"),
    "av1": ("libsvtav1", "libaom-av1", "librav1e"),
    "mpeg4": ("mpeg4",),
}
# Fast, quiet encoders: the clips only need to be valid, not pretty.
_ENCODER_OPTIONS = {
    "libx265": {"x265-params": "log-level=none"},
    "libvpx": {"deadline": "realtime", "cpu-used": "16"},
    "libvpx-vp9": {"deadline": "realtime", "cpu-used": "8"},
    "libx264": {"preset": "ultrafast"},
}


def encoder_for(codec: str) -> str | None:
    """The first PyAV encoder available for a codec, or None."""
    for name in ENCODER_NAMES[codec]:
        if name in av.codecs_available:
            try:
                if av.codec.Codec(name, "w").type == "video":
                    return name
            except Exception:  # noqa: S112 - a decoder-only name: try the next one
                continue
    return None


def h264_or_fallback() -> tuple[str, str]:
    """(codec the probe should report, encoder): H.264 when PyAV can encode it, else MPEG-4 Part 2."""
    encoder = encoder_for("h264")
    return ("h264", encoder) if encoder else ("mpeg4", "mpeg4")


@dataclass(frozen=True)
class Clip:
    """What to encode: a short clip of moving grey levels."""

    container: str
    codec: str
    width: int
    height: int
    fps: int | Fraction
    frames: int
    rotation_ccw: int | None = None
    movflags: str | None = None
    gop: int | None = None
    live: bool = False
    audio: bool = False
    """Interleave a mono AAC track (MP4/MOV only)."""

    @property
    def encoder(self) -> str:
        encoder = encoder_for(self.codec)
        if encoder is None:
            raise LookupError(f"PyAV has no encoder for {self.codec}")
        return encoder

    def __str__(self) -> str:
        extras = [
            f"rot{self.rotation_ccw}" if self.rotation_ccw is not None else "",
            (self.movflags or "").replace("+", "-"),
            "live" if self.live else "",
            "audio" if self.audio else "",
        ]
        fps = f"{float(self.fps):g}"
        name = f"{self.container}-{self.codec}-{self.width}x{self.height}-{fps}fps"
        return "-".join([name, *filter(None, extras)])


@cache
def video(clip: Clip) -> bytes:
    # faststart rewrites the file to move the moov up front: it needs a real file, not a buffer.
    with tempfile.TemporaryDirectory() as folder:
        return write_video(clip, Path(folder) / f"clip.{clip.container}")


def write_video(clip: Clip, path: Path) -> bytes:
    """Encode the clip into the file at `path`; returns its bytes."""
    options: dict[str, str] = {}
    if clip.movflags:
        options["movflags"] = clip.movflags
    if clip.live:
        options["live"] = "1"
    with av.open(str(path), "w", format=clip.container, options=options) as output:
        _encode(output, clip)
    return path.read_bytes()


def _encode(output: Any, clip: Clip) -> None:
    stream: Any = output.add_stream(
        clip.encoder, rate=clip.fps, options=_ENCODER_OPTIONS.get(clip.encoder, {})
    )
    stream.width, stream.height = clip.width, clip.height
    stream.pix_fmt = "yuv420p"
    if clip.gop:
        stream.codec_context.gop_size = clip.gop
    if clip.rotation_ccw is not None:
        stream.set_display_rotation(clip.rotation_ccw)
    sound: Any = output.add_stream("aac", rate=48000) if clip.audio else None
    audio_samples = 0
    for index in range(clip.frames):
        frame = av.VideoFrame(clip.width, clip.height, "yuv420p")
        for number, plane in enumerate(frame.planes):
            plane.update(bytes([(index * 9 + number * 40) % 256]) * plane.buffer_size)
        frame.pts = index
        frame.time_base = 1 / Fraction(clip.fps)
        for packet in stream.encode(frame):
            output.mux(packet)
        while sound is not None and audio_samples < (index + 1) * 48000 / clip.fps:
            for packet in sound.encode(_silence(audio_samples)):
                output.mux(packet)
            audio_samples += 1024
    for packet in stream.encode():
        output.mux(packet)
    for packet in sound.encode() if sound is not None else []:
        output.mux(packet)


def _silence(pts: int) -> Any:
    frame = av.AudioFrame(format="fltp", layout="mono", samples=1024)
    frame.planes[0].update(bytes(1024 * 4))
    frame.sample_rate = 48000
    frame.pts = pts
    return frame


@cache
def audio_only_mp4() -> bytes:
    buffer = io.BytesIO()
    with av.open(buffer, "w", format="mp4") as output:
        stream: Any = output.add_stream("aac", rate=44100)
        for index in range(20):
            frame = av.AudioFrame(format="fltp", layout="mono", samples=1024)
            frame.planes[0].update(bytes(1024 * 4))
            frame.sample_rate = 44100
            frame.pts = index * 1024
            for packet in stream.encode(frame):
                output.mux(packet)
        for packet in stream.encode():
            output.mux(packet)
    return buffer.getvalue()


@dataclass(frozen=True)
class Truth:
    """What PyAV (ffmpeg) reports about a video."""

    duration: float | None
    fps: float
    width: int
    height: int
    codec: str
    rotation_cw: int


def pyav_truth(data: bytes) -> Truth:
    with av.open(io.BytesIO(data), "r") as source:
        stream = source.streams.video[0]
        duration = source.duration / 1_000_000 if source.duration is not None else None
        rotation = 0
        for frame in source.decode(stream):
            rotation = frame.rotation
            break
        return Truth(
            duration=duration,
            fps=float(stream.average_rate or stream.guessed_rate or 0),
            width=stream.codec_context.width,
            height=stream.codec_context.height,
            codec=stream.codec_context.codec.canonical_name,
            rotation_cw=(-rotation) % 360,
        )


@dataclass(frozen=True)
class Reading:
    """Everything PyAV (ffmpeg) reads about a video's timing and format, for differential tests."""

    formats: frozenset[str]
    """The demuxer's names: {"mov", "mp4", ...} or {"matroska", "webm"}."""
    codec: str
    width: int
    height: int
    durations: tuple[float, ...]
    """The container's duration, the video stream's, and the span of its demuxed packets (those known)."""
    fps: float
    """Frames per second between the second frame and the last one (the probe's estimate too)."""
    rates: tuple[float, ...]
    """ffmpeg's own base and average frame rates (r_frame_rate, avg_frame_rate), those known."""
    frames: int
    decoded: int


def pyav_reading(data: bytes) -> Reading:
    with av.open(io.BytesIO(data), "r") as source:
        stream = source.streams.video[0]
        rates = tuple(float(rate) for rate in (stream.guessed_rate, stream.average_rate) if rate)
        durations = [source.duration / 1_000_000] if source.duration is not None else []
        if stream.duration is not None:
            durations.append(float(stream.duration * stream.time_base))
        times: list[tuple[int, int]] = []
        decoded = 0
        for packet in source.demux(stream):
            if packet.pts is not None:
                times.append((packet.pts, packet.duration or 0))
            decoded += len(packet.decode())  # raises if ffmpeg cannot decode what the file holds
        starts = sorted(start for start, _ in times)
        # The mean interval from the second frame on: writers often stretch the first one.
        interval = (starts[-1] - starts[1]) / (len(starts) - 2)
        ends = [start + (duration or interval) for start, duration in times]
        durations.append(float((max(ends) - starts[0]) * stream.time_base))
        return Reading(
            formats=frozenset(source.format.name.split(",")),
            codec=stream.codec_context.codec.canonical_name,
            width=stream.codec_context.width,
            height=stream.codec_context.height,
            durations=tuple(durations),
            fps=float(1 / (interval * stream.time_base)),
            rates=rates,
            frames=len(times),
            decoded=decoded,
        )


# --------------------------------------------------------------------------------------------------
# Images


def image(fmt: str, width: int, height: int, mode: str = "RGB", **save: Any) -> bytes:
    picture = Image.new(mode, (width, height))
    for x in range(0, width, max(1, width // 16)):
        for y in range(0, height, max(1, height // 16)):
            picture.putpixel((x, y), (x * 7 % 256, y * 5 % 256, 90, 200)[: len(mode)] if mode != "P" else 3)
    buffer = io.BytesIO()
    picture.save(buffer, format=fmt, **save)
    return buffer.getvalue()


def pillow_size(data: bytes) -> tuple[int, int]:
    with Image.open(io.BytesIO(data)) as picture:
        return picture.size


# --------------------------------------------------------------------------------------------------
# ISO BMFF editing

CONTAINER_BOXES = frozenset({b"moov", b"trak", b"mdia", b"minf", b"stbl", b"mvex", b"edts", b"dinf", b"udta"})


@dataclass
class Box:
    type: bytes
    payload: bytes = b""
    children: list[Box] | None = None
    large: bool = False  # written with a 64-bit size

    def encode(self) -> bytes:
        body = (
            b"".join(child.encode() for child in self.children) if self.children is not None else self.payload
        )
        if self.large:
            return struct.pack(">I4sQ", 1, self.type, len(body) + 16) + body
        return struct.pack(">I4s", len(body) + 8, self.type) + body

    def find(self, *path: bytes) -> Box:
        node = self
        for box_type in path:
            node = next(child for child in node.children or [] if child.type == box_type)
        return node


def parse_boxes(data: bytes, *, descend: frozenset[bytes] = CONTAINER_BOXES) -> list[Box]:
    boxes: list[Box] = []
    pos = 0
    while pos + 8 <= len(data):
        size, box_type = struct.unpack_from(">I4s", data, pos)
        header = 8
        if size == 1:
            size = struct.unpack_from(">Q", data, pos + 8)[0]
            header = 16
        elif size == 0:
            size = len(data) - pos
        payload = data[pos + header : pos + size]
        if box_type in descend:
            boxes.append(Box(box_type, children=parse_boxes(payload, descend=descend), large=header == 16))
        else:
            boxes.append(Box(box_type, payload, large=header == 16))
        pos += size
    return boxes


def encode_boxes(boxes: list[Box]) -> bytes:
    return b"".join(box.encode() for box in boxes)


def edit_moov(data: bytes, edit: Callable[[Box], None]) -> bytes:
    """The file with its moov changed in place (chunk offsets are not fixed up: probe-only use)."""
    boxes = parse_boxes(data)
    edit(next(box for box in boxes if box.type == b"moov"))
    return encode_boxes(boxes)


def video_trak(moov: Box) -> Box:
    for trak in moov.children or []:
        if trak.type == b"trak" and trak.find(b"mdia", b"hdlr").payload[8:12] == b"vide":
            return trak
    raise LookupError("no video trak")


def compress_moov(data: bytes) -> bytes:
    """QuickTime's compressed movie header: moov(cmov(dcom 'zlib', cmvd(size, deflate(moov))))."""
    boxes = parse_boxes(data)
    index = next(i for i, box in enumerate(boxes) if box.type == b"moov")
    plain = boxes[index].encode()
    cmvd = struct.pack(">I", len(plain)) + zlib.compress(plain)
    cmov = Box(b"cmov", children=[Box(b"dcom", b"zlib"), Box(b"cmvd", cmvd)])
    boxes[index] = Box(b"moov", children=[cmov])
    return encode_boxes(boxes)


# --------------------------------------------------------------------------------------------------
# EBML editing


def blank_element(data: bytes, element_id: bytes) -> bytes:
    """Overwrite the first element with this id by a Void element of the same length."""
    at = data.index(element_id)
    size_byte = data[at + len(element_id)]
    length = 9 - size_byte.bit_length()
    value = int.from_bytes(data[at + len(element_id) : at + len(element_id) + length], "big")
    value &= (1 << (7 * length)) - 1
    total = len(element_id) + length + value
    void_size = total - 2  # Void id (1 byte) and a 1-byte size
    if not 0 <= void_size < 127:
        raise ValueError("element too large to blank with a short Void")
    return data[:at] + bytes([0xEC, 0x80 | void_size]) + bytes(void_size) + data[at + total :]


# --------------------------------------------------------------------------------------------------
# Sparse files


@dataclass
class VirtualFile:
    """A file of `size` bytes: zeros except where `parts` put real bytes. Counts the reads."""

    size: int
    parts: list[tuple[int, bytes]]
    calls: int = 0
    bytes_read: int = 0
    ranges: list[tuple[int, int]] = field(default_factory=list)

    def read_range(self, start: int, end: int) -> bytes:
        self.calls += 1
        self.ranges.append((start, end))
        if start < 0 or end < start:
            raise AssertionError(f"bad range {start}-{end}")
        end = min(end, self.size - 1)
        out = bytearray(end - start + 1)
        for offset, chunk in self.parts:
            lo, hi = max(start, offset), min(end + 1, offset + len(chunk))
            if lo < hi:
                out[lo - start : hi - start] = chunk[lo - offset : hi - offset]
        self.bytes_read += len(out)
        return bytes(out)


def layout(*pieces: bytes | int) -> VirtualFile:
    """Concatenate real byte strings and zero-filled gaps given by their length."""
    parts: list[tuple[int, bytes]] = []
    offset = 0
    for piece in pieces:
        if isinstance(piece, int):
            offset += piece
        else:
            parts.append((offset, piece))
            offset += len(piece)
    return VirtualFile(offset, parts)


class Recorder:
    """read_range over real bytes, counting calls and bytes."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.calls = 0
        self.bytes_read = 0

    def __call__(self, start: int, end: int) -> bytes:
        self.calls += 1
        if start < 0 or end < start:
            raise AssertionError(f"bad range {start}-{end}")
        chunk = self.data[start : end + 1]
        self.bytes_read += len(chunk)
        return chunk


# --------------------------------------------------------------------------------------------------
# EBML building


def ebml_element(element_id: bytes, payload: bytes) -> bytes:
    """An element with an 8-byte size field, so its length does not depend on the payload's."""
    return element_id + ((1 << 56) | len(payload)).to_bytes(8, "big") + payload


def ebml_uint(element_id: bytes, value: int) -> bytes:
    return ebml_element(element_id, value.to_bytes(8, "big"))


def _vint_at(data: bytes, pos: int) -> tuple[int, int]:
    length = 9 - data[pos].bit_length()
    value = int.from_bytes(data[pos : pos + length], "big") & ((1 << (7 * length)) - 1)
    return value, length


def split_webm(data: bytes) -> tuple[bytes, list[tuple[bytes, bytes]]]:
    """(EBML header element, [(id, whole element)] of the Segment's children) of a seekable WebM."""
    header_size, header_len = _vint_at(data, 4)
    ebml_header = data[: 4 + header_len + header_size]
    pos = len(ebml_header)
    if data[pos : pos + 4] != b"\x18\x53\x80\x67":
        raise ValueError("no Segment")
    segment_size, size_len = _vint_at(data, pos + 4)
    pos += 4 + size_len
    end = pos + segment_size
    children: list[tuple[bytes, bytes]] = []
    while pos < end:
        id_len = 9 - data[pos].bit_length()
        size, size_len = _vint_at(data, pos + id_len)
        total = id_len + size_len + size
        children.append((data[pos : pos + id_len], data[pos : pos + total]))
        pos += total
    return ebml_header, children


SEEKHEAD_ID = b"\x11\x4d\x9b\x74"
INFO_ID = b"\x15\x49\xa9\x66"
TRACKS_ID = b"\x16\x54\xae\x6b"
CLUSTER_ID = b"\x1f\x43\xb6\x75"


def webm_with_headers_after_clusters(data: bytes, *, seekhead: bool) -> bytes:
    """The WebM re-laid out as [SeekHead], Clusters..., other elements, Info, Tracks."""
    ebml_header, children = split_webm(data)
    clusters = [whole for element_id, whole in children if element_id == CLUSTER_ID]
    info = next(whole for element_id, whole in children if element_id == INFO_ID)
    tracks = next(whole for element_id, whole in children if element_id == TRACKS_ID)
    others = [
        whole
        for element_id, whole in children
        if element_id not in (CLUSTER_ID, INFO_ID, TRACKS_ID, SEEKHEAD_ID) and element_id != b"\xec"
    ]

    def build_seekhead(info_at: int, tracks_at: int) -> bytes:
        seeks = b"".join(
            ebml_element(b"\x4d\xbb", ebml_element(b"\x53\xab", target) + ebml_uint(b"\x53\xac", at))
            for target, at in ((INFO_ID, info_at), (TRACKS_ID, tracks_at))
        )
        return ebml_element(SEEKHEAD_ID, seeks)

    head = build_seekhead(0, 0) if seekhead else b""
    info_at = len(head) + sum(map(len, clusters)) + sum(map(len, others))
    if seekhead:
        head = build_seekhead(info_at, info_at + len(info))
    body = head + b"".join(clusters) + b"".join(others) + info + tracks
    return ebml_header + ebml_element(b"\x18\x53\x80\x67", body)


def full_box(box_type: bytes, version: int, flags: int, body: bytes) -> Box:
    return Box(box_type, bytes([version]) + flags.to_bytes(3, "big") + body)


def to_version_1(moov: Box, *, movie_duration: int | None = None) -> None:
    """Rewrite mvhd, every tkhd and mdhd with 64-bit times (version 1)."""
    mvhd = moov.find(b"mvhd")
    created, modified, timescale, duration = struct.unpack_from(">IIII", mvhd.payload, 4)
    if movie_duration is not None:
        duration = movie_duration
    mvhd.payload = (
        b"\x01"
        + mvhd.payload[1:4]
        + struct.pack(">QQIQ", created, modified, timescale, duration)
        + mvhd.payload[20:]
    )
    for trak in moov.children or []:
        if trak.type != b"trak":
            continue
        tkhd = trak.find(b"tkhd")
        created, modified, track_id, reserved, duration = struct.unpack_from(">5I", tkhd.payload, 4)
        tkhd.payload = (
            b"\x01"
            + tkhd.payload[1:4]
            + struct.pack(">QQIIQ", created, modified, track_id, reserved, duration)
            + tkhd.payload[24:]
        )
        mdhd = trak.find(b"mdia", b"mdhd")
        created, modified, timescale, duration = struct.unpack_from(">IIII", mdhd.payload, 4)
        mdhd.payload = (
            b"\x01"
            + mdhd.payload[1:4]
            + struct.pack(">QQIQ", created, modified, timescale, duration)
            + mdhd.payload[20:]
        )


IDENTITY = struct.pack(">9i", 0x10000, 0, 0, 0, 0x10000, 0, 0, 0, 0x40000000)


def _trak(track_id: int, handler: bytes, timescale: int, entry: Box) -> Box:
    tkhd = full_box(b"tkhd", 0, 3, struct.pack(">5I", 0, 0, track_id, 0, 0) + bytes(16) + IDENTITY + bytes(8))
    mdhd = full_box(b"mdhd", 0, 0, struct.pack(">IIIIHH", 0, 0, timescale, 0, 0x55C4, 0))
    hdlr = full_box(b"hdlr", 0, 0, bytes(4) + handler + bytes(13))
    stsd = full_box(b"stsd", 0, 0, struct.pack(">I", 1) + entry.encode())
    stts = full_box(b"stts", 0, 0, struct.pack(">I", 0))
    stbl = Box(b"stbl", children=[stsd, stts])
    minf = Box(b"minf", children=[stbl])
    return Box(b"trak", children=[tkhd, Box(b"mdia", children=[mdhd, hdlr, minf])])


def synthetic_fragmented_mp4(
    *, durations_in: str, tfdt_version: int, start: int, fragments: int = 3, samples: int = 30
) -> bytes:
    """A hand-made fragmented MP4: audio track 1, 1280x720 H.264 track 2 at 30000/1000 = 30 fps.

    `durations_in` says where the video sample duration lives: "trex", "tfhd" or "trun".
    """
    video_ticks, timescale = 1000, 30000
    avc1 = Box(
        b"avc1", bytes(6) + struct.pack(">H", 1) + bytes(16) + struct.pack(">HH", 1280, 720) + bytes(50)
    )
    mp4a = Box(b"mp4a", bytes(6) + struct.pack(">H", 1) + bytes(20))
    trex_video = video_ticks if durations_in == "trex" else 0
    mvex = Box(
        b"mvex",
        children=[
            full_box(b"trex", 0, 0, struct.pack(">5I", 1, 1, 1024, 0, 0)),
            full_box(b"trex", 0, 0, struct.pack(">5I", 2, 1, trex_video, 0, 0)),
        ],
    )
    mvhd = full_box(b"mvhd", 0, 0, struct.pack(">IIII", 0, 0, 1000, 0) + bytes(80))
    moov = Box(
        b"moov", children=[mvhd, _trak(1, b"soun", 48000, mp4a), _trak(2, b"vide", timescale, avc1), mvex]
    )
    boxes = [Box(b"ftyp", b"iso6\x00\x00\x00\x00iso6mp41"), moov]
    for number in range(fragments):
        base = start + number * samples * video_ticks
        tfhd_flags, tfhd_extra = (0x8, struct.pack(">I", video_ticks)) if durations_in == "tfhd" else (0, b"")
        trun_flags = 0x100 if durations_in == "trun" else 0
        per_sample = struct.pack(f">{samples}I", *[video_ticks] * samples) if durations_in == "trun" else b""
        tfdt_body = struct.pack(">Q" if tfdt_version else ">I", base)
        audio_traf = Box(
            b"traf",
            children=[
                full_box(b"tfhd", 0, 0, struct.pack(">I", 1)),
                full_box(b"trun", 0, 0x100, struct.pack(">III", 2, 1024, 1024)),
            ],
        )
        video_traf = Box(
            b"traf",
            children=[
                full_box(b"tfhd", 0, tfhd_flags, struct.pack(">I", 2) + tfhd_extra),
                full_box(b"tfdt", tfdt_version, 0, tfdt_body),
                full_box(b"trun", 0, trun_flags, struct.pack(">I", samples) + per_sample),
            ],
        )
        mfhd = full_box(b"mfhd", 0, 0, struct.pack(">I", number + 1))
        boxes += [Box(b"moof", children=[mfhd, audio_traf, video_traf]), Box(b"mdat", bytes(200))]
    return encode_boxes(boxes)


MKV_EBML = b"\x1a\x45\xdf\xa3"
MKV_SEGMENT = b"\x18\x53\x80\x67"


def simple_block(track: int, relative: int) -> bytes:
    return ebml_element(b"\xa3", bytes([0x80 | track]) + struct.pack(">hB", relative, 0x80) + bytes(20))


def block_group(track: int, relative: int) -> bytes:
    block = ebml_element(b"\xa1", bytes([0x80 | track]) + struct.pack(">hB", relative, 0) + bytes(20))
    return ebml_element(b"\xa0", block + ebml_uint(b"\x9b", 33))


def synthetic_matroska(
    *, duration: bytes | None, default_duration: int | None, roll: float | None, unknown_sizes: bool = False
) -> bytes:
    """A hand-made Matroska file: Void before the Segment, an Opus track then a 1920x1080 H.264 track
    at 30 fps in two clusters of 30 frames (the first frame of each in a BlockGroup)."""
    header = ebml_element(MKV_EBML, ebml_element(b"\x42\x82", b"matroska"))
    info = ebml_uint(b"\x2a\xd7\xb1", 1_000_000)
    if duration is not None:
        info += ebml_element(b"\x44\x89", duration)
    audio = ebml_element(
        b"\xae", ebml_uint(b"\xd7", 1) + ebml_uint(b"\x83", 2) + ebml_element(b"\x86", b"A_OPUS")
    )
    settings = ebml_uint(b"\xb0", 1920) + ebml_uint(b"\xba", 1080)
    if roll is not None:
        settings += ebml_element(b"\x76\x70", ebml_element(b"\x76\x75", struct.pack(">f", roll)))
    video = ebml_uint(b"\xd7", 2) + ebml_uint(b"\x83", 1) + ebml_element(b"\x86", b"V_MPEG4/ISO/AVC")
    if default_duration is not None:
        video += ebml_uint(b"\x23\xe3\x83", default_duration)
    video += ebml_element(b"\xe0", settings)
    body = ebml_element(INFO_ID, info) + ebml_element(TRACKS_ID, audio + ebml_element(b"\xae", video))
    for cluster_time in (0, 1000):
        blocks = [block_group(2, 0)] + [simple_block(2, round(i * 1000 / 30)) for i in range(1, 30)]
        blocks.insert(3, simple_block(1, 0))
        content = ebml_uint(b"\xe7", cluster_time) + b"".join(blocks)
        body += (
            CLUSTER_ID + b"\x01\xff\xff\xff\xff\xff\xff\xff" + content
            if unknown_sizes
            else ebml_element(CLUSTER_ID, content)
        )
    segment = (
        MKV_SEGMENT + b"\x01\xff\xff\xff\xff\xff\xff\xff" + body
        if unknown_sizes
        else ebml_element(MKV_SEGMENT, body)
    )
    return header + ebml_element(b"\xec", bytes(5)) + segment


EBML_WEBM = ebml_element(MKV_EBML, ebml_element(b"\x42\x82", b"webm"))
UNKNOWN_SEGMENT = MKV_SEGMENT + b"\x01\xff\xff\xff\xff\xff\xff\xff"


@dataclass
class PatternFile:
    """`prefix` followed by `unit` repeated up to `size` bytes, generated on demand."""

    prefix: bytes
    unit: bytes
    size: int
    calls: int = 0

    def read_range(self, start: int, end: int) -> bytes:
        self.calls += 1
        end = min(end, self.size - 1)
        head = self.prefix[start : end + 1]
        body_start = max(start, len(self.prefix))
        if end < body_start:
            return head
        offset = (body_start - len(self.prefix)) % len(self.unit)
        length = end - body_start + 1
        return head + (self.unit * (length // len(self.unit) + 2))[offset : offset + length]
