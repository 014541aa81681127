"""Reshaping real media for the media_probe tests: where every box or EBML element header sits (to
mutate it), a WebM rewritten the way a browser's MediaRecorder writes it, and files whose last
fragment or cluster is grown to tens of megabytes of sparse zeros.

Nothing here is shipped.
"""

from __future__ import annotations

import struct

from tests.unit.posting.media_factory import VirtualFile, blank_element, layout

# Boxes whose payload is only boxes, in the files PyAV writes.
BOX_PARENTS = frozenset(
    {b"moov", b"trak", b"mdia", b"minf", b"stbl", b"mvex", b"edts", b"dinf", b"moof", b"traf", b"mfra"}
)
# EBML master elements worth descending into: Segment, SeekHead, Seek, Info, Tracks, TrackEntry,
# Video, Cluster, BlockGroup, Cues, CuePoint.
EBML_PARENTS = frozenset(
    {
        0x18538067,
        0x114D9B74,
        0x4DBB,
        0x1549A966,
        0x1654AE6B,
        0xAE,
        0xE0,
        0x1F43B675,
        0xA0,
        0x1C53BB6B,
        0xBB,
    }
)
UNKNOWN_SIZE = b"\x01\xff\xff\xff\xff\xff\xff\xff"
CLUSTER = 0x1F43B675
SIMPLE_BLOCK = 0xA3
DEFAULT_DURATION = b"\x23\xe3\x83"


def box_headers(data: bytes, start: int = 0, end: int | None = None) -> list[tuple[bytes, int, int]]:
    """(type, offset, size) of every box, parents before their children."""
    end = len(data) if end is None else end
    found: list[tuple[bytes, int, int]] = []
    pos = start
    while pos + 8 <= end:
        size, box_type = struct.unpack_from(">I4s", data, pos)
        header = 8
        if size == 1:
            size, header = struct.unpack_from(">Q", data, pos + 8)[0], 16
        elif size == 0:
            size = end - pos
        if size < header or pos + size > end:
            break
        found.append((box_type, pos, size))
        if box_type in BOX_PARENTS:
            found += box_headers(data, pos + header, pos + size)
        pos += size
    return found


def vint(data: bytes, pos: int) -> tuple[int, int]:
    """(value without its length marker, length) of the EBML variable-size integer at pos."""
    length = 9 - data[pos].bit_length()
    value = int.from_bytes(data[pos : pos + length], "big") & ((1 << (7 * length)) - 1)
    return value, length


def element_headers(
    data: bytes, start: int = 0, end: int | None = None
) -> list[tuple[int, int, int, int | None]]:
    """(id, offset, header length, payload size or None when unknown) of every EBML element."""
    end = len(data) if end is None else end
    found: list[tuple[int, int, int, int | None]] = []
    pos = start
    while pos < end and data[pos]:
        id_length = 9 - data[pos].bit_length()
        element_id = int.from_bytes(data[pos : pos + id_length], "big")
        size, size_length = vint(data, pos + id_length)
        header = id_length + size_length
        known: int | None = None if size == (1 << (7 * size_length)) - 1 else size
        found.append((element_id, pos, header, known))
        stop = end if known is None else pos + header + known
        if element_id in EBML_PARENTS:
            children = element_headers(data, pos + header, stop)
            if known is None and element_id == CLUSTER:
                # An unknown-size cluster ends where the next one starts.
                nested = next((i for i, child in enumerate(children) if child[0] == CLUSTER), None)
                if nested is not None:
                    stop, children = children[nested][1], children[:nested]
            found += children
        pos = stop
    return found


def media_recorder_webm(live: bytes) -> bytes:
    """A live WebM (unknown Segment size, no Cues) rewritten like a browser's MediaRecorder output:
    clusters of unknown size and no DefaultDuration, so only block times tell the frame rate."""
    data = blank_element(live, DEFAULT_DURATION)
    out = bytearray()
    pos = 0
    for element_id, offset, header, size in element_headers(data):
        if element_id == CLUSTER and size is not None:
            out += data[pos:offset] + b"\x1f\x43\xb6\x75" + UNKNOWN_SIZE
            pos = offset + header
    result = bytes(out + data[pos:])
    elements = element_headers(result)
    if any(element_id == 0x23E383 for element_id, *_ in elements) or any(
        element_id == CLUSTER and size is not None for element_id, _, _, size in elements
    ):
        raise ValueError("the WebM still has a DefaultDuration or a cluster of known size")
    return result


