"""Fragmented MP4/MOV: what one movie fragment (moof) holds for the video track (its samples, their
durations, its decode time) and the last byte its sample runs (trun) point at."""

from __future__ import annotations

import struct
import sys
from array import array
from dataclasses import dataclass, field

from functions.posting.media_probe.bmff import _U32, _U64, _first_box, _iter_boxes

_WORDS = next(code for code in "IL" if array(code).itemsize == 4)


@dataclass(frozen=True)
class _Defaults:
    """A track's trex defaults."""

    duration: int | None = None
    size: int | None = None


@dataclass(frozen=True)
class _Context:
    """What parsing fragments needs from the movie header."""

    track_id: int
    track_ids: frozenset[int]
    defaults: dict[int, _Defaults] = field(default_factory=dict)


@dataclass
class _Fragment:
    offset: int
    """Where the moof starts in the file."""
    base_time: int | None = None
    """The video samples' decode time (tfdt), in the track's timescale."""
    samples: int = 0
    ticks: int = 0
    first_duration: int = 0
    data_end: int = 0
    """The byte after the last sample any of its runs points at (0 when unknown)."""
    trafs: int = 0
    """Track fragments of the movie's tracks: 0 means these bytes are not a real moof."""


@dataclass(frozen=True)
class _Tfhd:
    track_id: int
    base: int | None
    moof_based: bool
    duration: int | None
    size: int | None


@dataclass(frozen=True)
class _Run:
    samples: int
    ticks: int
    first_duration: int
    data_offset: int | None
    length: int | None


def _parse_tfhd(data: bytes, start: int, end: int) -> _Tfhd | None:
    if end - start < 8:
        return None
    flags = _U32.unpack_from(data, start)[0] & 0xFFFFFF
    track_id = _U32.unpack_from(data, start + 4)[0]
    pos = start + 8
    needed = pos + 8 * (flags & 0x1) + 4 * (bool(flags & 0x2) + bool(flags & 0x8) + bool(flags & 0x10))
    if needed > end:
        return None
    base = duration = size = None
    if flags & 0x1:
        base = _U64.unpack_from(data, pos)[0]
        pos += 8
    pos += 4 if flags & 0x2 else 0
    if flags & 0x8:
        duration = _U32.unpack_from(data, pos)[0]
        pos += 4
    if flags & 0x10:
        size = _U32.unpack_from(data, pos)[0]
    return _Tfhd(track_id, base, bool(flags & 0x20000), duration, size)


def _parse_trun(data: bytes, start: int, end: int, duration: int | None, size: int | None) -> _Run:
    if end - start < 8:
        return _Run(0, 0, 0, None, None)
    flags = _U32.unpack_from(data, start)[0] & 0xFFFFFF
    count = _U32.unpack_from(data, start + 4)[0]
    pos = start + 8
    data_offset = None
    if flags & 0x1 and pos + 4 <= end:
        data_offset = struct.unpack_from(">i", data, pos)[0]
    pos += 4 * (bool(flags & 0x1) + bool(flags & 0x4))
    fields = bin(flags & 0xF00).count("1")
    if not fields:
        length = None if size is None else count * size
        return _Run(count, count * (duration or 0), duration or 0, data_offset, length)
    count = min(count, max(0, end - pos) // (4 * fields))
    words = array(_WORDS, data[pos : pos + 4 * fields * count])
    if sys.byteorder == "little":
        words.byteswap()
    durations = words[0::fields] if flags & 0x100 else None
    sizes = words[int(bool(flags & 0x100)) :: fields] if flags & 0x200 else None
    if durations is not None:
        ticks, first = sum(durations), durations[0] if durations else 0
    else:
        ticks, first = count * (duration or 0), duration or 0
    total = sum(sizes) if sizes is not None else None if size is None else count * size
    return _Run(count, ticks, first, data_offset, total)


def _parse_moof(data: bytes, start: int, end: int, offset: int, context: _Context) -> _Fragment:
    """The fragment whose moof payload is data[start:end] and whose box starts at `offset` in the file."""
    fragment = _Fragment(offset)
    cursor: int | None = offset  # where the data of a traf without an explicit base starts
    for box_type, payload, stop in _iter_boxes(data, start, end):
        if box_type != b"traf":
            continue
        tfhd_box = _first_box(data, payload, stop, b"tfhd")
        tfhd = _parse_tfhd(data, *tfhd_box) if tfhd_box else None
        if tfhd is None or tfhd.track_id not in context.track_ids:
            continue
        fragment.trafs += 1
        if tfhd.base is not None:
            cursor = tfhd.base
        elif tfhd.moof_based or fragment.trafs == 1:
            cursor = offset
        cursor = _parse_traf(data, payload, stop, tfhd, cursor=cursor, context=context, fragment=fragment)
    return fragment


def _parse_traf(
    data: bytes,
    start: int,
    end: int,
    tfhd: _Tfhd,
    *,
    cursor: int | None,
    context: _Context,
    fragment: _Fragment,
) -> int | None:
    """Add the traf's runs to the fragment; returns where its data ends (the next traf's default base)."""
    defaults = context.defaults.get(tfhd.track_id, _Defaults())
    duration = tfhd.duration if tfhd.duration is not None else defaults.duration
    size = tfhd.size if tfhd.size is not None else defaults.size
    video = tfhd.track_id == context.track_id
    base = cursor
    for box_type, payload, stop in _iter_boxes(data, start, end):
        if box_type == b"tfdt" and video and stop - payload >= 8:
            if data[payload] == 1 and stop - payload >= 12:
                fragment.base_time = _U64.unpack_from(data, payload + 4)[0]
            elif data[payload] != 1:
                fragment.base_time = _U32.unpack_from(data, payload + 4)[0]
        elif box_type == b"trun":
            run = _parse_trun(data, payload, stop, duration, size)
            if run.data_offset is not None:
                cursor = None if base is None else base + run.data_offset
            if cursor is not None and run.length is not None:
                cursor += run.length
                fragment.data_end = max(fragment.data_end, cursor)
            else:
                cursor = None
            if video and run.samples:
                if not fragment.samples:
                    fragment.first_duration = run.first_duration
                fragment.samples += run.samples
                fragment.ticks += run.ticks
    return cursor
