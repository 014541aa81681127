"""Media to S3 with progress. A file above the multipart threshold goes up in parts whose upload id is kept
in a small state file in the user's cache: if the run is interrupted, the same command run again asks S3
which parts it holds (`list_parts`) and sends only the others.

A file's S3 key is derived from its path, size and modification time, so a second run names the same
key; an object already there with the same fingerprint is not sent again.
"""

from __future__ import annotations

import hashlib
import json
import math
import mimetypes
import os
import re
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from boto3.s3.transfer import TransferConfig
from botocore.exceptions import ClientError

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

MIB = 1024 * 1024
PART_SIZE = 8 * MIB
MULTIPART_THRESHOLD = 8 * MIB
MIN_PART_SIZE = 5 * MIB  # S3's smallest part but the last
MAX_PARTS = 10_000  # S3's most parts in one upload
CONCURRENCY = 4
CACHE_ENV = "TIKTOK_PUBLISHER_CACHE"
FINGERPRINT_METADATA = "fingerprint"

BytesSent = Callable[[int], None]


def fingerprint(path: Path) -> str:
    """The file as the user has it now: its absolute path, size and modification time."""
    stat = path.stat()
    return hashlib.sha256(f"{path.resolve()}\n{stat.st_size}\n{stat.st_mtime_ns}".encode()).hexdigest()[:16]


def safe_name(name: str) -> str:
    """A file name as an S3 key part: letters, digits, '.', '_' and '-' (S3 event keys stay readable)."""
    return re.sub(r"[^A-Za-z0-9._-]+", "-", name).strip("-.") or "file"


def media_key(account: str, path: Path) -> str:
    """Where a file goes: under the account's media/ folder, which the intake never posts on its own."""
    return f"posts/{account}/media/{fingerprint(path)}/{safe_name(path.name)}"


def cache_dir() -> Path:
    configured = os.environ.get(CACHE_ENV)
    if configured:
        return Path(configured)
    if os.name == "nt" and os.environ.get("LOCALAPPDATA"):
        return Path(os.environ["LOCALAPPDATA"], "tiktok-publisher")
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache", "tiktok-publisher")


@dataclass(frozen=True)
class UploadState:
    """An unfinished multipart upload: enough to ask S3 for its parts and send the rest."""

    bucket: str
    key: str
    upload_id: str
    part_size: int
    path: str
    size: int
    mtime_ns: int

    def part_count(self) -> int:
        return max(math.ceil(self.size / self.part_size), 1)

    def part_length(self, number: int) -> int:
        return min(self.part_size, self.size - (number - 1) * self.part_size)

    def still_describes(self, path: Path) -> bool:
        stat = path.stat()
        return self.path == str(path.resolve()) and (self.size, self.mtime_ns) == (
            stat.st_size,
            stat.st_mtime_ns,
        )


class ResumeStore:
    """One JSON file per unfinished upload, named after its bucket and key (the key names the file)."""

    def __init__(self, folder: Path | None = None) -> None:
        self.folder = (folder or cache_dir()) / "uploads"

    def _file(self, bucket: str, key: str) -> Path:
        return self.folder / f"{hashlib.sha256(f'{bucket}/{key}'.encode()).hexdigest()[:32]}.json"

    def load(self, bucket: str, key: str) -> UploadState | None:
        try:
            return UploadState(**json.loads(self._file(bucket, key).read_text(encoding="utf-8")))
        except (OSError, ValueError, TypeError):
            return None  # none, or unreadable: the upload starts afresh

    def save(self, state: UploadState) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        target = self._file(state.bucket, state.key)
        partial = target.with_suffix(".tmp")
        partial.write_text(json.dumps(asdict(state)), encoding="utf-8")
        partial.replace(target)

    def forget(self, bucket: str, key: str) -> None:
        self._file(bucket, key).unlink(missing_ok=True)


@dataclass(frozen=True)
class Resumed:
    parts_done: int
    parts_total: int
    bytes_done: int


@dataclass(frozen=True)
class Uploaded:
    key: str
    size: int
    already_there: bool = False
    resumed: Resumed | None = None


