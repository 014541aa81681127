"""Reads of media and manifests from the S3 media bucket.

`open_stream` issues ONE GetObject from the resume offset to the end, and the upload step cuts that
stream into chunk PUTs: one request per upload instead of one per chunk, and memory bounded by the
size of a read, never by the file.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any, Protocol

from functions.store.clients import aws_client
from functions.store.errors import InvalidJsonError, NotFoundError, ObjectTooLargeError, StoreError

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

    from functions.store.media_files import MultipartWrite, ObjectReader

MAX_JSON_BYTES = 1024 * 1024
MAX_PRESIGN_SECONDS = 7 * 24 * 3600  # SigV4's limit
_NOT_FOUND_CODES = frozenset({"404", "NoSuchKey", "NoSuchVersion", "NotFound"})


class _RawStream(Protocol):
    def read(self, amt: int | None = ..., /) -> bytes: ...

    def close(self) -> None: ...


class ObjectStream:
    """A readable S3 object body whose read(n) returns exactly n bytes until the end of the object.

    The underlying socket may hand back fewer bytes per read; the upload step relies on full chunks.
    """

    def __init__(self, raw: _RawStream | None, content_length: int) -> None:
        self._raw = raw
        self.content_length = content_length

    def read(self, n: int = -1) -> bytes:
        if self._raw is None:
            return b""
        if n is None or n < 0:
            return self._raw.read()
        pieces: list[bytes] = []
        wanted = n
        while wanted > 0:
            piece = self._raw.read(wanted)
            if not piece:
                break
            pieces.append(piece)
            wanted -= len(piece)
        return pieces[0] if len(pieces) == 1 else b"".join(pieces)

    def close(self) -> None:
        if self._raw is not None:
            self._raw.close()
            self._raw = None

    def __enter__(self) -> ObjectStream:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def _error_code(exc: Exception) -> str:
    response: Any = getattr(exc, "response", None) or {}
    return str(response.get("Error", {}).get("Code", ""))


def _where(bucket: str, key: str, version_id: str | None) -> str:
    return f"s3://{bucket}/{key}" + (f" (version {version_id})" if version_id else "")


class MediaStore:
    def __init__(self, client: S3Client | None = None) -> None:
        self._client = client

    @property
    def _s3(self) -> S3Client:
        self._client = self._client or aws_client("s3")  # made on first use, not at import
        return self._client

    def head(self, bucket: str, key: str, version_id: str | None = None) -> dict[str, Any]:
        """size, content_type, etag (without quotes) and version_id (None when unversioned)."""
        try:
            response = self._s3.head_object(**self._object(bucket, key, version_id))
        except self._s3.exceptions.ClientError as exc:
            raise self._translate(exc, bucket, key, version_id) from exc
        return {
            "size": int(response["ContentLength"]),
            "content_type": response.get("ContentType", ""),
            "etag": response.get("ETag", "").strip('"'),
            "version_id": response.get("VersionId") or version_id,
        }

    def read_range(
        self, bucket: str, key: str, start: int, end_inclusive: int, version_id: str | None = None
    ) -> bytes:
        """Bytes start..end_inclusive (fewer when the object ends first), e.g. a container header."""
        if start < 0 or end_inclusive < start:
            raise ValueError(f"invalid byte range {start}-{end_inclusive}")
        try:
            response = self._s3.get_object(
                Range=f"bytes={start}-{end_inclusive}", **self._object(bucket, key, version_id)
            )
        except self._s3.exceptions.ClientError as exc:
            if _error_code(exc) == "InvalidRange":
                return b""  # the object ends before `start`
            raise self._translate(exc, bucket, key, version_id) from exc
        body = response["Body"]
        try:
            return body.read()
        finally:
            body.close()

    def open_stream(self, bucket: str, key: str, offset: int, version_id: str | None = None) -> ObjectStream:
        """The object from `offset` to its end, as one GetObject; close it when done."""
        if offset < 0:
            raise ValueError(f"offset must not be negative, not {offset}")
        try:
            response = self._s3.get_object(Range=f"bytes={offset}-", **self._object(bucket, key, version_id))
        except self._s3.exceptions.ClientError as exc:
            if _error_code(exc) != "InvalidRange":
                raise self._translate(exc, bucket, key, version_id) from exc
            actual = getattr(exc, "response", {}).get("Error", {}).get("ActualObjectSize")
            size = int(actual) if actual else self.head(bucket, key, version_id)["size"]
            if offset == size:
                return ObjectStream(None, 0)  # resuming an upload that had sent every byte
            raise StoreError(
                f"offset {offset} is past the end of {_where(bucket, key, version_id)} ({size} bytes)"
            ) from exc
        return ObjectStream(response["Body"], int(response.get("ContentLength", 0)))

    def open_file(self, bucket: str, key: str, version_id: str | None, size: int) -> ObjectReader:
        """The object as a seekable binary file of `size` bytes, read through ranged GETs (media_files.py)."""
        from functions.store.media_files import ObjectReader  # noqa: PLC0415 - the repair step's alone

        return ObjectReader(lambda offset: self.open_stream(bucket, key, offset, version_id), size)

    def multipart_write(self, bucket: str, key: str, content_type: str) -> MultipartWrite:
        """`with store.multipart_write(...) as target:` writes a new object by multipart upload."""
        from functions.store.media_files import MultipartWrite  # noqa: PLC0415

        return MultipartWrite(self._s3, bucket, key, content_type)

    def get_json(
        self, bucket: str, key: str, version_id: str | None = None, max_bytes: int = MAX_JSON_BYTES
    ) -> Any:
        """The parsed JSON document (a manifest); clear errors for too large, bad UTF-8 or bad JSON."""
        where = _where(bucket, key, version_id)
        try:
            response = self._s3.get_object(**self._object(bucket, key, version_id))
        except self._s3.exceptions.ClientError as exc:
            raise self._translate(exc, bucket, key, version_id) from exc
        body = response["Body"]
        try:
            size = int(response.get("ContentLength", 0))
            if size > max_bytes:
                raise ObjectTooLargeError(f"{where} is {size} bytes; at most {max_bytes} are allowed")
            data = body.read(max_bytes + 1)
        finally:
            body.close()
        if len(data) > max_bytes:
            raise ObjectTooLargeError(f"{where} is larger than {max_bytes} bytes")
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise InvalidJsonError(f"{where} is not UTF-8 text (bad byte at offset {exc.start})") from None
        try:
            return json.loads(text)
        except json.JSONDecodeError as exc:
            raise InvalidJsonError(
                f"{where} is not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}"
            ) from None

    def put_text(self, bucket: str, key: str, body: str, content_type: str) -> None:
        self._s3.put_object(Bucket=bucket, Key=key, Body=body.encode("utf-8"), ContentType=content_type)

    def presign_get(self, bucket: str, key: str, version_id: str | None, expires_seconds: int) -> str:
        """A URL that lets its bearer GET this object (this version) for `expires_seconds`."""
        if not 1 <= expires_seconds <= MAX_PRESIGN_SECONDS:
            raise ValueError(f"expires_seconds must be between 1 and {MAX_PRESIGN_SECONDS}")
        return self._s3.generate_presigned_url(
            "get_object", Params=self._object(bucket, key, version_id), ExpiresIn=expires_seconds
        )

    @staticmethod
    def _object(bucket: str, key: str, version_id: str | None) -> dict[str, Any]:
        params: dict[str, Any] = {"Bucket": bucket, "Key": key}
        if version_id:
            params["VersionId"] = version_id
        return params

    @staticmethod
    def _translate(exc: Exception, bucket: str, key: str, version_id: str | None) -> Exception:
        code = _error_code(exc)
        if code == "NoSuchBucket":
            return NotFoundError(f"no bucket {bucket}")
        if code in _NOT_FOUND_CODES:
            return NotFoundError(f"no object {_where(bucket, key, version_id)}")
        return exc
