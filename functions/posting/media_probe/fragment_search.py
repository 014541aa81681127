"""Finding the fragments of a fragmented MP4/MOV without reading its media: walking top-level box
headers forward (from the moov, or from a moof the mfra points at) and scanning the tail of the file
for the last moofs. Every box met is checked against the end of the file, so a file cut short is
reported as truncated instead of measured short."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from functions.posting.media_probe.bmff import _box_header, _first_box
from functions.posting.media_probe.fragment_index import _last_moof_offsets, _mfra_size, _parse_sidx, _Sidx
from functions.posting.media_probe.fragmented import _Context, _Fragment, _parse_moof
from functions.posting.media_probe.limits import (
    _FULL_WALK_READS,
    _MAX_META_BYTES,
    _MAX_TAIL_CANDIDATES,
    _MAX_TOP_LEVEL,
    _TAIL_WINDOWS,
)
from functions.posting.media_probe.truncation import _index_past_end, _truncated

if TYPE_CHECKING:
    from functions.posting.media_probe.reader import _Reader


@dataclass
class _Walk:
    stop: int
    """Where the walk stopped: the start of the first box it did not look at."""
    fragments: list[_Fragment] = field(default_factory=list)
    indexes: list[_Sidx] = field(default_factory=list)
    complete: bool = False
    """It reached the end of the file."""


def _check_fragment(fragment: _Fragment, size: int) -> _Fragment:
    if fragment.data_end > size:
        raise _index_past_end(fragment.data_end, size)
    return fragment


def _check_sidx(sidx: _Sidx | None, size: int) -> _Sidx | None:
    if sidx is not None and sidx.end > size:
        raise _index_past_end(sidx.end, size)
    return sidx


def _box_past_end(box_type: bytes, offset: int, end: int, size: int) -> Exception:
    return _truncated(f"its '{box_type.decode('latin-1')}' box at byte {offset} runs", end, size)


def _walk(reader: _Reader, offset: int, context: _Context, *, reads: int, until_video: bool) -> _Walk:
    """Walk top-level boxes from `offset`, parsing moofs and sidx boxes, within `reads` new reads."""
    walk = _Walk(offset)
    budget = reader.calls + reads
    for _ in range(_MAX_TOP_LEVEL):
        if walk.stop + 8 > reader.size:
            walk.complete = True  # at most 7 trailing bytes: padding some writers leave
            return walk
        if reader.calls >= budget:
            return walk
        box = _box_header(reader.read(walk.stop, 16))
        if box is None:
            return walk  # not a box: whatever follows cannot be located
        box_type, header, size = box
        size = size or reader.size - walk.stop
        if walk.stop + size > reader.size:
            raise _box_past_end(box_type, walk.stop, walk.stop + size, reader.size)
        fragment = None
        if box_type in (b"moof", b"sidx"):
            data = reader.read(walk.stop, min(size, _MAX_META_BYTES))
            if box_type == b"moof":
                fragment = _check_fragment(
                    _parse_moof(data, header, len(data), walk.stop, context), reader.size
                )
                walk.fragments.append(fragment)
            else:
                sidx = _check_sidx(_parse_sidx(data, header, len(data), walk.stop + size), reader.size)
                walk.indexes += [sidx] if sidx else []
        walk.stop += size
        if until_video and fragment is not None and fragment.samples:
            return walk
    return walk


@dataclass
class _Tail:
    context: _Context
    size: int
    fragments: list[_Fragment] = field(default_factory=list)
    """The last fragments, in file order, each one chained box by box to the end of the file."""
    starts: set[int] = field(default_factory=set)
    """File offsets of the boxes so chained."""
    mfra_size: int | None = None
    data: bytes = b""
    start: int = 0
    """The window read last: data holds the file from `start` to its end."""
    steps: int = 4 * _MAX_TOP_LEVEL
    """Box headers the chains may still read: bogus candidates must not make the scan quadratic."""


def _scan_tail(reader: _Reader, context: _Context, floor: int) -> _Tail:
    """The moofs in the last megabytes of the file (after `floor`, where a box is known to start),
    proven real by chaining box headers from each one to the end of the file."""
    tail = _Tail(context, reader.size)
    for start, data in reader.tail_windows(_TAIL_WINDOWS, floor):
        scanned = tail.start - start + 4 if tail.data else len(data)
        tail.data, tail.start = data, start
        if tail.mfra_size is None:
            tail.mfra_size = _mfra_size(data[-16:])
        found = data.rfind(b"moof", 0, scanned)
        for _ in range(_MAX_TAIL_CANDIDATES):
            if found < 4:
                break
            _chain(tail, found - 4, known=False)
            found = data.rfind(b"moof", 0, found)
        if start == floor:
            _chain(tail, 0, known=True)
        if any(fragment.samples for fragment in tail.fragments):
            break
    return tail


def _chain(tail: _Tail, box: int, *, known: bool) -> None:
    """Add the box at tail.data[box:] (a moof candidate, or a box `known` to start there) and the moofs
    after it if their box headers chain to a box already proven, or (while none is) to the end of
    the file."""
    data, start, context = tail.data, tail.start, tail.context
    header = _box_header(data, box)
    if start + box in tail.starts or header is None:
        return
    end = box + (header[2] or len(data) - box)
    if not known and (
        end > len(data) or not _parse_moof(data, box + header[1], end, start + box, context).trafs
    ):
        return  # the letters "moof" inside media data, or a moof cut short: judged from the box before
    chain: list[tuple[bytes, int, int, int]] = []
    pos = box
    while start + pos not in tail.starts and len(data) - pos >= 8 and tail.steps > 0:
        tail.steps -= 1
        header = _box_header(data, pos)
        if header is None:
            return  # not a chain of boxes: cannot tell where the fragments end
        box_type, header_len, box_size = header
        box_size = box_size or len(data) - pos
        if pos + box_size > len(data):
            if not tail.starts:  # the chain of a real box runs past the end: the file was cut
                raise _box_past_end(box_type, start + pos, start + pos + box_size, tail.size)
            return
        chain.append((box_type, pos, header_len, box_size))
        pos += box_size
    if start + pos not in tail.starts and (tail.starts or len(data) - pos >= 8):
        return  # it did not reach what is already proven, or ran out of steps
    fragments: list[_Fragment] = []
    for box_type, pos, header_len, box_size in chain:
        if box_type == b"moof":
            fragment = _parse_moof(data, pos + header_len, pos + box_size, start + pos, context)
            if not fragment.trafs:
                return
            fragments.append(_check_fragment(fragment, tail.size))
        elif box_type == b"sidx":
            _check_sidx(
                _parse_sidx(data, pos + header_len, pos + box_size, start + pos + box_size), tail.size
            )
    tail.starts.update(start + pos for _, pos, _, _ in chain)
    tail.fragments = sorted([*fragments, *tail.fragments], key=lambda fragment: fragment.offset)


def _mfra_fragments(reader: _Reader, tail: _Tail, floor: int) -> _Walk | None:
    """The fragments from the last key-frame fragment the mfra lists to the end of the file."""
    if tail.mfra_size is None or reader.size - tail.mfra_size < max(floor, tail.start):
        return None  # no mfra, or one beyond the windows read: not worth another read
    at = reader.size - tail.mfra_size - tail.start
    mfra = _first_box(tail.data, at, len(tail.data), b"mfra")
    moofs = _last_moof_offsets(tail.data, *mfra) if mfra else {}
    moof = moofs.get(tail.context.track_id, max(moofs.values(), default=None))
    if moof is None or moof < floor:
        return None
    if moof >= reader.size:
        raise _index_past_end(moof, reader.size)
    header = _box_header(reader.read(moof, 16))
    if header is None or header[0] != b"moof":
        return None  # an index that does not match the file: walk instead
    return _walk(reader, moof, tail.context, reads=_FULL_WALK_READS, until_video=False)
