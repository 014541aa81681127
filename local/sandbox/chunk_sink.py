"""Where chunk bytes go: socket reads, SHA-256 and disk writes overlap in three threads over a small
ring of reusable buffers, so a PUT runs at the speed of the slowest of the three, not their sum.
Memory is the ring (a few MiB) whatever the chunk size."""

from __future__ import annotations

import queue
import threading
from typing import Any, BinaryIO

BLOCK = 1024 * 1024
RING = 8

_Item = tuple[bytearray, int] | None


class ChunkSink:
    def __init__(self, out: BinaryIO, hasher: Any) -> None:
        self._out = out
        self._hasher = hasher
        self._free: queue.Queue[bytearray] = queue.Queue()
        for _ in range(RING):
            self._free.put(bytearray(BLOCK))
        self._to_hash: queue.Queue[_Item] = queue.Queue()
        self._to_write: queue.Queue[_Item] = queue.Queue()
        self._error: OSError | None = None
        self._threads = [
            threading.Thread(target=self._hash_loop, name="sandbox-chunk-hash", daemon=True),
            threading.Thread(target=self._write_loop, name="sandbox-chunk-write", daemon=True),
        ]
        for thread in self._threads:
            thread.start()

    def buffer(self) -> bytearray:
        """A free block to read the next bytes into (waits while all are in flight)."""
        return self._free.get()

    def push(self, block: bytearray, length: int) -> None:
        self._to_hash.put((block, length))

    def give_back(self, block: bytearray) -> None:
        self._free.put(block)

    def close(self) -> None:
        """Wait until every pushed byte is hashed and written; raise the write error if one happened."""
        self._to_hash.put(None)
        for thread in self._threads:
            thread.join()
        if self._error is not None:
            raise self._error

    def _hash_loop(self) -> None:
        while (item := self._to_hash.get()) is not None:
            block, length = item
            self._hasher.update(memoryview(block)[:length])
            self._to_write.put(item)
        self._to_write.put(None)

    def _write_loop(self) -> None:
        while (item := self._to_write.get()) is not None:
            block, length = item
            if self._error is None:
                try:
                    self._out.write(memoryview(block)[:length])
                except OSError as exc:
                    self._error = exc
            self._free.put(block)
