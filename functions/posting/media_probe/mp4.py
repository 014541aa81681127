"""ISO BMFF: MP4 and QuickTime videos, from their movie header (moov)."""

from __future__ import annotations

import math
import struct
import zlib
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from functions.posting.media_probe.bmff import _U32, _U64, _first_box, _fourcc, _iter_boxes, _walk_top_level
from functions.posting.media_probe.fragment_timing import _fragmented_timing
from functions.posting.media_probe.limits import MAX_MOOV_BYTES
from functions.posting.media_probe.results import MediaProbeError, VideoProbe
from functions.posting.media_probe.truncation import _index_past_end, _sample_data_end, _truncated

if TYPE_CHECKING:
    from functions.posting.media_probe.reader import _Reader

_ISO_CODECS = {
    b"avc1": "h264",
    b"avc2": "h264",
    b"avc3": "h264",
    b"avc4": "h264",
    b"dva1": "h264",
    b"dvav": "h264",
    b"hvc1": "hevc",
    b"hev1": "hevc",
    b"dvh1": "hevc",
    b"dvhe": "hevc",
    b"vp08": "vp8",
    b"vp09": "vp9",
    b"av01": "av1",
    b"mp4v": "mpeg4",
}
_ENCRYPTED_ENTRIES = frozenset({b"encv", b"resv"})


@dataclass
class _Track:
    track_id: int = 0
    enabled: bool = True
    handler: bytes = b""
    display_width: float = 0.0
    display_height: float = 0.0
    rotation: int = 0
    timescale: int = 0
    duration: int | None = None
    fourcc: bytes | None = None
    coded_width: int = 0
    coded_height: int = 0
    samples: int = 0
    ticks: int = 0
    first_delta: int = 0
    data_end: int | None = None
    """The byte after the last sample its tables point at."""


@dataclass
class _Movie:
    timescale: int = 0
    duration: int | None = None
    fragmented: bool = False
    fragment_duration: int | None = None
    tracks: list[_Track] = field(default_factory=list)
    trex: dict[int, tuple[int, int]] = field(default_factory=dict)
    """track id -> (default sample duration, default sample size)."""


def _time_header(data: bytes, start: int, end: int) -> tuple[int, int | None] | None:
    """(timescale, duration or None if unknown) of an mvhd or mdhd payload."""
    if end - start < 20:
        return None
    if data[start] == 1:
        if end - start < 32:
            return None
        timescale = _U32.unpack_from(data, start + 20)[0]
        duration: int | None = _U64.unpack_from(data, start + 24)[0]
        unknown = 0xFFFF_FFFF_FFFF_FFFF
    else:
        timescale, duration = struct.unpack_from(">II", data, start + 12)
        unknown = 0xFFFF_FFFF
    return timescale, None if duration == unknown else duration


def _matrix_rotation(a: int, b: int) -> int:
    """Clockwise rotation of a tkhd matrix whose first row is (a, b) in 16.16 fixed point."""
    if a == 0 and b == 0:
        return 0
    quarter_turns = round(math.degrees(math.atan2(b, a)) / 90)
    return (quarter_turns % 4) * 90


def _parse_tkhd(data: bytes, start: int, end: int, track: _Track) -> None:
    if data[start] == 1:
        id_at, matrix_at, size_at, needed = 20, 52, 88, 96
    else:
        id_at, matrix_at, size_at, needed = 12, 40, 76, 84
    if end - start < needed:
        return
    track.enabled = bool(data[start + 3] & 1)
    track.track_id = _U32.unpack_from(data, start + id_at)[0]
    a, b = struct.unpack_from(">ii", data, start + matrix_at)
    track.rotation = _matrix_rotation(a, b)
    width, height = struct.unpack_from(">II", data, start + size_at)
    track.display_width, track.display_height = width / 65536, height / 65536


def _parse_stsd(data: bytes, start: int, end: int, track: _Track) -> None:
    for fourcc, payload, stop in _iter_boxes(data, start + 8, end):
        track.fourcc = fourcc
        if stop - payload >= 28:
            track.coded_width, track.coded_height = struct.unpack_from(">HH", data, payload + 24)
        if fourcc in _ENCRYPTED_ENTRIES:
            sinf = _first_box(data, payload + 78, stop, b"sinf")
            frma = _first_box(data, *sinf, b"frma") if sinf else None
            if frma and frma[1] - frma[0] >= 4:
                track.fourcc = data[frma[0] : frma[0] + 4]
        return  # the first sample entry describes the track


