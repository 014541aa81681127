"""Images: the few bytes holding the dimensions of a JPEG, PNG, GIF, WebP, BMP, HEIC or AVIF file."""

from __future__ import annotations

import struct
from collections.abc import Callable
from typing import TYPE_CHECKING

from functions.posting.media_probe.bmff import _U16, _U32, _iter_boxes, _walk_top_level
from functions.posting.media_probe.limits import _MAX_JPEG_SEGMENTS, _MAX_META_BYTES
from functions.posting.media_probe.results import MediaProbeError

if TYPE_CHECKING:
    from functions.posting.media_probe.reader import _Reader


def _jpeg_size(reader: _Reader) -> tuple[int, int]:
    pos = 2
    for _ in range(_MAX_JPEG_SEGMENTS):
        marker = reader.read(pos, 2)
        if len(marker) < 2:
            raise MediaProbeError("truncated JPEG: the file ends before its frame header (SOF)")
        if marker[0] != 0xFF:
            raise MediaProbeError(
                f"corrupt JPEG: expected a marker at offset {pos}, found byte 0x{marker[0]:02X}"
            )
        code = marker[1]
        if code == 0xFF:  # fill byte
            pos += 1
            continue
        if code == 0x01 or 0xD0 <= code <= 0xD8:  # markers without a length
            pos += 2
            continue
        if code in (0xD9, 0xDA):
            raise MediaProbeError("corrupt JPEG: the image data starts before any frame header (SOF)")
        length = _U16.unpack(reader.exact(pos + 2, 2, "a JPEG segment length"))[0]
        if length < 2:
            raise MediaProbeError(f"corrupt JPEG: segment at offset {pos} declares a length of {length}")
        if 0xC0 <= code <= 0xCF and code not in (0xC4, 0xC8, 0xCC):
            frame = reader.exact(pos + 4, 5, "the JPEG frame header")
            height, width = struct.unpack_from(">HH", frame, 1)
            if height == 0:
                raise MediaProbeError("JPEG whose height is defined later by a DNL marker: not supported")
            return width, height
        pos += 2 + length
    raise MediaProbeError(f"corrupt JPEG: more than {_MAX_JPEG_SEGMENTS} segments before its frame header")


def _png_size(head: bytes) -> tuple[int, int]:
    if len(head) < 24 or head[12:16] != b"IHDR":
        raise MediaProbeError("corrupt PNG: the IHDR header chunk does not follow the signature")
    width, height = struct.unpack_from(">II", head, 16)
    return width, height


def _gif_size(head: bytes) -> tuple[int, int]:
    if len(head) < 10:
        raise MediaProbeError("truncated GIF: the file ends inside its logical screen descriptor")
    width, height = struct.unpack_from("<HH", head, 6)
    return width, height


def _webp_size(head: bytes) -> tuple[int, int]:
    chunk = head[12:16]
    if chunk == b"VP8 " and len(head) >= 30:
        if head[23:26] != b"\x9d\x01\x2a":
            raise MediaProbeError("corrupt WebP: the VP8 frame has no start code")
        width, height = struct.unpack_from("<HH", head, 26)
        return width & 0x3FFF, height & 0x3FFF
    if chunk == b"VP8L" and len(head) >= 25:
        if head[20] != 0x2F:
            raise MediaProbeError("corrupt WebP: the lossless (VP8L) bitstream has no signature")
        bits = struct.unpack_from("<I", head, 21)[0]
        return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
    if chunk == b"VP8X" and len(head) >= 30:
        width = int.from_bytes(head[24:27], "little") + 1
        height = int.from_bytes(head[27:30], "little") + 1
        return width, height
    if chunk in (b"VP8 ", b"VP8L", b"VP8X"):
        raise MediaProbeError("truncated WebP: the file ends inside its first chunk")
    raise MediaProbeError(f"corrupt WebP: unexpected first chunk {chunk!r} (expected VP8, VP8L or VP8X)")


def _bmp_size(head: bytes) -> tuple[int, int]:
    if struct.unpack_from("<I", head, 14)[0] == 12 and len(head) >= 22:
        width, height = struct.unpack_from("<HH", head, 18)
        return width, height
    if len(head) < 26:
        raise MediaProbeError("truncated BMP: the file ends inside its header")
    width, height = struct.unpack_from("<ii", head, 18)
    return width, abs(height)


_HEADER_SIZES: dict[str, Callable[[bytes], tuple[int, int]]] = {
    "png": _png_size,
    "gif": _gif_size,
    "webp": _webp_size,
    "bmp": _bmp_size,
}


def _heif_size(reader: _Reader, kind: str) -> tuple[int, int]:
    """Dimensions of the primary item of a HEIF (HEIC or AVIF) image, from its ispe property."""
    name = kind.upper()
    for box_type, offset, header, size in _walk_top_level(reader):
        if box_type != b"meta":
            continue
        if size > _MAX_META_BYTES:
            raise MediaProbeError(f"{name} metadata box is {size} bytes, too large to read")
        data = reader.exact(offset, size, f"the {name} metadata box")
        found = _heif_primary_size(data, header + 4, size)
        if found is None:
            raise MediaProbeError(f"{name} image without a readable size (ispe) property")
        return found
    raise MediaProbeError(f"{name} image without a metadata (meta) box")


def _heif_primary_size(data: bytes, start: int, end: int) -> tuple[int, int] | None:
    primary: int | None = None
    properties: list[tuple[int, int] | None] = []
    associations: dict[int, list[int]] = {}
    for box_type, payload, stop in _iter_boxes(data, start, end):
        if box_type == b"pitm" and stop - payload >= 6:
            primary = _U16.unpack_from(data, payload + 4)[0]
            if data[payload] != 0 and stop - payload >= 8:
                primary = _U32.unpack_from(data, payload + 4)[0]
        elif box_type == b"iprp":
            for child, child_start, child_stop in _iter_boxes(data, payload, stop):
                if child == b"ipco":
                    properties = [_ispe(data, *box) for box in _iter_boxes(data, child_start, child_stop)]
                elif child == b"ipma":
                    associations.update(_parse_ipma(data, child_start, child_stop))
    sizes = [size for size in properties if size is not None]
    if not sizes:
        return None
    for index in associations.get(primary, []) if primary is not None else []:
        if 0 < index <= len(properties) and properties[index - 1] is not None:
            return properties[index - 1]
    return max(sizes, key=lambda wh: wh[0] * wh[1])


def _ispe(data: bytes, box_type: bytes, start: int, end: int) -> tuple[int, int] | None:
    if box_type != b"ispe" or end - start < 12:
        return None
    width, height = struct.unpack_from(">II", data, start + 4)
    return width, height


def _parse_ipma(data: bytes, start: int, end: int) -> dict[int, list[int]]:
    if end - start < 8:
        return {}
    version, flags = data[start], _U32.unpack_from(data, start)[0] & 0xFFFFFF
    count = _U32.unpack_from(data, start + 4)[0]
    id_size, index_size = (2 if version < 1 else 4), (2 if flags & 1 else 1)
    pos = start + 8
    result: dict[int, list[int]] = {}
    for _ in range(count):
        if pos + id_size + 1 > end:
            break
        item = int.from_bytes(data[pos : pos + id_size], "big")
        n = data[pos + id_size]
        pos += id_size + 1
        if pos + n * index_size > end:
            break
        mask = 0x7FFF if index_size == 2 else 0x7F
        result[item] = [
            int.from_bytes(data[pos + i * index_size : pos + (i + 1) * index_size], "big") & mask
            for i in range(n)
        ]
        pos += n * index_size
    return result
