"""Reading: ranged reads with a cache, a read-ahead and a budget of calls, and the guard that turns
any parser failure into MediaProbeError while letting read_range's own errors through unchanged."""

from __future__ import annotations

import struct
import zlib
from collections.abc import Callable, Iterator
from typing import TypeVar

from functions.posting.media_probe.limits import _CHUNK, MAX_BYTES, MAX_READS
from functions.posting.media_probe.results import MediaProbeError

ReadRange = Callable[[int, int], bytes]
"""read_range(start, end_inclusive) -> bytes; may return fewer bytes only at the end of the file."""


_T = TypeVar("_T")


class _SourceFailed(Exception):
    """read_range itself raised: carried through the parser and re-raised unchanged."""

    def __init__(self, original: BaseException) -> None:
        super().__init__(str(original))
        self.original = original


class _Reader:
    """Ranged reads with a one-window cache, a read-ahead and a budget of calls and bytes."""

    def __init__(self, read_range: ReadRange, size: int) -> None:
        if isinstance(size, bool) or not isinstance(size, int) or size < 0:
            raise MediaProbeError(f"invalid file size {size!r}")
        if size == 0:
            raise MediaProbeError("the file is empty")
        self._read_range = read_range
        self.size = size
        self.calls = 0
        self.bytes_read = 0
        self._start = 0
        self._data = b""

    def read(self, offset: int, length: int) -> bytes:
        """Bytes [offset, offset + length), cut at the end of the file."""
        end = min(offset + length, self.size)
        if offset < 0 or offset >= end:
            return b""
        cached_end = self._start + len(self._data)
        if self._start <= offset and end <= cached_end:
            return self._data[offset - self._start : end - self._start]
        fetch_end = min(self.size, max(end, offset + _CHUNK))
        if self._start <= offset < cached_end:
            data = self._data[offset - self._start :] + self._fetch(cached_end, fetch_end)
        else:
            data = self._fetch(offset, fetch_end)
        self._start, self._data = offset, data
        return data[: end - offset]

    def exact(self, offset: int, length: int, what: str) -> bytes:
        data = self.read(offset, length)
        if len(data) < length:
            raise MediaProbeError(
                f"the file is truncated: it ends at byte {self.size}, inside {what} at offset {offset}"
            )
        return data

    def _fetch(self, start: int, end: int) -> bytes:
        if self.calls >= MAX_READS:
            raise MediaProbeError(
                f"gave up after {MAX_READS} reads: the file's structure is too fragmented to probe"
            )
        if self.bytes_read + (end - start) > MAX_BYTES:
            raise MediaProbeError(
                f"gave up after reading {self.bytes_read} bytes: the file's structure is too large to probe"
            )
        self.calls += 1
        try:
            data = self._read_range(start, end - 1)
        except Exception as exc:
            raise _SourceFailed(exc) from exc
        if not isinstance(data, bytes | bytearray | memoryview):
            raise MediaProbeError(f"read_range returned {type(data).__name__}, not bytes")
        data = bytes(data[: end - start])
        self.bytes_read += len(data)
        if len(data) < end - start:
            raise MediaProbeError(
                f"the file is shorter than its declared size of {self.size} bytes: reading bytes "
                f"{start}-{end - 1} returned only {len(data)}"
            )
        return data

    def tail_windows(self, windows: tuple[int, ...], floor: int) -> Iterator[tuple[int, bytes]]:
        """(start, bytes from start to the end of the file) of growing windows at the end of the file,
        never before `floor`; each window reads only the bytes the previous one did not hold."""
        start, data = self.size, b""
        for window in windows:
            new_start = max(floor, self.size - window)
            if new_start >= start:
                return
            data = self.exact(new_start, start - new_start, "the end of the file") + data
            start = new_start
            yield start, data


_Probe = Callable[[_Reader], _T]


def _guarded(kind: str, probe: _Probe[_T], read_range: ReadRange, size: int) -> _T:
    try:
        return probe(_Reader(read_range, size))
    except MediaProbeError:
        raise
    except _SourceFailed as failed:
        raise failed.original from None
    except (
        ArithmeticError,
        LookupError,
        TypeError,
        ValueError,
        struct.error,
        zlib.error,
        RecursionError,
    ) as exc:
        # A safety net: the parsers check what they read, so this means a structure they did not expect.
        raise MediaProbeError(
            f"could not read the {kind}: unexpected structure ({type(exc).__name__}: {exc})"
        ) from exc
