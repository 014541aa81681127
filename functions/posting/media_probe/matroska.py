"""EBML: WebM and Matroska videos, from the EBML header and the Segment's SeekHead, Info and Tracks."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from functions.posting.media_probe.clusters import _cluster_times, _last_cluster_time
from functions.posting.media_probe.ebml import (
    _CLUSTER,
    _CODEC_ID,
    _DEFAULT_DURATION,
    _DOCTYPE,
    _DURATION,
    _EBML,
    _INFO,
    _PIXEL_HEIGHT,
    _PIXEL_WIDTH,
    _POSE_ROLL,
    _PROJECTION,
    _SEEK,
    _SEEK_ID,
    _SEEK_POSITION,
    _SEEKHEAD,
    _SEGMENT,
    _TIMECODE_SCALE,
    _TRACK_ENTRY,
    _TRACK_NUMBER,
    _TRACK_TYPE,
    _TRACKS,
    _VIDEO,
    _ebml_children,
    _ebml_float,
    _ebml_uint,
    _element_header,
)
from functions.posting.media_probe.limits import _CHUNK, _CLUSTER_WINDOW, _MAX_LEVEL1, _MAX_META_BYTES
from functions.posting.media_probe.results import MediaProbeError, VideoProbe
from functions.posting.media_probe.truncation import _truncated

if TYPE_CHECKING:
    from functions.posting.media_probe.reader import _Reader

_MATROSKA_CODECS = {
    "V_VP8": "vp8",
    "V_VP9": "vp9",
    "V_AV1": "av1",
    "V_MPEG4/ISO/AVC": "h264",
    "V_MPEGH/ISO/HEVC": "hevc",
    "V_MPEG4/ISO/SP": "mpeg4",
    "V_MPEG4/ISO/ASP": "mpeg4",
    "V_MPEG4/ISO/AP": "mpeg4",
}


@dataclass
class _MkvTrack:
    number: int = 0
    codec_id: str = ""
    default_duration: int | None = None
    width: int | None = None
    height: int | None = None
    rotation: int = 0


@dataclass
class _Matroska:
    segment_start: int = 0
    timecode_scale: int = 1_000_000
    duration: float | None = None
    info_found: bool = False
    tracks_found: bool = False
    video: _MkvTrack | None = None
    seek: dict[int, int] = field(default_factory=dict)
    first_cluster: int | None = None


def _header_at(reader: _Reader, pos: int, end: int) -> tuple[int, int, int | None] | None:
    head = reader.read(pos, min(12, end - pos))
    return _element_header(head, 0, len(head))


def _doctype(reader: _Reader) -> str:
    head = reader.read(0, _CHUNK)
    header = _element_header(head, 0, len(head))
    if header is None or header[0] != _EBML or header[2] is None or header[1] + header[2] > len(head):
        raise MediaProbeError("corrupt WebM/Matroska: its EBML header is unreadable")
    for element_id, start, stop in _ebml_children(head, header[1], header[1] + header[2]):
        if element_id == _DOCTYPE:
            return head[start:stop].rstrip(b"\x00").decode("latin-1") or "matroska"
    return "matroska"  # the default DocType


def _probe_matroska(reader: _Reader) -> VideoProbe:
    doctype = _doctype(reader)
    mkv = _Matroska()
    segment_end = _find_segment(reader, mkv)
    _walk_segment(reader, mkv, segment_end)
    if not mkv.tracks_found:
        label = "WebM" if doctype == "webm" else "Matroska"
        raise MediaProbeError(f"{label} file without a Tracks element: the file is incomplete or corrupt")
    video = mkv.video
    if video is None:
        raise MediaProbeError("the file has no video track")
    seconds_per_tick = mkv.timecode_scale / 1e9
    duration = mkv.duration * seconds_per_tick if mkv.duration and mkv.duration > 0 else None
    fps = round(1e9 / video.default_duration, 3) if video.default_duration else None
    if mkv.first_cluster is not None and (fps is None or duration is None):
        first_times = _cluster_times(reader.read(mkv.first_cluster, _CLUSTER_WINDOW), 0, video.number)
        if fps is None and len(first_times) >= 2 and first_times[-1] > first_times[0]:
            span = (first_times[-1] - first_times[0]) * seconds_per_tick
            fps = round((len(first_times) - 1) / span, 3)
        if duration is None:
            last = _last_cluster_time(reader, mkv.first_cluster, video.number)
            start = first_times[0] if first_times else 0
            if last is not None and last >= start:
                frame = 1 / fps if fps else 0.0
                duration = ((last - start) * seconds_per_tick + frame) or None
    return VideoProbe(
        container="webm" if doctype == "webm" else "matroska",
        codec=_MATROSKA_CODECS.get(video.codec_id, video.codec_id.lower() or None),
        duration_seconds=duration,
        fps=fps,
        width=video.width,
        height=video.height,
        rotation=video.rotation,
    )


def _find_segment(reader: _Reader, mkv: _Matroska) -> int:
    """Position the Segment's payload in mkv; returns where the Segment ends."""
    pos = 0
    for _ in range(16):
        header = _header_at(reader, pos, reader.size)
        if header is None:
            break
        element_id, header_len, size = header
        if element_id == _SEGMENT:
            mkv.segment_start = pos + header_len
            if size is not None and mkv.segment_start + size > reader.size:
                raise _truncated("its Segment runs", mkv.segment_start + size, reader.size)
            return reader.size if size is None else mkv.segment_start + size
        if size is None:
            break
        pos += header_len + size
    raise MediaProbeError("corrupt WebM/Matroska: no Segment element after the EBML header")


