"""The upload URL (docs/reference/tiktok-api.md §3.2-§3.4): sequential chunk PUTs, 206 then 201, 416 on a
range that
does not match progress, 403 once the URL is an hour old, `Content-Range` progress on every answer.

Bytes go straight to a file in blocks and the SHA-256 is computed as they pass (chunk_sink.py), so
memory does not grow with chunk size. A chunk that does not arrive whole is rolled back (file and
hash state).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from email.message import Message
from typing import TYPE_CHECKING, Any

from local.sandbox import lifecycle
from local.sandbox.chunk_sink import ChunkSink
from local.sandbox.errors import ApiError, error_envelope
from local.sandbox.state import FAILED, Post, PutRecord
from local.sandbox.wire import Response, json_response

if TYPE_CHECKING:
    from local.sandbox.app import SandboxApp

BLOCK = 1024 * 1024
VIDEO_TYPES = frozenset({"video/mp4", "video/quicktime", "video/webm"})
# A refused request's body is read and thrown away up to this size, so the client gets the answer
# instead of a reset mid-send; above it the connection is closed.
DRAIN_LIMIT = 256 * 1024 * 1024
_RANGE = re.compile(r"bytes (\d+)-(\d+)/(\d+)")


class ClientGone(Exception):
    """The client stopped sending before Content-Length bytes arrived."""


@dataclass
class Body:
    """The request body as the handler exposes it: fill a buffer, or discard bytes."""

    readinto: Callable[[memoryview], int]

    def discard(self, length: int) -> None:
        buffer = memoryview(bytearray(min(BLOCK, max(length, 1))))
        while length > 0:
            got = self.readinto(buffer[: min(length, len(buffer))])
            if not got:
                raise ClientGone
            length -= got


def progress_header(post: Post, *, as_count: bool = False) -> tuple[str, str]:
    # "bytes 0-{last byte received}/{total}", inclusive like the request header; nothing received
    # yet is the RFC 9110 form "bytes */{total}". With the content_range_count quirk, N is the count.
    if post.uploaded_bytes == 0:
        return ("Content-Range", f"bytes */{post.video_size}")
    last = post.uploaded_bytes if as_count else post.uploaded_bytes - 1
    return ("Content-Range", f"bytes 0-{last}/{post.video_size}")


def _error(app: SandboxApp, err: ApiError, post: Post | None, close: bool = False) -> Response:
    as_count = app.quirk("content_range_count")
    headers = [progress_header(post, as_count=as_count)] if post is not None else []
    response = json_response(err.status, error_envelope(err), headers)
    response.close = close
    return response


def _upload_error(status: int, message: str) -> ApiError:
    # TikTok documents statuses, not codes, for the upload URL; invalid_file_upload is the one
    # generic v2 code about uploads (§2.1).
    return ApiError(status, "invalid_file_upload", message)


def _content_length(headers: Message) -> int | None:
    values = headers.get_all("Content-Length") or []
    if len(values) != 1 or not values[0].strip().isdigit():
        return None
    return int(values[0].strip())


def handle_put(app: SandboxApp, query: dict[str, list[str]], headers: Message, body: Body) -> Response:
    upload_id = (query.get("upload_id") or [""])[-1]
    upload_token = (query.get("upload_token") or [""])[-1]
    length = _content_length(headers)
    framed = length is not None and not headers.get_all("Transfer-Encoding")
    # Whether a refused body can be skipped decides between "answer" and "answer, then close".
    drainable = framed and length is not None and length <= DRAIN_LIMIT
    now = app.clock.now()
    record = PutRecord(at=now, headers=dict(headers.items()), status=0, outcome="")
    with app.state.lock:
        publish_id = app.state.uploads.get(upload_id)
        post = app.state.posts.get(publish_id) if publish_id else None
        if post is not None:
            post.puts.append(record)
        repeat_after_end = post is not None and post.media_complete and app.quirk("final_chunk_repeat_404")
        if post is None or post.upload_token != upload_token or post.status == FAILED or repeat_after_end:
            refusal, refused_post = _upload_error(404, "No upload task exists for this URL."), None
        else:
            check = _check_put(app, post, headers, length if framed else None, now)
            if isinstance(check, tuple):
                post.put_in_progress = True
                chunk = _Chunk(post, record, check[0], check[1], post.hasher.copy())
                refusal = None
            else:
                refusal, refused_post = check, post
        if refusal is not None:
            record.status, record.outcome = refusal.status, refusal.message
            answer = _error(app, refusal, refused_post, close=not drainable)
    if refusal is None:
        return _receive(app, chunk, body)
    # The refused body is read outside the lock: it may be large.
    if drainable and length:
        try:
            body.discard(length)
        except (ClientGone, OSError):
            return Response(0, abort=True)
    return answer


@dataclass
class _Chunk:
    post: Post
    record: PutRecord
    start: int
    end: int
    saved_hasher: Any  # the SHA-256 state before this chunk, restored if it does not arrive whole


def _check_put(  # noqa: PLR0911 - one return per documented rule, in TikTok's order
    app: SandboxApp, post: Post, headers: Message, length: int | None, now: float
) -> tuple[int, int] | ApiError:
    """The chunk's inclusive byte range, or the first rule the PUT breaks; the caller holds the lock."""
    if app.faults.upload_urls_expired() or now > post.upload_expires_at:
        return _upload_error(403, "The upload URL has expired.")
    if headers.get_all("Transfer-Encoding"):
        return _upload_error(400, "Transfer-Encoding is not accepted; send Content-Length.")
    if length is None:
        return _upload_error(400, "Content-Length is missing or invalid.")
    content_type = (headers.get("Content-Type") or "").split(";", 1)[0].strip().lower()
    if content_type not in VIDEO_TYPES:
        return _upload_error(400, "Content-Type must be video/mp4, video/quicktime or video/webm.")
    match = _RANGE.fullmatch((headers.get("Content-Range") or "").strip())
    if match is None:
        return _upload_error(400, "Content-Range must be 'bytes FIRST-LAST/TOTAL'.")
    start, end, total = (int(g) for g in match.groups())
    if total != post.video_size or end < start:
        return _upload_error(400, "Content-Range is inverted or its total is not the video_size from init.")
    if post.put_in_progress or post.media_complete or start != post.uploaded_bytes:
        # Sequential only: a second PUT while one is in flight, a repeat, or a gap.
        return _upload_error(416, "Content-Range does not match the bytes uploaded so far.")
    if end != post.chunk_range(post.chunks_received)[1]:
        return _upload_error(400, "The chunk does not follow chunk_size and total_chunk_count from init.")
    if length != end - start + 1:
        return _upload_error(400, "Content-Length does not match Content-Range.")
    return start, end


