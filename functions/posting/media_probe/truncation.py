"""Truncated files: the error, and where an MP4/MOV sample table says the media data ends.

A file cut short (an upload or a recording that stopped early) often still has a readable header,
so its duration would look right while the end of the video is missing. Its index gives it away:
the sample tables, a sidx or a fragment's sample runs point past the last byte.
"""

from __future__ import annotations

import struct

from functions.posting.media_probe.results import MediaProbeError


def _truncated(what: str, end: int, size: int) -> MediaProbeError:
    """`what` points (or runs) to byte `end` of a file of `size` bytes."""
    return MediaProbeError(f"the file is truncated: {what} past its end (byte {end} of {size})")


def _index_past_end(end: int, size: int) -> MediaProbeError:
    return _truncated("its index points", end, size)


def _sample_data_end(data: bytes, tables: dict[bytes, tuple[int, int]]) -> int | None:
    """The byte after the samples of the chunk stored furthest into the file, from a track's stco or
    co64, stsc and stsz payloads; None when a table is missing or inconsistent."""
    offsets = _chunk_offsets(data, tables)
    if not offsets or b"stsc" not in tables or b"stsz" not in tables:
        return None
    chunk = offsets.index(max(offsets))
    samples = _chunk_samples(data, *tables[b"stsc"], chunk + 1)
    if samples is None:
        return None
    length = _samples_length(data, *tables[b"stsz"], *samples)
    return None if length is None else int(offsets[chunk]) + length


def _chunk_offsets(data: bytes, tables: dict[bytes, tuple[int, int]]) -> tuple[int, ...]:
    for box_type, width in ((b"co64", "Q"), (b"stco", "I")):
        if box_type in tables:
            start, end = tables[box_type]
            if end - start < 8:
                return ()
            count = min(
                struct.unpack_from(">I", data, start + 4)[0], (end - start - 8) // struct.calcsize(width)
            )
            return struct.unpack_from(f">{count}{width}", data, start + 8)
    return ()


def _chunk_samples(data: bytes, start: int, end: int, chunk: int) -> tuple[int, int] | None:
    """(index of its first sample, number of samples) of a chunk (numbered from 1), from the stsc runs."""
    if end - start < 8:
        return None
    count = min(struct.unpack_from(">I", data, start + 4)[0], (end - start - 8) // 12)
    runs = [struct.unpack_from(">II", data, start + 8 + 12 * i) for i in range(count)]
    sample = 0
    for index, (first_chunk, per_chunk) in enumerate(runs):
        next_first = runs[index + 1][0] if index + 1 < len(runs) else chunk + 1
        if first_chunk < 1 or next_first < first_chunk or chunk < first_chunk:
            return None  # runs out of order: not a table to judge the file by
        if chunk < next_first:
            return sample + (chunk - first_chunk) * per_chunk, per_chunk
        sample += (next_first - first_chunk) * per_chunk
    return None


def _samples_length(data: bytes, start: int, end: int, first: int, count: int) -> int | None:
    """Total size of `count` samples from sample `first` (numbered from 0), from the stsz table."""
    if end - start < 12:
        return None
    uniform, total = struct.unpack_from(">II", data, start + 4)
    if uniform:
        return int(count * uniform)
    if first + count > min(total, (end - start - 12) // 4):
        return None
    return int(sum(struct.unpack_from(f">{count}I", data, start + 12 + 4 * first)))