def _walk_segment(reader: _Reader, mkv: _Matroska, end: int) -> None:
    """Read SeekHead, Info and Tracks, skipping everything else by its size."""
    pos = mkv.segment_start
    for _ in range(_MAX_LEVEL1):
        if pos >= end:
            return
        header = _header_at(reader, pos, end)
        if header is None:
            return
        element_id, header_len, size = header
        if element_id == _CLUSTER:
            if mkv.first_cluster is None:
                mkv.first_cluster = pos
            if not (mkv.info_found and mkv.tracks_found) and _follow_seekhead(reader, mkv, end):
                return
        elif element_id in (_INFO, _TRACKS, _SEEKHEAD) and size is not None:
            _read_level1(reader, mkv, element_id, pos + header_len, size)
        if (
            mkv.info_found
            and mkv.tracks_found
            and (mkv.first_cluster is not None or not _needs_clusters(mkv))
        ):
            return
        if size is None:
            return  # an element of unknown size: nothing after it can be located
        pos += header_len + size
    raise MediaProbeError(f"corrupt WebM/Matroska: more than {_MAX_LEVEL1} elements before its Tracks")


def _needs_clusters(mkv: _Matroska) -> bool:
    return mkv.video is not None and (mkv.video.default_duration is None or not mkv.duration)


def _read_level1(reader: _Reader, mkv: _Matroska, element_id: int, start: int, size: int) -> None:
    if size > _MAX_META_BYTES:
        raise MediaProbeError(f"WebM/Matroska element 0x{element_id:X} is {size} bytes, too large to read")
    data = reader.exact(start, size, f"WebM/Matroska element 0x{element_id:X}")
    if element_id == _INFO:
        mkv.info_found = True
        _parse_info(data, mkv)
    elif element_id == _TRACKS:
        mkv.tracks_found = True
        mkv.video = _parse_tracks(data)
    else:
        _parse_seekhead(data, mkv)


def _follow_seekhead(reader: _Reader, mkv: _Matroska, end: int) -> bool:
    """Read missing Info/Tracks where the SeekHead says they are; True when both are then known."""
    for element_id in (_INFO, _TRACKS):
        found = mkv.info_found if element_id == _INFO else mkv.tracks_found
        target = mkv.seek.get(element_id)
        if found or target is None:
            continue
        pos = mkv.segment_start + target
        header = _header_at(reader, pos, end)
        if header is None or header[0] != element_id or header[2] is None:
            return False
        _read_level1(reader, mkv, element_id, pos + header[1], header[2])
    return mkv.info_found and mkv.tracks_found


def _parse_seekhead(data: bytes, mkv: _Matroska) -> None:
    for element_id, start, stop in _ebml_children(data, 0, len(data)):
        if element_id != _SEEK:
            continue
        target_id = target_pos = None
        for child, child_start, child_stop in _ebml_children(data, start, stop):
            if child == _SEEK_ID:
                target_id = _ebml_uint(data, child_start, child_stop)
            elif child == _SEEK_POSITION:
                target_pos = _ebml_uint(data, child_start, child_stop)
        if target_id is not None and target_pos is not None:
            mkv.seek.setdefault(target_id, target_pos)


def _parse_info(data: bytes, mkv: _Matroska) -> None:
    for element_id, start, stop in _ebml_children(data, 0, len(data)):
        if element_id == _TIMECODE_SCALE:
            scale = _ebml_uint(data, start, stop)
            if scale:
                mkv.timecode_scale = scale
        elif element_id == _DURATION:
            mkv.duration = _ebml_float(data, start, stop)


def _parse_tracks(data: bytes) -> _MkvTrack | None:
    for element_id, start, stop in _ebml_children(data, 0, len(data)):
        if element_id == _TRACK_ENTRY:
            track = _parse_track_entry(data, start, stop)
            if track is not None:
                return track
    return None


def _parse_track_entry(data: bytes, start: int, stop: int) -> _MkvTrack | None:
    track = _MkvTrack()
    kind = None
    for element_id, child_start, child_stop in _ebml_children(data, start, stop):
        if element_id == _TRACK_NUMBER:
            track.number = _ebml_uint(data, child_start, child_stop) or 0
        elif element_id == _TRACK_TYPE:
            kind = _ebml_uint(data, child_start, child_stop)
        elif element_id == _CODEC_ID:
            track.codec_id = data[child_start:child_stop].rstrip(b"\x00").decode("latin-1")
        elif element_id == _DEFAULT_DURATION:
            track.default_duration = _ebml_uint(data, child_start, child_stop) or None
        elif element_id == _VIDEO:
            _parse_video_settings(data, child_start, child_stop, track)
    return track if kind == 1 else None


def _parse_video_settings(data: bytes, start: int, stop: int, track: _MkvTrack) -> None:
    for element_id, child_start, child_stop in _ebml_children(data, start, stop):
        if element_id == _PIXEL_WIDTH:
            track.width = _ebml_uint(data, child_start, child_stop)
        elif element_id == _PIXEL_HEIGHT:
            track.height = _ebml_uint(data, child_start, child_stop)
        elif element_id == _PROJECTION:
            for child, roll_start, roll_stop in _ebml_children(data, child_start, child_stop):
                roll = _ebml_float(data, roll_start, roll_stop) if child == _POSE_ROLL else None
                if roll is not None:
                    # ProjectionPoseRoll turns counter-clockwise; VideoProbe.rotation is clockwise.
                    track.rotation = (-round(roll / 90) % 4) * 90