def _parse_stts(data: bytes, start: int, end: int, track: _Track) -> None:
    if end - start < 8:
        return
    count = min(_U32.unpack_from(data, start + 4)[0], (end - start - 8) // 8)
    samples = ticks = 0
    for sample_count, delta in struct.iter_unpack(">II", data[start + 8 : start + 8 + 8 * count]):
        if not samples and sample_count:
            track.first_delta = delta
        samples += sample_count
        ticks += sample_count * delta
    track.samples, track.ticks = samples, ticks


_SAMPLE_TABLES = frozenset({b"stsc", b"stsz", b"stco", b"co64"})


def _parse_stbl(data: bytes, start: int, end: int, track: _Track) -> None:
    tables: dict[bytes, tuple[int, int]] = {}
    for box_type, payload, stop in _iter_boxes(data, start, end):
        if box_type == b"stsd":
            _parse_stsd(data, payload, stop, track)
        elif box_type == b"stts":
            _parse_stts(data, payload, stop, track)
        elif box_type in _SAMPLE_TABLES:
            tables.setdefault(box_type, (payload, stop))
    track.data_end = _sample_data_end(data, tables)


def _parse_mdia(data: bytes, start: int, end: int, track: _Track) -> None:
    for box_type, payload, stop in _iter_boxes(data, start, end):
        if box_type == b"mdhd":
            header = _time_header(data, payload, stop)
            if header:
                track.timescale, track.duration = header
        elif box_type == b"hdlr" and stop - payload >= 12:
            track.handler = data[payload + 8 : payload + 12]
        elif box_type == b"minf":
            stbl = _first_box(data, payload, stop, b"stbl")
            if stbl:
                _parse_stbl(data, *stbl, track)


def _parse_trak(data: bytes, start: int, end: int) -> _Track:
    track = _Track()
    for box_type, payload, stop in _iter_boxes(data, start, end):
        if box_type == b"tkhd":
            _parse_tkhd(data, payload, stop, track)
        elif box_type == b"mdia":
            _parse_mdia(data, payload, stop, track)
    return track


def _parse_mvex(data: bytes, start: int, end: int, movie: _Movie) -> None:
    movie.fragmented = True
    for box_type, payload, stop in _iter_boxes(data, start, end):
        if box_type == b"mehd" and stop - payload >= 8:
            if data[payload] == 1 and stop - payload >= 12:
                movie.fragment_duration = _U64.unpack_from(data, payload + 4)[0]
            elif data[payload] != 1:
                movie.fragment_duration = _U32.unpack_from(data, payload + 4)[0]
        elif box_type == b"trex" and stop - payload >= 24:
            track_id, _, default_duration, default_size = struct.unpack_from(">IIII", data, payload + 4)
            movie.trex[track_id] = (default_duration, default_size)


def _parse_moov(data: bytes, start: int, end: int, *, compressed_allowed: bool = True) -> _Movie:
    movie = _Movie()
    for box_type, payload, stop in _iter_boxes(data, start, end):
        if box_type == b"mvhd":
            header = _time_header(data, payload, stop)
            if header:
                movie.timescale, movie.duration = header
        elif box_type == b"trak":
            movie.tracks.append(_parse_trak(data, payload, stop))
        elif box_type == b"mvex":
            _parse_mvex(data, payload, stop, movie)
        elif box_type == b"cmov" and compressed_allowed:
            return _parse_cmov(data, payload, stop)
    return movie


def _parse_cmov(data: bytes, start: int, end: int) -> _Movie:
    """QuickTime's zlib-compressed movie header."""
    dcom = _first_box(data, start, end, b"dcom")
    cmvd = _first_box(data, start, end, b"cmvd")
    if dcom is None or cmvd is None or dcom[1] - dcom[0] < 4 or cmvd[1] - cmvd[0] < 4:
        raise MediaProbeError("corrupt MOV: its compressed movie header (cmov) is incomplete")
    method = data[dcom[0] : dcom[0] + 4]
    if method != b"zlib":
        raise MediaProbeError(f"MOV with a movie header compressed by unsupported method {method!r}")
    inflater = zlib.decompressobj()
    try:
        moov = inflater.decompress(data[cmvd[0] + 4 : cmvd[1]], MAX_MOOV_BYTES + 1)
    except zlib.error as exc:
        raise MediaProbeError(f"corrupt MOV: its compressed movie header does not inflate ({exc})") from exc
    if len(moov) > MAX_MOOV_BYTES:
        raise MediaProbeError(f"MOV movie header inflates to more than {MAX_MOOV_BYTES} bytes")
    inner = _first_box(moov, 0, len(moov), b"moov")
    if inner is None:
        raise MediaProbeError("corrupt MOV: its compressed movie header holds no moov box")
    return _parse_moov(moov, *inner, compressed_allowed=False)


def _video_track(movie: _Movie) -> _Track:
    videos = [track for track in movie.tracks if track.handler == b"vide"]
    if not videos:
        handlers = ", ".join(sorted({_fourcc(t.handler) for t in movie.tracks if t.handler})) or "none"
        raise MediaProbeError(f"the file has no video track (track types: {handlers})")
    enabled = [track for track in videos if track.enabled]
    return (enabled or videos)[0]


def _iso_codec(fourcc: bytes | None) -> str | None:
    if fourcc is None:
        return None
    return _ISO_CODECS.get(fourcc) or (_fourcc(fourcc).strip(" \x00").lower() or None)


def _ratio(count: int, ticks: int, timescale: int) -> float | None:
    if count <= 0 or ticks <= 0 or timescale <= 0:
        return None
    return round(count * timescale / ticks, 3)


def _read_moov(reader: _Reader) -> tuple[_Movie, int]:
    """The parsed moov and the offset just after it."""
    last: tuple[bytes, int, int] | None = None
    for box_type, offset, header, size in _walk_top_level(reader):
        last = box_type, offset, size
        if box_type != b"moov":
            continue
        if size > MAX_MOOV_BYTES:
            raise MediaProbeError(
                f"the MP4/MOV movie header (moov) is {size} bytes, more than the {MAX_MOOV_BYTES} this "
                "probe reads"
            )
        if offset + size > reader.size:
            raise MediaProbeError(
                f"the file is truncated: its movie header (moov, {size} bytes at offset {offset}) runs "
                f"past the end of the file at {reader.size} bytes"
            )
        data = reader.read(offset, size)
        return _parse_moov(data, header, size), offset + size
    if last is not None and last[1] + last[2] > reader.size:
        # A recording whose moov was to be written last, cut inside its media data.
        what = f"it has no movie header (moov), and its '{_fourcc(last[0])}' box at byte {last[1]} runs"
        raise _truncated(what, last[1] + last[2], reader.size)
    raise MediaProbeError(
        "MP4/MOV without a moov box (movie header): the recording was not finished or the file is incomplete"
    )


def _probe_iso_video(reader: _Reader, container: str) -> VideoProbe:
    movie, after_moov = _read_moov(reader)
    track = _video_track(movie)
    for any_track in movie.tracks:
        if any_track.data_end is not None and any_track.data_end > reader.size:
            raise _index_past_end(any_track.data_end, reader.size)
    if movie.fragmented:
        duration, fps = _fragmented_timing(reader, movie, track, after_moov)
    else:
        if not track.samples:
            raise MediaProbeError("the video track has no frames: its sample table is empty")
        if track.timescale <= 0 or track.ticks <= 0:
            raise MediaProbeError("corrupt MP4/MOV: the video track's frames have no duration")
        duration = _plain_duration(movie, track)
        fps = _ratio(track.samples, track.ticks, track.timescale)
    width = track.coded_width or round(track.display_width) or None
    height = track.coded_height or round(track.display_height) or None
    return VideoProbe(
        container=container,
        codec=_iso_codec(track.fourcc),
        duration_seconds=duration,
        fps=fps,
        width=width,
        height=height,
        rotation=track.rotation,
    )


def _plain_duration(movie: _Movie, track: _Track) -> float | None:
    """The movie's duration, else the video track's, else the sum of its sample durations."""
    if movie.duration and movie.timescale:
        return movie.duration / movie.timescale
    if track.duration and track.timescale:
        return track.duration / track.timescale
    return track.ticks / track.timescale if track.ticks and track.timescale else None