def grow_mdats(data: bytes, *, last: int, each: int = 0) -> VirtualFile:
    """The fragmented MP4 (a sparse file) with `last` zero bytes appended to its last mdat and `each`
    to every other one; a sidx indexing the last mdat is told so (with each=0 only)."""
    top = box_headers(data)
    top_level = [box for box in top if _is_top_level(box, top)]
    mdats = [box for box in top_level if box[0] == b"mdat"]
    pieces: list[bytes | int] = []
    pos = 0
    for box_type, at, size in mdats:
        extra = last if at == mdats[-1][1] else each
        if data[at : at + 4] == b"\x00\x00\x00\x01":
            raise ValueError("64-bit mdat: not needed by these tests")
        head = bytearray(data[pos:at])
        for sidx_type, offset, sidx_size in top_level:
            if (
                sidx_type == b"sidx"
                and pos <= offset < at
                and _sidx_end(data, offset, sidx_size) == at + size
            ):
                if each:
                    raise ValueError("sidx boxes indexing grown fragments: not needed by these tests")
                _grow_last_reference(head, offset - pos, extra)
        pieces += [bytes(head), struct.pack(">I4s", size + extra, box_type) + data[at + 8 : at + size], extra]
        pos = at + size
    return layout(*pieces, data[pos:])


def _is_top_level(box: tuple[bytes, int, int], boxes: list[tuple[bytes, int, int]]) -> bool:
    return not any(
        parent < box[1] < parent + size for box_type, parent, size in boxes if box_type in BOX_PARENTS
    )


def _sidx_fields(data: bytes | bytearray, offset: int) -> tuple[int, int, int]:
    """(first_offset, reference count, where the references start) of the sidx at offset."""
    version = data[offset + 8]
    if version == 0:
        first_offset = struct.unpack_from(">I", data, offset + 24)[0]
        at = offset + 28
    else:
        first_offset = struct.unpack_from(">Q", data, offset + 28)[0]
        at = offset + 36
    count = struct.unpack_from(">H", data, at + 2)[0]
    return first_offset, count, at + 4


def _sidx_end(data: bytes, offset: int, size: int) -> int:
    first_offset, count, references = _sidx_fields(data, offset)
    sizes = [struct.unpack_from(">I", data, references + 12 * i)[0] & 0x7FFFFFFF for i in range(count)]
    return offset + size + first_offset + sum(sizes)


def _grow_last_reference(data: bytearray, offset: int, extra: int) -> None:
    _, count, references = _sidx_fields(data, offset)
    last = references + 12 * (count - 1)
    struct.pack_into(">I", data, last, struct.unpack_from(">I", data, last)[0] + extra)


def grow_last_cluster(data: bytes, extra: int) -> VirtualFile:
    """The live WebM with a Void of `extra` zero bytes inside its last cluster, before its last block
    (a sparse file): the last cluster starts tens of megabytes before the end."""
    elements = element_headers(data)
    _, cluster_at, cluster_header, cluster_size = [e for e in elements if e[0] == CLUSTER][-1]
    last_block = [e for e in elements if e[0] == SIMPLE_BLOCK and e[1] > cluster_at][-1][1]
    void = b"\xec" + (0x01 << 56 | extra).to_bytes(8, "big")
    if cluster_size is None:
        cluster = data[cluster_at : cluster_at + cluster_header]
    else:
        cluster = b"\x1f\x43\xb6\x75" + (0x01 << 56 | cluster_size + len(void) + extra).to_bytes(8, "big")
    segment_at = data.index(b"\x18\x53\x80\x67")
    if data[segment_at + 4 : segment_at + 12] != UNKNOWN_SIZE:
        raise ValueError("a Segment of known size: not needed by these tests")
    body = data[cluster_at + cluster_header : last_block]
    return layout(data[:cluster_at], cluster + body + void, extra, data[last_block:])
