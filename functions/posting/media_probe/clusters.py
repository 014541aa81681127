"""WebM/Matroska clusters: block times from the first and the last clusters, which give the frame rate
and the duration of files written live (no Duration, no DefaultDuration, unknown sizes)."""

from __future__ import annotations

import struct
from typing import TYPE_CHECKING

from functions.posting.media_probe.ebml import (
    _BLOCK,
    _BLOCK_GROUP,
    _CLUSTER,
    _CLUSTER_CHILDREN,
    _CLUSTER_ID_BYTES,
    _CLUSTER_TIMECODE,
    _SIMPLE_BLOCK,
    _ebml_uint,
    _element_header,
    _vint,
)
from functions.posting.media_probe.limits import (
    _MAX_CLUSTER_CHILDREN,
    _MAX_TAIL_CANDIDATES,
    _WIDE_TAIL_WINDOWS,
)
from functions.posting.media_probe.truncation import _truncated

if TYPE_CHECKING:
    from functions.posting.media_probe.reader import _Reader


def _block_time(data: bytes, start: int, end: int, track: int) -> int | None:
    """Relative timecode of a (Simple)Block of the given track."""
    number = _vint(data, start, end)
    if number is None or number[1] != track or start + number[2] + 2 > end:
        return None
    relative: int = struct.unpack_from(">h", data, start + number[2])[0]
    return relative


def _cluster_block_times(
    data: bytes, start: int, end: int, track: int, times: list[int], *, strict: bool
) -> tuple[int, bool, bool]:
    """Add the track's block times of one cluster's payload; (where its last element ends, valid,
    whether that is past the end of data)."""
    base: int | None = None
    pos = start
    for _ in range(_MAX_CLUSTER_CHILDREN):
        if pos >= end:
            break
        header = _element_header(data, pos, len(data))
        if header is None:  # garbage, or the end of a file cut inside an element header
            return pos, not strict or len(data) - pos < 12, False
        element_id, header_len, size = header
        if element_id not in _CLUSTER_CHILDREN:
            return pos, not strict or pos > start, False
        payload = pos + header_len
        stop = len(data) if size is None else payload + size
        if element_id == _CLUSTER_TIMECODE:
            base = _ebml_uint(data, payload, min(stop, len(data)))
        elif element_id in (_SIMPLE_BLOCK, _BLOCK_GROUP):
            block = payload
            if element_id == _BLOCK_GROUP:
                inner = _element_header(data, payload, len(data))
                block = payload + inner[1] if inner and inner[0] == _BLOCK else len(data)
            relative = _block_time(data, block, min(stop, len(data)), track)
            if relative is not None and base is not None:
                times.append(base + relative)
            elif strict and base is None:
                return pos, False, False
        pos = stop
    else:
        return pos, not strict, False
    return pos, True, pos > len(data)


def _cluster_times(data: bytes, start: int, track: int) -> list[int]:
    """Sorted times of the track's blocks in the clusters that begin in data[start:]."""
    times: list[int] = []
    pos = start
    while pos < len(data):
        header = _element_header(data, pos, len(data))
        if header is None:
            break
        element_id, header_len, size = header
        if element_id == _CLUSTER:
            end = len(data) if size is None else min(len(data), pos + header_len + size)
            children_end, _, _ = _cluster_block_times(data, pos + header_len, end, track, times, strict=False)
            pos = children_end if size is None else pos + header_len + size
        elif size is None:
            break
        else:
            pos += header_len + size
    return sorted(set(times))


def _last_cluster_time(reader: _Reader, first_cluster: int, track: int) -> int | None:
    """Time of the last video block, from a cluster found in the tail of the file: the last
    megabytes, widening up to tens of megabytes for a live recording's long last cluster."""
    scanned = reader.size
    for start, data in reader.tail_windows(_WIDE_TAIL_WINDOWS, first_cluster):
        found = data.rfind(_CLUSTER_ID_BYTES, 0, scanned - start + 3)
        scanned = start
        work = 2 * len(data)  # candidates may nest: bound the bytes parsed, not just their number
        for _ in range(_MAX_TAIL_CANDIDATES):
            if found < 0 or work <= 0:
                break
            last, parsed = _tail_cluster(data, found, track, start, reader.size)
            if last is not None:
                return last
            work -= parsed
            found = data.rfind(_CLUSTER_ID_BYTES, 0, found)
    return None


def _tail_cluster(data: bytes, found: int, track: int, start: int, size: int) -> tuple[int | None, int]:
    """(time of the last block of the track, bytes parsed) of a cluster candidate at data[found:],
    which runs to the end of the file; raises when a real cluster there was cut short."""
    header = _element_header(data, found, len(data))
    if header is None or header[0] != _CLUSTER:
        return None, 0
    _, header_len, length = header
    declared_end = len(data) if length is None else found + header_len + length
    times: list[int] = []
    stop, valid, overran = _cluster_block_times(
        data, found + header_len, min(len(data), declared_end), track, times, strict=True
    )
    if valid and (overran or declared_end > len(data)):
        end = start + max(declared_end, stop)
        raise _truncated(f"its last cluster (at byte {start + found}) runs", end, size)
    return (max(times) if valid and times else None), stop - found
