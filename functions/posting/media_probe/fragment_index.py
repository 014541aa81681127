"""The indexes a fragmented MP4 may carry: segment indexes (sidx: the duration and byte size of every
fragment) and the movie fragment random access box at the end of the file (mfra, found through its
trailing mfro: where the fragments starting with a key frame are)."""

from __future__ import annotations

import struct
from dataclasses import dataclass

from functions.posting.media_probe.bmff import _U32, _U64, _iter_boxes


@dataclass(frozen=True)
class _Sidx:
    reference_id: int
    timescale: int
    duration: int
    """The sum of its subsegment durations, in its timescale."""
    end: int
    """The byte after the last subsegment it indexes."""


def _parse_sidx(data: bytes, start: int, end: int, box_end: int) -> _Sidx | None:
    """The sidx whose payload is data[start:end] and whose box ends at byte `box_end` of the file."""
    if end - start < 12:
        return None
    version = data[start]
    reference_id, timescale = struct.unpack_from(">II", data, start + 4)
    layout, pos = (">II", start + 12) if version == 0 else (">QQ", start + 12)
    if pos + struct.calcsize(layout) + 4 > end:
        return None
    first_offset = struct.unpack_from(layout, data, pos)[1]
    pos += struct.calcsize(layout)
    count = min(struct.unpack_from(">H", data, pos + 2)[0], (end - pos - 4) // 12)
    entries = struct.unpack_from(f">{3 * count}I", data, pos + 4)
    referenced = sum(word & 0x7FFF_FFFF for word in entries[0::3])
    return _Sidx(reference_id, timescale, sum(entries[1::3]), box_end + first_offset + referenced)


def _mfra_size(tail: bytes) -> int | None:
    """The size of the mfra box that ends the file, from the mfro box in its last 16 bytes."""
    if len(tail) < 16 or tail[-12:-8] != b"mfro" or _U32.unpack_from(tail, len(tail) - 16)[0] != 16:
        return None
    size: int = _U32.unpack_from(tail, len(tail) - 4)[0]
    return size if size >= 24 else None


def _last_moof_offsets(data: bytes, start: int, end: int) -> dict[int, int]:
    """track id -> offset of the last moof its tfra lists, from an mfra payload."""
    found: dict[int, int] = {}
    for box_type, payload, stop in _iter_boxes(data, start, end):
        if box_type != b"tfra" or stop - payload < 16:
            continue
        version = data[payload]
        track_id, lengths, count = struct.unpack_from(">III", data, payload + 4)
        sizes = ((lengths >> 4) & 3) + ((lengths >> 2) & 3) + (lengths & 3) + 3
        entry = (16 if version == 1 else 8) + sizes
        count = min(count, (stop - payload - 16) // entry)
        if count:
            # Entries are in time order, so the last one is the latest key-frame fragment.
            last = payload + 16 + (count - 1) * entry
            moof = (
                _U64.unpack_from(data, last + 8)[0] if version == 1 else _U32.unpack_from(data, last + 4)[0]
            )
            found[track_id] = moof
    return found