class MediaUploader:
    def __init__(
        self,
        s3: S3Client,
        bucket: str,
        store: ResumeStore | None = None,
        *,
        part_size: int = PART_SIZE,
        threshold: int = MULTIPART_THRESHOLD,
        concurrency: int = CONCURRENCY,
    ) -> None:
        self.s3 = s3
        self.bucket = bucket
        self.store = store or ResumeStore()
        self.part_size = max(part_size, MIN_PART_SIZE)
        self.threshold = threshold
        self.concurrency = concurrency

    def upload(
        self,
        path: Path,
        key: str,
        *,
        sent: BytesSent,
        resuming: Callable[[Resumed], None] = lambda _: None,
    ) -> Uploaded:
        """Put `path` at `key`; `sent` hears of every byte that reaches S3, `resuming` of parts an earlier
        run left there."""
        size = path.stat().st_size
        stamp = fingerprint(path)
        if self._already_there(key, size, stamp):
            sent(size)
            return Uploaded(key, size, already_there=True)
        extra = {"ContentType": _content_type(path), "Metadata": {FINGERPRINT_METADATA: stamp}}
        if size < self.threshold:
            config = TransferConfig(multipart_threshold=self.threshold, multipart_chunksize=self.part_size)
            self.s3.upload_file(str(path), self.bucket, key, ExtraArgs=extra, Callback=sent, Config=config)
            return Uploaded(key, size)
        return self._multipart(path=path, key=key, size=size, extra=extra, sent=sent, resuming=resuming)

    def _already_there(self, key: str, size: int, stamp: str) -> bool:
        try:
            head = self.s3.head_object(Bucket=self.bucket, Key=key)
        except ClientError:
            return False  # absent (or not ours to read): send it
        return (
            head.get("ContentLength") == size and head.get("Metadata", {}).get(FINGERPRINT_METADATA) == stamp
        )

    def _multipart(
        self,
        *,
        path: Path,
        key: str,
        size: int,
        extra: dict[str, Any],
        sent: BytesSent,
        resuming: Callable[[Resumed], None],
    ) -> Uploaded:
        state = self.store.load(self.bucket, key)
        done: dict[int, dict[str, Any]] = {}
        if state is not None and state.still_describes(path):
            parts = self._parts_in_s3(state)
            if parts is None:
                state = None  # aborted, or expired by the bucket's lifecycle rule: start afresh
            else:
                done = {n: p for n, p in parts.items() if p["Size"] == state.part_length(n)}
        else:
            state = None
        if state is None:
            state = self._start(path, key, size, extra)
        total = state.part_count()
        done = {n: p for n, p in done.items() if n <= total}
        resumed = None
        if done:
            resumed = Resumed(len(done), total, sum(p["Size"] for p in done.values()))
            resuming(resumed)
            sent(resumed.bytes_done)
        missing = [n for n in range(1, total + 1) if n not in done]
        for part in self._send_parts(path, state, missing, sent):
            done[part["PartNumber"]] = part
        self.s3.complete_multipart_upload(
            Bucket=self.bucket,
            Key=key,
            UploadId=state.upload_id,
            MultipartUpload={"Parts": [_completed(done[n]) for n in sorted(done)]},  # type: ignore[misc]
        )
        self.store.forget(self.bucket, key)
        return Uploaded(key, size, resumed=resumed)

    def _start(self, path: Path, key: str, size: int, extra: dict[str, Any]) -> UploadState:
        part_size = max(self.part_size, math.ceil(size / MAX_PARTS / MIB) * MIB)
        # CRC32 parts, as boto3's own transfers send them; S3 then wants each part's checksum at the end.
        created = self.s3.create_multipart_upload(
            Bucket=self.bucket, Key=key, ChecksumAlgorithm="CRC32", **extra
        )
        stat = path.stat()
        state = UploadState(
            bucket=self.bucket,
            key=key,
            upload_id=created["UploadId"],
            part_size=part_size,
            path=str(path.resolve()),
            size=size,
            mtime_ns=stat.st_mtime_ns,
        )
        self.store.save(state)  # before the first part: an interruption anywhere after this resumes
        return state

    def _parts_in_s3(self, state: UploadState) -> dict[int, dict[str, Any]] | None:
        """The parts S3 holds for the upload, or None when the upload is gone."""
        parts: dict[int, dict[str, Any]] = {}
        marker = 0
        while True:
            try:
                page = self.s3.list_parts(
                    Bucket=state.bucket, Key=state.key, UploadId=state.upload_id, PartNumberMarker=marker
                )
            except ClientError as exc:
                if exc.response.get("Error", {}).get("Code") in {"NoSuchUpload", "404", "NotFound"}:
                    self.store.forget(state.bucket, state.key)
                    return None
                raise
            for part in page.get("Parts", []):
                parts[part["PartNumber"]] = dict(part)
            if not page.get("IsTruncated"):
                return parts
            marker = int(page.get("NextPartNumberMarker", 0))

    def _send_parts(
        self, path: Path, state: UploadState, numbers: list[int], sent: BytesSent
    ) -> list[dict[str, Any]]:
        """Send the parts `numbers`, a few at a time; on any failure (or Ctrl-C) the parts not started are
        dropped and the parts S3 already holds stay there for the next run."""
        finished: list[dict[str, Any]] = []
        with ThreadPoolExecutor(max_workers=self.concurrency) as pool:
            pending: set[Future[dict[str, Any]]] = {
                pool.submit(self._send_part, path, state, n) for n in numbers
            }
            try:
                while pending:
                    ready, pending = wait(pending, return_when=FIRST_COMPLETED)
                    for future in ready:
                        part = future.result()
                        finished.append(part)
                        sent(part["Size"])
            except BaseException:
                for future in pending:
                    future.cancel()
                raise
        return finished

    def _send_part(self, path: Path, state: UploadState, number: int) -> dict[str, Any]:
        length = state.part_length(number)
        with path.open("rb") as source:
            source.seek((number - 1) * state.part_size)
            body = source.read(length)
        answer = self.s3.upload_part(
            Bucket=state.bucket,
            Key=state.key,
            UploadId=state.upload_id,
            PartNumber=number,
            Body=body,
            ChecksumAlgorithm="CRC32",
        )
        part: dict[str, Any] = {"PartNumber": number, "ETag": answer["ETag"], "Size": length}
        if answer.get("ChecksumCRC32"):
            part["ChecksumCRC32"] = answer["ChecksumCRC32"]
        return part


def _completed(part: dict[str, Any]) -> dict[str, Any]:
    return {k: part[k] for k in ("PartNumber", "ETag", "ChecksumCRC32") if part.get(k)}


def _content_type(path: Path) -> str:
    return mimetypes.guess_type(path.name)[0] or "application/octet-stream"