def _receive(app: SandboxApp, chunk: _Chunk, body: Body) -> Response:
    post, record = chunk.post, chunk.record
    length = chunk.end - chunk.start + 1
    drop_mid = app.faults.take_drop_mid_put()
    to_read = length // 2 if drop_mid else length
    media = post.files[0]
    received = 0
    try:
        with media.path.open("r+b", buffering=0) as out:
            out.seek(chunk.start)
            sink = ChunkSink(out, post.hasher)
            try:
                while received < to_read:
                    block = sink.buffer()
                    got = body.readinto(memoryview(block)[: min(len(block), to_read - received)])
                    if not got:
                        sink.give_back(block)
                        raise ClientGone
                    sink.push(block, got)
                    received += got
            finally:
                sink.close()
            if drop_mid:
                raise ClientGone
    except (ClientGone, OSError):
        with app.state.lock:
            post.hasher = chunk.saved_hasher
            post.put_in_progress = False
            record.outcome = "injected reset mid-body" if drop_mid else "the client went away mid-body"
        with media.path.open("r+b") as out:
            out.truncate(chunk.start)
        return Response(0, abort=True)
    with app.state.lock:
        post.put_in_progress = False
        post.uploaded_bytes += length
        post.chunks_received += 1
        media.size = post.uploaded_bytes
        done = post.uploaded_bytes == post.video_size
        if done:
            media.sha256 = post.hasher.hexdigest()
        record.status = 201 if done else 206
        record.bytes_stored = length
        record.outcome = "all chunks in" if done else "chunk stored"
        header = progress_header(post, as_count=app.quirk("content_range_count"))
    if done:
        lifecycle.media_complete(app, post)
    if app.faults.take_drop_after_put():
        with app.state.lock:
            record.outcome += "; injected reset before the answer"
        return Response(0, abort=True)
    return Response(record.status, b"", "text/plain; charset=UTF-8", [header])
