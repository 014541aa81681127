"""MediaStore against moto: head, ranges, one-request streaming, manifests, presigned URLs."""

from __future__ import annotations

import io
import json
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest

from functions.store.clients import aws_client
from functions.store.errors import InvalidJsonError, NotFoundError, ObjectTooLargeError, StoreError
from functions.store.media import MediaStore, ObjectStream
from tests.unit.store.conftest import BUCKET

DATA = bytes(range(256)) * 4096  # 1 MiB, every offset distinguishable within 256 bytes


@pytest.fixture
def media(s3: Any) -> MediaStore:
    return MediaStore()


def put(s3: Any, key: str, body: bytes, content_type: str = "video/mp4") -> str:
    return str(s3.put_object(Bucket=BUCKET, Key=key, Body=body, ContentType=content_type)["VersionId"])


def count_gets() -> list[str]:
    calls: list[str] = []
    aws_client("s3").meta.events.register("before-call.s3.GetObject", lambda **_: calls.append("GetObject"))
    return calls


def test_head(media: MediaStore, s3: Any) -> None:
    version = put(s3, "posts/alice/v.mp4", DATA)
    info = media.head(BUCKET, "posts/alice/v.mp4")
    assert info["size"] == len(DATA)
    assert info["content_type"] == "video/mp4"
    assert info["version_id"] == version
    assert info["etag"] and '"' not in info["etag"]


def test_head_of_an_older_version(media: MediaStore, s3: Any) -> None:
    old = put(s3, "k.mp4", b"old bytes")
    put(s3, "k.mp4", b"newer, longer bytes")
    assert media.head(BUCKET, "k.mp4", old)["size"] == len(b"old bytes")
    assert media.head(BUCKET, "k.mp4")["size"] == len(b"newer, longer bytes")


def test_missing_objects_are_not_found(media: MediaStore, s3: Any) -> None:
    with pytest.raises(NotFoundError, match=r"s3://media-bucket/nope\.mp4"):
        media.head(BUCKET, "nope.mp4")
    with pytest.raises(NotFoundError):
        media.read_range(BUCKET, "nope.mp4", 0, 10)
    with pytest.raises(NotFoundError):
        media.open_stream(BUCKET, "nope.mp4", 0)
    with pytest.raises(NotFoundError):
        media.get_json(BUCKET, "nope.json")
    put(s3, "k.mp4", b"x")
    with pytest.raises(NotFoundError, match="version"):
        media.get_json(BUCKET, "k.mp4", version_id="no-such-version")


def test_read_range(media: MediaStore, s3: Any) -> None:
    put(s3, "v.mp4", DATA)
    assert media.read_range(BUCKET, "v.mp4", 0, 7) == DATA[:8]
    assert media.read_range(BUCKET, "v.mp4", 1000, 1999) == DATA[1000:2000]
    assert media.read_range(BUCKET, "v.mp4", len(DATA) - 4, len(DATA) + 100) == DATA[-4:]
    assert media.read_range(BUCKET, "v.mp4", len(DATA), len(DATA) + 100) == b""


@pytest.mark.parametrize(("start", "end"), [(-1, 5), (10, 9)])
def test_read_range_refuses_bad_ranges(media: MediaStore, start: int, end: int) -> None:
    with pytest.raises(ValueError, match="range"):
        media.read_range(BUCKET, "v.mp4", start, end)


def test_open_stream_reads_from_the_offset_in_one_request(media: MediaStore, s3: Any) -> None:
    put(s3, "v.mp4", DATA)
    gets = count_gets()
    chunk = 100_000
    offset = 12_345
    with media.open_stream(BUCKET, "v.mp4", offset) as stream:
        assert stream.content_length == len(DATA) - offset
        pieces = []
        while piece := stream.read(chunk):
            pieces.append(piece)
    assert b"".join(pieces) == DATA[offset:]
    assert [len(p) for p in pieces[:-1]] == [chunk] * (len(pieces) - 1)
    assert gets == ["GetObject"]


def test_open_stream_of_a_version(media: MediaStore, s3: Any) -> None:
    old = put(s3, "v.mp4", b"0123456789")
    put(s3, "v.mp4", b"abcdefghij")
    with media.open_stream(BUCKET, "v.mp4", 4, version_id=old) as stream:
        assert stream.read() == b"456789"


def test_open_stream_at_the_end_is_empty_and_past_it_an_error(media: MediaStore, s3: Any) -> None:
    put(s3, "v.mp4", b"0123456789")
    with media.open_stream(BUCKET, "v.mp4", 10) as stream:
        assert stream.content_length == 0
        assert stream.read(5) == b""
    with pytest.raises(StoreError, match="past the end"):
        media.open_stream(BUCKET, "v.mp4", 11)
    with pytest.raises(ValueError):
        media.open_stream(BUCKET, "v.mp4", -1)


