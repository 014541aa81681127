"""EBML, the encoding of WebM and Matroska: element IDs, variable-size integers, element headers and
values."""

from __future__ import annotations

import math
import struct
from collections.abc import Iterator

_EBML = 0x1A45DFA3
_DOCTYPE = 0x4282
_SEGMENT = 0x18538067
_SEEKHEAD = 0x114D9B74
_SEEK = 0x4DBB
_SEEK_ID = 0x53AB
_SEEK_POSITION = 0x53AC
_INFO = 0x1549A966
_TIMECODE_SCALE = 0x2AD7B1
_DURATION = 0x4489
_TRACKS = 0x1654AE6B
_TRACK_ENTRY = 0xAE
_TRACK_NUMBER = 0xD7
_TRACK_TYPE = 0x83
_CODEC_ID = 0x86
_DEFAULT_DURATION = 0x23E383
_VIDEO = 0xE0
_PIXEL_WIDTH = 0xB0
_PIXEL_HEIGHT = 0xBA
_PROJECTION = 0x7670
_POSE_ROLL = 0x7675
_CLUSTER = 0x1F43B675
_CLUSTER_TIMECODE = 0xE7
_SIMPLE_BLOCK = 0xA3
_BLOCK_GROUP = 0xA0
_BLOCK = 0xA1
_CLUSTER_CHILDREN = frozenset({0xE7, 0x5854, 0xA7, 0xAB, 0xA3, 0xA0, 0xAF, 0xEC, 0xBF})
_CLUSTER_ID_BYTES = b"\x1f\x43\xb6\x75"


def _vint(data: bytes, pos: int, end: int) -> tuple[int, int, int] | None:
    """(raw value with its length marker, value without it, length) of an EBML variable-size integer."""
    if pos >= end or data[pos] == 0:
        return None
    length = 9 - data[pos].bit_length()
    if pos + length > end:
        return None
    raw = int.from_bytes(data[pos : pos + length], "big")
    return raw, raw & ((1 << (7 * length)) - 1), length


def _element_header(data: bytes, pos: int, end: int) -> tuple[int, int, int | None] | None:
    """(id, header length, payload size or None when unknown) of the element at pos."""
    element = _vint(data, pos, end)
    if element is None or element[2] > 4:
        return None
    size = _vint(data, pos + element[2], end)
    if size is None:
        return None
    _, value, length = size
    unknown = value == (1 << (7 * length)) - 1
    return element[0], element[2] + length, None if unknown else value


def _ebml_children(data: bytes, start: int, end: int) -> Iterator[tuple[int, int, int]]:
    """(id, payload start, payload end) of each element in data[start:end]; stops at a malformed one."""
    pos = start
    while pos < end:
        header = _element_header(data, pos, end)
        if header is None:
            return
        element_id, header_len, size = header
        payload = pos + header_len
        stop = end if size is None else payload + size
        if stop > end:
            return
        yield element_id, payload, stop
        pos = stop


def _ebml_uint(data: bytes, start: int, stop: int) -> int | None:
    return int.from_bytes(data[start:stop], "big") if 0 < stop - start <= 8 else None


def _ebml_float(data: bytes, start: int, stop: int) -> float | None:
    if stop - start == 4:
        value: float = struct.unpack_from(">f", data, start)[0]
    elif stop - start == 8:
        value = struct.unpack_from(">d", data, start)[0]
    else:
        return None
    return value if math.isfinite(value) else None
