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
from functions.posting.media_probe.limits import _MAX_CLUSTER_CHILDREN, _MAX_TAIL_CANDIDATES, _TAIL_WINDOWS
from functions.posting.media_probe.results import MediaProbeError

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
) -> tuple[int, bool]:
    """Add the track's block times of one cluster's payload; (where the cluster ended, valid)."""
    base: int | None = None
    pos = start
    for _ in range(_MAX_CLUSTER_CHILDREN):
        if pos >= end:
            break
        header = _element_header(data, pos, len(data))
        if header is None:  # garbage, or the end of a file cut inside an element header
            return pos, not strict or len(data) - pos < 12
        element_id, header_len, size = header
        if element_id not in _CLUSTER_CHILDREN:
            return pos, not strict or pos > start
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
                return pos, False
        pos = stop
    else:
        return pos, not strict
    return min(pos, end), True


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
            children_end, _ = _cluster_block_times(data, pos + header_len, end, track, times, strict=False)
            pos = children_end if size is None else pos + header_len + size
        elif size is None:
            break
        else:
            pos += header_len + size
    return sorted(set(times))


def _last_cluster_time(reader: _Reader, first_cluster: int, track: int) -> int | None:
    """Time of the last video block, from a cluster found in the tail of the file."""
    for window in _TAIL_WINDOWS:
        start = max(first_cluster, reader.size - window)
        try:
            data = reader.read(start, reader.size - start)
        except MediaProbeError:
            return None
        found = data.rfind(_CLUSTER_ID_BYTES)
        work = 2 * len(data)  # candidates may nest: bound the bytes parsed, not just their number
        for _ in range(_MAX_TAIL_CANDIDATES):
            if found < 0 or work <= 0:
                break
            header = _element_header(data, found, len(data))
            if header is not None and header[0] == _CLUSTER:
                _, header_len, size = header
                end = len(data) if size is None else min(len(data), found + header_len + size)
                times: list[int] = []
                stop, valid = _cluster_block_times(data, found + header_len, end, track, times, strict=True)
                work -= stop - found
                if valid and times:
                    return max(times)
            found = data.rfind(_CLUSTER_ID_BYTES, 0, found)
        if start == first_cluster:
            break
    return None
