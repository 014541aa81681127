"""One source stream cut into chunk bodies, read ahead by a thread through a bounded queue.

Why (docs/decisions.md, "the upload keeps one reader thread"; bench/README.md): one GET from the resume offset, read in 1-4 MiB blocks by
a reader thread while the socket writes the previous block, reaches the speed of the slower side;
a ranged GET per chunk or a whole chunk in memory is 5-50x slower. Memory stays at most
(queue_depth + 2) * block_size whatever the file or chunk size: `queue_depth` blocks waiting, one
being read, one being written.

`ChunkBody` has `__len__` and `__iter__`, so requests sends `Content-Length` only and writes each block
as it is yielded (a bare generator would make it add `Transfer-Encoding: chunked` as well).

Pure stdlib.
"""

from __future__ import annotations

import contextlib
import queue
import threading
from collections.abc import Iterator, Sequence
from typing import Protocol

_POLL_SECONDS = 0.05


class ReadableStream(Protocol):
    def read(self, size: int, /) -> bytes: ...

    def close(self) -> None: ...


class SourceReadError(Exception):
    """Reading the source failed (or stalled); the upload can reopen it from the acknowledged offset."""


class SourceTooShortError(Exception):
    """The source ended before the bytes the chunk plan needs: the stored file is not what was planned."""


class _End:
    pass


class _Failure:
    def __init__(self, exc: BaseException) -> None:
        self.exc = exc


_END = _End()


class StreamPump:
    """Reads `stream` (already positioned at the first chunk) block by block, never across a chunk end."""

    def __init__(
        self,
        stream: ReadableStream,
        chunk_lengths: Sequence[int],
        *,
        block_size: int,
        queue_depth: int,
        stall_timeout: float = 120.0,
    ) -> None:
        if block_size <= 0 or queue_depth <= 0:
            raise ValueError("block_size and queue_depth must be positive")
        self._stream = stream
        self._lengths = list(chunk_lengths)
        self._block_size = block_size
        self._queue: queue.Queue[bytes | _End | _Failure] = queue.Queue(maxsize=queue_depth)
        self._stop = threading.Event()
        self._stall_timeout = stall_timeout
        self._thread = threading.Thread(target=self._run, name="tiktok-upload-reader", daemon=True)
        self._next_chunk = 0
        self._current: ChunkBody | None = None
        self._broken = False
        self.bytes_read = 0

    def start(self) -> StreamPump:
        self._thread.start()
        return self

    # ----------------------------------------------------------------------------------- reader thread

    def _put(self, item: bytes | _End | _Failure) -> bool:
        while not self._stop.is_set():
            try:
                self._queue.put(item, timeout=_POLL_SECONDS)
                return True
            except queue.Full:
                continue
        return False

    def _run(self) -> None:
        try:
            for length in self._lengths:
                remaining = length
                while remaining:
                    if self._stop.is_set():
                        return
                    block = self._stream.read(min(self._block_size, remaining))
                    if not block:
                        self._put(_END)
                        return
                    self.bytes_read += len(block)
                    remaining -= len(block)
                    if not self._put(block):
                        return
            self._put(_END)
        except BaseException as exc:  # any failure is handed to the consumer, which decides
            if not self._stop.is_set():
                self._put(_Failure(exc))

    # ---------------------------------------------------------------------------------------- consumer

    def chunk_body(self, length: int) -> ChunkBody:
        """The body of the next chunk; bodies must be taken in order and each consumed fully."""
        if self._next_chunk >= len(self._lengths) or self._lengths[self._next_chunk] != length:
            raise ValueError("chunk bodies must follow the chunk lengths given to the pump")
        if self._current is not None and not self._current.complete:
            raise ValueError("the previous chunk body was not sent in full; reopen the source instead")
        self._next_chunk += 1
        self._current = ChunkBody(self, length)
        return self._current

    def _take(self) -> bytes:
        if self._broken:
            raise SourceReadError("the source stream was abandoned mid-chunk")
        try:
            item = self._queue.get(timeout=self._stall_timeout)
        except queue.Empty:
            self._broken = True
            raise SourceReadError(f"no data from the source for {self._stall_timeout} s") from None
        if isinstance(item, _Failure):
            self._broken = True
            raise SourceReadError(f"reading the source failed: {type(item.exc).__name__}") from item.exc
        if isinstance(item, _End):
            self._broken = True
            raise SourceTooShortError("the source ended before the planned size")
        return item

    def close(self) -> None:
        """Stop the reader, free queued blocks and close the stream. Safe to call more than once."""
        self._stop.set()
        self._drain()
        self._thread.join(timeout=1.0)
        # Closing also unblocks a reader stuck in read() on a network stream; a failing close must not
        # hide the upload's own outcome.
        with contextlib.suppress(Exception):
            self._stream.close()
        self._thread.join(timeout=1.0)
        self._drain()

    def _drain(self) -> None:
        while True:
            try:
                self._queue.get_nowait()
            except queue.Empty:
                return


class ChunkBody:
    """A request body of exactly `length` bytes, yielded block by block from the pump (iterable once)."""

    def __init__(self, pump: StreamPump, length: int) -> None:
        self._pump = pump
        self._length = length
        self._started = False
        self.delivered = 0

    def __len__(self) -> int:
        return self._length

    def __iter__(self) -> Iterator[bytes]:
        if self._started:
            raise RuntimeError("a chunk body can be sent only once")
        self._started = True
        return self._blocks()

    def _blocks(self) -> Iterator[bytes]:
        while self.delivered < self._length:
            block = self._pump._take()
            if self.delivered + len(block) > self._length:
                raise SourceReadError("a block crossed a chunk boundary")  # a bug in the reader
            self.delivered += len(block)
            yield block

    @property
    def complete(self) -> bool:
        return self.delivered == self._length
