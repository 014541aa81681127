"""S3 objects as files (functions/store/media_files.py) against moto: a seekable reader that opens a new GET
only when it must, and a multipart writer that creates nothing until it has something to send and leaves
nothing behind when the block raises."""

from __future__ import annotations

import io
from typing import Any

import pytest

from functions.store import media_files
from functions.store.media import MediaStore
from tests.unit.store.conftest import BUCKET

MIB = 1024 * 1024
DATA = bytes(range(256)) * (12 * 4096)  # 12 MiB, every offset distinguishable within 256 bytes


@pytest.fixture
def media(s3: Any) -> MediaStore:
    return MediaStore()


def put(s3: Any, key: str, body: bytes) -> str:
    return str(s3.put_object(Bucket=BUCKET, Key=key, Body=body)["VersionId"])


def test_the_reader_reads_on_through_one_get_and_reopens_only_after_a_seek(
    media: MediaStore, s3: Any
) -> None:
    version = put(s3, "posts/a/v.mp4", DATA)
    put(s3, "posts/a/v.mp4", b"a newer version")  # the named version is read, not the latest
    with media.open_file(BUCKET, "posts/a/v.mp4", version, len(DATA)) as reader:
        assert reader.read(10) == DATA[:10]
        assert reader.read(3 * MIB) == DATA[10 : 10 + 3 * MIB]
        assert reader.requests == 1
        reader.seek(-100, io.SEEK_END)  # an MP4's index at the end
        assert reader.read() == DATA[-100:]
        assert reader.requests == 2
        reader.seek(5 * MIB)
        assert reader.read(16) == DATA[5 * MIB : 5 * MIB + 16]
        assert reader.tell() == 5 * MIB + 16
        assert reader.requests == 3
        reader.seek(5 * MIB + 16 + MIB // 2)  # a short skip forward reads on through the same response
        assert reader.read(8) == DATA[5 * MIB + 16 + MIB // 2 :][:8]
        assert reader.requests == 3
        assert reader.read(0) == b"" and reader.seekable()


def test_the_reader_stops_at_the_end(media: MediaStore, s3: Any) -> None:
    version = put(s3, "posts/a/short.mp4", b"0123456789")
    with media.open_file(BUCKET, "posts/a/short.mp4", version, 10) as reader:
        reader.seek(8)
        assert reader.read(100) == b"89"
        assert reader.read(100) == b""


def test_the_writer_sends_full_parts_and_the_rest_last(s3: Any) -> None:
    # 5 MiB: S3's smallest part but the last
    upload = media_files.MultipartWrite(s3, BUCKET, "derived/a/p/video.mp4", "video/mp4", 5 * MIB)
    with upload as target:
        for start in range(0, len(DATA), 3 * MIB):
            target.write(DATA[start : start + 3 * MIB])
    assert upload.size == len(DATA)
    stored = s3.get_object(Bucket=BUCKET, Key="derived/a/p/video.mp4", VersionId=upload.version_id)
    assert stored["Body"].read() == DATA
    assert stored["ContentType"] == "video/mp4"
    assert stored["ETag"].strip('"').endswith("-3")  # a multipart object of 5 + 5 + 2 MiB


def test_a_small_copy_is_one_part(media: MediaStore, s3: Any) -> None:
    upload = media.multipart_write(BUCKET, "derived/a/p/photo-01.jpg", "image/jpeg")
    with upload as target:
        target.write(b"\xff\xd8 a small jpeg")
    body = s3.get_object(Bucket=BUCKET, Key="derived/a/p/photo-01.jpg")["Body"].read()
    assert body == b"\xff\xd8 a small jpeg" and upload.size == len(body)


def test_a_writer_that_raises_before_writing_creates_nothing(media: MediaStore, s3: Any) -> None:
    with pytest.raises(RuntimeError), media.multipart_write(BUCKET, "derived/a/p/x.mp4", "video/mp4"):
        raise RuntimeError("the repair refused the file")
    assert s3.list_multipart_uploads(Bucket=BUCKET).get("Uploads", []) == []
    assert s3.list_objects_v2(Bucket=BUCKET, Prefix="derived/").get("KeyCount") == 0


def test_a_writer_that_raises_after_a_part_aborts_its_upload(s3: Any) -> None:
    upload = media_files.MultipartWrite(s3, BUCKET, "derived/a/p/y.mp4", "video/mp4", 5 * MIB)
    with pytest.raises(OSError, match="S3 went away"), upload as target:
        target.write(DATA[: 6 * MIB])  # one part sent, one MiB still held
        assert len(s3.list_multipart_uploads(Bucket=BUCKET)["Uploads"]) == 1
        raise OSError("S3 went away")
    assert s3.list_multipart_uploads(Bucket=BUCKET).get("Uploads", []) == []
    assert s3.list_objects_v2(Bucket=BUCKET, Prefix="derived/").get("KeyCount") == 0
    assert upload.version_id is None
