"""S3 objects as files, for code that reads and writes media as files (FFmpeg through PyAV, Pillow):

- `ObjectReader`: a readable, seekable object over one GetObject at a time. It reads on from where the
  last read ended, and opens a new ranged GET only when the reader seeks away (FFmpeg does, to the index
  of an MP4 whose `moov` is at the end, and back): memory holds one buffer, never the object.
- `MultipartWrite`: what is written goes to S3 as a multipart upload, one part at a time, completed when
  the block ends and aborted when it raises. Nothing is created at S3 before the first part is full or the
  block ends, so a writer that fails before writing leaves nothing behind.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from types import TracebackType
from typing import TYPE_CHECKING, Any, BinaryIO

if TYPE_CHECKING:
    from functions.store.media import ObjectStream

READ_BUFFER = 1024 * 1024
# A forward seek shorter than this reads on through the open response instead of opening another GET.
SKIP_LIMIT = 2 * 1024 * 1024
# S3's parts are at least 5 MiB (but the last); 16 MiB keeps 4 GB within 256 parts.
PART_SIZE = 16 * 1024 * 1024

OpenAt = Callable[[int], "ObjectStream"]


class _RangedRaw(io.RawIOBase):
    """The raw reader under ObjectReader: a response open from the position on, reopened after a seek."""

    def __init__(self, open_at: OpenAt, size: int) -> None:
        super().__init__()
        self._open_at = open_at
        self._size = size
        self._position = 0
        self._stream: ObjectStream | None = None
        self._stream_at = 0
        self.requests = 0
        """GETs made so far: one, plus one per seek away from where reading had got to."""

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._position

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._position, io.SEEK_END: self._size}.get(whence)
        if base is None:
            raise ValueError(f"unsupported whence {whence}")
        if base + offset < 0:
            raise ValueError(f"negative position {base + offset}")
        self._position = base + offset  # no request yet: the next read decides
        return self._position

    def readinto(self, buffer: Any) -> int:
        wanted = min(len(buffer), self._size - self._position)
        if wanted <= 0:
            return 0
        stream = self._stream_for(self._position)
        data = stream.read(wanted)
        if not data:
            raise OSError(f"the object ended at {self._position} of {self._size} bytes")
        view = memoryview(buffer).cast("B")
        view[: len(data)] = data
        self._position += len(data)
        self._stream_at = self._position
        return len(data)

    def close(self) -> None:
        if self._stream is not None:
            self._stream.close()
            self._stream = None
        super().close()

    def _stream_for(self, position: int) -> ObjectStream:
        if self._stream is not None and self._stream_at <= position < self._stream_at + SKIP_LIMIT:
            skip = position - self._stream_at
            if skip:
                self._stream.read(skip)
                self._stream_at = position
            return self._stream
        if self._stream is not None:
            self._stream.close()
        self._stream = self._open_at(position)
        self._stream_at = position
        self.requests += 1
        return self._stream


class ObjectReader(io.BufferedReader):
    """An S3 object version of `size` bytes as a buffered, seekable binary file (see the module docstring)."""

    def __init__(self, open_at: OpenAt, size: int, buffer_size: int = READ_BUFFER) -> None:
        self.raw_reader = _RangedRaw(open_at, size)
        super().__init__(self.raw_reader, buffer_size)

    @property
    def requests(self) -> int:
        return self.raw_reader.requests


class _PartSink(io.RawIOBase):
    """Collects what is written into parts of `part_size` bytes and hands each full one to `send`."""

    def __init__(self, send: Callable[[bytes], None], part_size: int) -> None:
        super().__init__()
        self._send = send
        self._part_size = part_size
        self._pending = bytearray()
        self.written = 0

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        chunk = memoryview(data).cast("B")
        self._pending += chunk
        self.written += len(chunk)
        while len(self._pending) >= self._part_size:
            part = bytes(self._pending[: self._part_size])
            del self._pending[: self._part_size]
            self._send(part)
        return len(chunk)

    def rest(self) -> bytes:
        """What is left after the last full part (the last part, which may be shorter)."""
        rest = bytes(self._pending)
        self._pending.clear()
        return rest


class MultipartWrite:
    """`with MultipartWrite(client, bucket, key, content_type) as target: target.write(...)`: the object is
    created when the block ends (its version in `version_id`), or the upload aborted when it raises."""

    def __init__(
        self, client: Any, bucket: str, key: str, content_type: str, part_size: int = PART_SIZE
    ) -> None:
        self._s3 = client
        self._bucket, self._key, self._content_type = bucket, key, content_type
        self._upload_id: str | None = None
        self._parts: list[dict[str, Any]] = []
        self._done = False
        self._sink = _PartSink(self._send, part_size)
        self.file: BinaryIO = io.BufferedWriter(self._sink, buffer_size=1024 * 1024)
        self.version_id: str | None = None
        self.size = 0

    def __enter__(self) -> BinaryIO:
        return self.file

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if exc_type is not None:
            self._abort()
            return
        try:
            self._complete()
        except BaseException:
            self._abort()
            raise

    def _complete(self) -> None:
        self.file.flush()
        rest = self._sink.rest()
        if rest or not self._parts:
            self._send(rest)
        self._done = True
        self.file.close()
        answer = self._s3.complete_multipart_upload(
            Bucket=self._bucket,
            Key=self._key,
            UploadId=self._upload_id,
            MultipartUpload={"Parts": self._parts},
        )
        self._upload_id = None
        self.version_id = answer.get("VersionId")
        self.size = self._sink.written

    def _send(self, part: bytes) -> None:
        if self._done:
            return
        if self._upload_id is None:
            created = self._s3.create_multipart_upload(
                Bucket=self._bucket, Key=self._key, ContentType=self._content_type
            )
            self._upload_id = str(created["UploadId"])
        number = len(self._parts) + 1
        answer = self._s3.upload_part(
            Bucket=self._bucket, Key=self._key, UploadId=self._upload_id, PartNumber=number, Body=part
        )
        self._parts.append({"PartNumber": number, "ETag": answer["ETag"]})

    def _abort(self) -> None:
        self._done = True  # what the buffer still holds is never sent, not even when it is collected
        self.file.close()
        # The bucket's lifecycle rule aborts what this cannot (two days after), should S3 refuse it too.
        if self._upload_id is not None:
            self._s3.abort_multipart_upload(Bucket=self._bucket, Key=self._key, UploadId=self._upload_id)
            self._upload_id = None
