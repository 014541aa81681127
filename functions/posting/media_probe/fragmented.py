"""Fragmented MP4/MOV: the frame rate from the first movie fragment (moof) and, without an mehd, the
duration from the last fragment in the tail of the file."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from functions.posting.media_probe.bmff import _U32, _U64, _first_box, _iter_boxes, _walk_top_level
from functions.posting.media_probe.limits import _MAX_META_BYTES, _MAX_TAIL_CANDIDATES, _TAIL_WINDOWS
from functions.posting.media_probe.results import MediaProbeError

if TYPE_CHECKING:
    from functions.posting.media_probe.reader import _Reader


@dataclass
class _Fragment:
    base_time: int | None = None
    samples: int = 0
    ticks: int = 0


def _parse_tfhd(data: bytes, start: int, end: int) -> tuple[int, int | None] | None:
    """(track id, default sample duration) of a tfhd."""
    if end - start < 8:
        return None
    flags = _U32.unpack_from(data, start)[0] & 0xFFFFFF
    track_id = _U32.unpack_from(data, start + 4)[0]
    pos = start + 8 + (8 if flags & 0x1 else 0) + (4 if flags & 0x2 else 0)
    if flags & 0x8 and pos + 4 <= end:
        return track_id, _U32.unpack_from(data, pos)[0]
    return track_id, None


def _parse_trun(data: bytes, start: int, end: int, default_duration: int | None) -> tuple[int, int]:
    """(samples, total duration) of a trun."""
    if end - start < 8:
        return 0, 0
    flags = _U32.unpack_from(data, start)[0] & 0xFFFFFF
    count = _U32.unpack_from(data, start + 4)[0]
    pos = start + 8 + (4 if flags & 0x1 else 0) + (4 if flags & 0x4 else 0)
    record = 4 * bin(flags & 0xF00).count("1")
    if not flags & 0x100:
        return count, count * (default_duration or 0)
    count = min(count, max(0, end - pos) // record)
    ticks = sum(_U32.unpack_from(data, pos + i * record)[0] for i in range(count))
    return count, ticks


def _parse_moof(data: bytes, start: int, end: int, track_id: int, trex_duration: int | None) -> _Fragment:
    fragment = _Fragment()
    for box_type, payload, stop in _iter_boxes(data, start, end):
        if box_type != b"traf":
            continue
        tfhd_box = _first_box(data, payload, stop, b"tfhd")
        tfhd = _parse_tfhd(data, *tfhd_box) if tfhd_box else None
        if tfhd is None or tfhd[0] != track_id:
            continue
        default_duration = tfhd[1] if tfhd[1] is not None else trex_duration
        for child, child_start, child_stop in _iter_boxes(data, payload, stop):
            if child == b"tfdt" and child_stop - child_start >= 8:
                if data[child_start] == 1 and child_stop - child_start >= 12:
                    fragment.base_time = _U64.unpack_from(data, child_start + 4)[0]
                elif data[child_start] != 1:
                    fragment.base_time = _U32.unpack_from(data, child_start + 4)[0]
            elif child == b"trun":
                samples, ticks = _parse_trun(data, child_start, child_stop, default_duration)
                fragment.samples += samples
                fragment.ticks += ticks
    return fragment


def _first_fragment(reader: _Reader, offset: int, track_id: int, trex: int | None) -> _Fragment | None:
    """The video samples of the first movie fragment after the moov, if one can be read."""
    try:
        for box_type, start, header, size in _walk_top_level(reader, offset):
            if box_type == b"moof":
                data = reader.read(start, min(size, _MAX_META_BYTES))
                return _parse_moof(data, header, len(data), track_id, trex)
    except MediaProbeError:
        return None  # junk after the movie header: the frame rate stays unknown
    return None


def _last_fragment_end(reader: _Reader, track_id: int, trex: int | None) -> int | None:
    """Media time at which the last fragment ends, from a moof found in the tail of the file."""
    for window in _TAIL_WINDOWS:
        start = max(0, reader.size - window)
        try:
            data = reader.read(start, reader.size - start)
        except MediaProbeError:
            return None
        found = data.rfind(b"moof")
        work = 2 * len(data)  # candidates may nest: bound the bytes parsed, not just their number
        for _ in range(_MAX_TAIL_CANDIDATES):
            if found < 4 or work <= 0:
                break
            box = found - 4
            size = _U32.unpack_from(data, box)[0]
            after = box + size
            followed_by_mdat = after + 8 > len(data) or data[after + 4 : after + 8] == b"mdat"
            if size >= 16 and after <= len(data) and followed_by_mdat:
                work -= size
                fragment = _parse_moof(data, box + 8, after, track_id, trex)
                if fragment.base_time is not None and fragment.samples:
                    return fragment.base_time + fragment.ticks
            found = data.rfind(b"moof", 0, found)
        if start == 0:
            break
    return None
