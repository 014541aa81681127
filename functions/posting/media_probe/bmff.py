"""ISO BMFF boxes (MP4, QuickTime, HEIF): box header layouts, and walking boxes in memory or, at the
top level, through the reader."""

from __future__ import annotations

import struct
from collections.abc import Iterator
from typing import TYPE_CHECKING

from functions.posting.media_probe.limits import _MAX_TOP_LEVEL
from functions.posting.media_probe.results import MediaProbeError

if TYPE_CHECKING:
    from functions.posting.media_probe.reader import _Reader

_BOX = struct.Struct(">I4s")
_U16 = struct.Struct(">H")
_U32 = struct.Struct(">I")
_U64 = struct.Struct(">Q")


def _fourcc(raw: bytes) -> str:
    return raw.decode("latin-1")


def _iter_boxes(data: bytes, start: int, end: int) -> Iterator[tuple[bytes, int, int]]:
    """(type, payload start, payload end) of each box in data[start:end]; stops at a malformed box."""
    pos = start
    while pos + 8 <= end:
        size, box_type = _BOX.unpack_from(data, pos)
        header = 8
        if size == 1:
            if pos + 16 > end:
                return
            size = _U64.unpack_from(data, pos + 8)[0]
            header = 16
        elif size == 0:
            size = end - pos
        if size < header or pos + size > end:
            return
        yield box_type, pos + header, pos + size
        pos += size


def _first_box(data: bytes, start: int, end: int, wanted: bytes) -> tuple[int, int] | None:
    for box_type, payload, stop in _iter_boxes(data, start, end):
        if box_type == wanted:
            return payload, stop
    return None


def _box_header(data: bytes, pos: int = 0) -> tuple[bytes, int, int] | None:
    """(type, header length, size; 0 = to the end of the file) of the box at data[pos:], or None when
    the bytes there cannot be a box header."""
    if len(data) - pos < 8:
        return None
    size, box_type = _BOX.unpack_from(data, pos)
    header = 8
    if size == 1:
        if len(data) - pos < 16:
            return None
        size = _U64.unpack_from(data, pos + 8)[0]
        header = 16
    if not _printable(box_type) or 0 < size < header:
        return None
    return box_type, header, size


def _printable(box_type: bytes) -> bool:
    return all(0x20 <= byte < 0x7F for byte in box_type)


def _walk_top_level(reader: _Reader, offset: int = 0) -> Iterator[tuple[bytes, int, int, int]]:
    """(type, offset, header length, total size) of each top-level box, reading only box headers."""
    for _ in range(_MAX_TOP_LEVEL):
        if offset + 8 > reader.size:
            return  # at most 7 trailing bytes: padding some writers leave
        head = reader.exact(offset, min(16, reader.size - offset), "a box header")
        size, box_type = _BOX.unpack_from(head)
        header = 8
        if size == 1:
            if len(head) < 16:
                raise MediaProbeError(f"the file is truncated inside the header of box {box_type!r}")
            size = _U64.unpack_from(head, 8)[0]
            header = 16
        elif size == 0:
            size = reader.size - offset
        if not _printable(box_type):
            raise MediaProbeError(
                f"corrupt MP4/MOV structure: expected a box at offset {offset}, found bytes {head[:8].hex(' ')}"
            )
        if size < header:
            raise MediaProbeError(
                f"corrupt MP4/MOV structure: box '{_fourcc(box_type)}' at offset {offset} declares "
                f"an impossible size of {size} bytes"
            )
        yield box_type, offset, header, size
        offset += size
    raise MediaProbeError(f"corrupt MP4/MOV structure: more than {_MAX_TOP_LEVEL} top-level boxes")