def test_open_stream_does_not_ask_for_the_objects_checksum(media: MediaStore, s3: Any) -> None:
    # botocore would CRC every streamed byte and check the sum only on a read past the end, which the
    # upload (exact chunk lengths) never makes: the GET must not ask for it, even for an object that has one.
    s3.put_object(Bucket=BUCKET, Key="v.mp4", Body=DATA, ChecksumAlgorithm="CRC32")
    sent: list[dict[str, str]] = []
    aws_client("s3").meta.events.register(
        "before-send.s3.GetObject", lambda request, **_: sent.append(dict(request.headers))
    )
    with media.open_stream(BUCKET, "v.mp4", 0) as stream:
        assert stream.read(len(DATA)) == DATA
    assert len(sent) == 1
    assert not any(name.lower() == "x-amz-checksum-mode" for name in sent[0])


class TrickleStream(io.BytesIO):
    """A socket-like body that returns at most 7 bytes per read."""

    closed_calls = 0

    def read(self, n: int | None = -1, /) -> bytes:
        return super().read(7 if n is None or n < 0 else min(n, 7))

    def close(self) -> None:
        TrickleStream.closed_calls += 1
        super().close()


def test_object_stream_fills_every_read_from_short_socket_reads() -> None:
    stream = ObjectStream(TrickleStream(DATA[:100]), 100)
    assert stream.read(30) == DATA[:30]
    assert stream.read(64) == DATA[30:94]
    assert stream.read(64) == DATA[94:100]
    assert stream.read(64) == b""
    stream.close()
    stream.close()
    assert TrickleStream.closed_calls == 1
    assert stream.read(1) == b""


def test_get_json(media: MediaStore, s3: Any) -> None:
    manifest = {"account": "alice", "media": {"video": "v.mp4"}, "caption": "héllo 🎬"}
    put(s3, "m.json", json.dumps(manifest, ensure_ascii=False).encode(), "application/json")
    assert media.get_json(BUCKET, "m.json") == manifest


def test_get_json_accepts_a_byte_order_mark(media: MediaStore, s3: Any) -> None:
    put(s3, "m.json", b"\xef\xbb\xbf" + b'{"a": 1}', "application/json")
    assert media.get_json(BUCKET, "m.json") == {"a": 1}


def test_get_json_of_a_specific_version(media: MediaStore, s3: Any) -> None:
    old = put(s3, "m.json", b'{"v": 1}')
    put(s3, "m.json", b'{"v": 2}')
    assert media.get_json(BUCKET, "m.json", version_id=old) == {"v": 1}


def test_get_json_refuses_a_large_object_without_reading_it(media: MediaStore, s3: Any) -> None:
    put(s3, "big.json", b"[" + b"1," * 600_000 + b"1]")
    with pytest.raises(
        ObjectTooLargeError, match=r"s3://media-bucket/big.json is 1200003 bytes; at most 1048576"
    ):
        media.get_json(BUCKET, "big.json")
    put(s3, "small.json", b'{"a": "0123456789"}')
    with pytest.raises(ObjectTooLargeError, match="at most 10"):
        media.get_json(BUCKET, "small.json", max_bytes=10)


def test_get_json_names_the_syntax_error(media: MediaStore, s3: Any) -> None:
    put(s3, "bad.json", b'{\n  "account": "alice",\n  "caption": oops\n}')
    with pytest.raises(
        InvalidJsonError, match=r"s3://media-bucket/bad.json is not valid JSON: .* line 3, column 14"
    ):
        media.get_json(BUCKET, "bad.json")


def test_get_json_names_bad_utf8(media: MediaStore, s3: Any) -> None:
    put(s3, "latin1.json", '{"caption": "caf\u00e9"}'.encode("latin-1"))
    with pytest.raises(InvalidJsonError, match="not UTF-8 text"):
        media.get_json(BUCKET, "latin1.json")


def test_presign_get(media: MediaStore, s3: Any) -> None:
    version = put(s3, "posts/alice/v.mp4", DATA)
    url = media.presign_get(BUCKET, "posts/alice/v.mp4", version, 900)
    parsed = urlparse(url)
    query = parse_qs(parsed.query)
    assert parsed.path.endswith("/posts/alice/v.mp4")
    assert BUCKET in parsed.netloc + parsed.path
    assert query["versionId"] == [version]
    assert query["X-Amz-Expires"] == ["900"]
    assert query["X-Amz-Algorithm"] == ["AWS4-HMAC-SHA256"]
    unversioned = parse_qs(urlparse(media.presign_get(BUCKET, "k", None, 60)).query)
    assert "versionId" not in unversioned


@pytest.mark.parametrize("expires", [0, 7 * 24 * 3600 + 1])
def test_presign_get_bounds_the_lifetime(media: MediaStore, expires: int) -> None:
    with pytest.raises(ValueError, match="expires_seconds"):
        media.presign_get(BUCKET, "k", None, expires)


def test_a_missing_bucket_is_named(media: MediaStore, s3: Any) -> None:
    with pytest.raises(NotFoundError, match="no bucket no-such-bucket-here"):
        media.read_range("no-such-bucket-here", "k", 0, 1)
