"""Test doubles for the TikTok client tests: loopback HTTP servers that act like TikTok, and fake sources.

- FakeUploadServer: a strict chunk-upload endpoint. It checks framing (Content-Length only, never
  Transfer-Encoding), Content-Range order and size, answers 206/201/416 like TikTok, and can be
  scripted per PUT to fail (status codes, a connection dropped mid-body, a lost answer, a stall).
- FakeApiServer: answers scripted JSON (or raw) replies per path, can stall or drop the connection
  after reading the request, and records every request it received.
- FakeSource / FakeStream: an in-memory "S3 object" that records every open and read.
"""

from __future__ import annotations

import hashlib
import json
import random
import re
import socket
import struct
import threading
import time
from collections import defaultdict, deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

import requests

_RANGE = re.compile(r"^bytes (\d+)-(\d+)/(\d+)$")


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # dropped connections are part of the script


def _reset(connection: socket.socket) -> None:
    """Close with RST (SO_LINGER 0), as a crashed peer or a load balancer cutting the line would."""
    try:
        connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        connection.close()
    except OSError:
        pass


class _Running:
    """Start/stop a server in a background thread."""

    server: _QuietServer

    def start(self) -> None:
        self._thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05})
        self._thread.daemon = True
        self._thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_port}"


# ------------------------------------------------------------------------------------------ upload


@dataclass
class UploadAction:
    """What the upload server does with one PUT (by order of arrival).

    kind: "normal", "status" (answer `status` after reading the body, nothing stored),
    "drop_mid_body" (read half the body, then reset), "accept_then_drop" (store the chunk, then reset
    without answering), "stall" (store the chunk, then wait `seconds` before answering normally),
    "report" (store the chunk but answer 206 with Content-Range `bytes 0-{report-1}/total`).
    """

    kind: str = "normal"
    status: int = 0
    seconds: float = 0.0
    report: int = 0
    headers: dict[str, str] = field(default_factory=dict)
    read_body: bool = True
    content_range: bool = True  # False: answer without TikTok's Content-Range progress header


@dataclass
class ReceivedPut:
    headers: dict[str, str]
    content_range: str | None
    length: int
    answered: int | None  # status, or None when the connection was dropped


class FakeUploadServer(_Running):
    def __init__(
        self, total: int, chunk_ranges: list[tuple[int, int]] | None = None, *, count_style: bool = False
    ) -> None:
        self.total = total
        self.chunk_ranges = set(chunk_ranges) if chunk_ranges is not None else None
        # Content-Range progress as `bytes 0-{count}/total` (the field's reading), not the last byte's index.
        self.count_style = count_style
        self.data = bytearray()
        self.puts: list[ReceivedPut] = []
        self.violations: list[str] = []
        self.aborted = 0
        self.script: deque[UploadAction] = deque()
        self.lock = threading.Lock()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_PUT(self) -> None:
                outer._handle(self)

        self.server = _QuietServer(("127.0.0.1", 0), Handler)

    @property
    def url(self) -> str:
        return f"{self.base_url}/upload/?upload_id=u1&upload_token=secret-upload-token"

    @property
    def received(self) -> int:
        return len(self.data)

    def sha256(self) -> str:
        return hashlib.sha256(bytes(self.data)).hexdigest()

    def then(self, *actions: UploadAction) -> FakeUploadServer:
        self.script.extend(actions)
        return self

    def _answer(
        self,
        h: BaseHTTPRequestHandler,
        status: int,
        extra: dict[str, str] | None = None,
        *,
        content_range: bool = True,
    ) -> None:
        h.send_response(status)
        if content_range:
            received = len(self.data)
            last = received if self.count_style else received - 1
            h.send_header(
                "Content-Range", f"bytes 0-{last}/{self.total}" if received else f"bytes */{self.total}"
            )
        for k, v in (extra or {}).items():
            h.send_header(k, v)
        h.send_header("Content-Length", "0")
        h.end_headers()

    def _read_body(self, h: BaseHTTPRequestHandler, length: int) -> bytes:
        chunks = []
        remaining = length
        while remaining:
            piece = h.rfile.read(min(remaining, 1 << 20))
            if not piece:
                break
            chunks.append(piece)
            remaining -= len(piece)
        return b"".join(chunks)

    def _handle(self, h: BaseHTTPRequestHandler) -> None:  # noqa: PLR0911, PLR0912 - one branch per rule
        headers = {k.lower(): v for k, v in h.headers.items()}
        action = self.script.popleft() if self.script else UploadAction()
        record = ReceivedPut(headers, headers.get("content-range"), 0, None)
        self.puts.append(record)

        if "transfer-encoding" in headers:
            self.violations.append(f"Transfer-Encoding sent: {headers['transfer-encoding']}")
            h.close_connection = True
            record.answered = 400
            self._answer(h, 400)
            return
        if "content-length" not in headers:
            self.violations.append("no Content-Length")
            h.close_connection = True
            record.answered = 411
            self._answer(h, 411)
            return
        length = int(headers["content-length"])
        record.length = length

        if action.kind == "drop_mid_body":
            self._read_body(h, length // 2)
            h.close_connection = True
            _reset(h.connection)
            return
        if action.kind == "status":
            if action.read_body:
                self._read_body(h, length)
            else:
                h.close_connection = True
            record.answered = action.status
            self._answer(h, action.status, action.headers, content_range=action.content_range)
            return

        body = self._read_body(h, length)
        if len(body) != length:
            self.aborted += 1  # the client closed mid-body: like TikTok, keep nothing of it
            h.close_connection = True
            return
        match = _RANGE.match(headers.get("content-range", ""))
        if not match:
            self.violations.append(f"bad Content-Range {headers.get('content-range')!r}")
            record.answered = 400
            self._answer(h, 400)
            return
        first, last, total = (int(g) for g in match.groups())
        if headers.get("content-type") not in ("video/mp4", "video/quicktime", "video/webm"):
            self.violations.append(f"bad Content-Type {headers.get('content-type')!r}")
        if total != self.total or last - first + 1 != length:
            self.violations.append(f"range {first}-{last}/{total} does not match length {length}")
            record.answered = 400
            self._answer(h, 400)
            return
        if self.chunk_ranges is not None and (first, last) not in self.chunk_ranges:
            self.violations.append(f"range {first}-{last} is not a planned chunk")
            record.answered = 400
            self._answer(h, 400)
            return
        with self.lock:
            if first != len(self.data):
                record.answered = 416
                self._answer(h, 416)
                return
            self.data += body

        if action.kind == "accept_then_drop":
            h.close_connection = True
            _reset(h.connection)
            return
        if action.kind == "stall":
            time.sleep(action.seconds)
        if action.kind == "report":
            # Claim less than what was stored (a server that lost the tail of the chunk).
            del self.data[action.report :]
        status = 201 if len(self.data) == self.total else 206
        record.answered = status
        self._answer(h, status, action.headers)


# --------------------------------------------------------------------------------------------- API


@dataclass
class Reply:
    status: int = 200
    json_body: Any = None
    raw: bytes | None = None
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0  # seconds before answering (a stalled server)
    drop: bool = False  # read the request, then reset the connection without answering


def ok(data: Any = None) -> Reply:
    return Reply(
        200,
        {"data": data if data is not None else {}, "error": {"code": "ok", "message": "", "log_id": "L1"}},
    )


def err(status: int, code: str, message: str = "", **headers: str) -> Reply:
    return Reply(
        status,
        {"data": {}, "error": {"code": code, "message": message, "log_id": "202611250000ABCDEF"}},
        headers=headers,
    )


@dataclass
class ReceivedRequest:
    method: str
    path: str
    query: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)

    def form(self) -> dict[str, str]:
        from urllib.parse import parse_qs

        return {k: v[0] for k, v in parse_qs(self.body.decode(), keep_blank_values=True).items()}


class FakeApiServer(_Running):
    def __init__(self) -> None:
        self.replies: dict[str, deque[Reply]] = defaultdict(deque)
        self.requests: list[ReceivedRequest] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                outer._handle(self, "GET")

            def do_POST(self) -> None:
                outer._handle(self, "POST")

        self.server = _QuietServer(("127.0.0.1", 0), Handler)

    def script(self, path: str, *replies: Reply) -> FakeApiServer:
        self.replies[path].extend(replies)
        return self

    def calls(self, path: str) -> list[ReceivedRequest]:
        return [r for r in self.requests if r.path == path]

    def _handle(self, h: BaseHTTPRequestHandler, method: str) -> None:
        parts = urlsplit(h.path)
        length = int(h.headers.get("Content-Length") or 0)
        body = h.rfile.read(length) if length else b""
        self.requests.append(
            ReceivedRequest(
                method, parts.path, parts.query, {k.lower(): v for k, v in h.headers.items()}, body
            )
        )
        queue = self.replies.get(parts.path)
        reply = queue.popleft() if queue else Reply(599, raw=b"unscripted request")
        if reply.drop:
            h.close_connection = True
            _reset(h.connection)
            return
        if reply.delay:
            time.sleep(reply.delay)
        payload = reply.raw if reply.raw is not None else json.dumps(reply.json_body).encode()
        try:
            h.send_response(reply.status)
            if reply.raw is None:
                h.send_header("Content-Type", "application/json")
            for k, v in reply.headers.items():
                h.send_header(k, v)
            h.send_header("Content-Length", str(len(payload)))
            h.end_headers()
            h.wfile.write(payload)
        except OSError:
            h.close_connection = True  # the client gave up (timeout) before we answered


def closed_port_url() -> str:
    """A loopback URL where nothing listens: connecting fails before any byte is sent."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}"


# ------------------------------------------------------------------------------------------ source


class FakeStream:
    """A readable view of `data` from `offset`, recording each read; may fail once at a byte position."""

    def __init__(
        self,
        source: FakeSource,
        offset: int,
        *,
        fail_at: int | None = None,
        short_reads: bool = False,
        truncate_at: int | None = None,
        on_read: Callable[[int], None] | None = None,
    ) -> None:
        self.source = source
        self.position = offset
        self.fail_at = fail_at
        self.short_reads = short_reads
        self.end = len(source.data) if truncate_at is None else truncate_at
        self.on_read = on_read
        self.closed = False

    def read(self, size: int) -> bytes:
        if self.closed:
            raise ValueError("read from a closed stream")
        self.source.read_sizes.append(size)
        if self.fail_at is not None and self.position >= self.fail_at:
            raise ConnectionResetError("simulated S3 read failure")
        if self.short_reads and size > 1:
            size = max(1, size // 3)
        stop = min(self.position + size, self.end)
        if self.fail_at is not None:
            stop = min(stop, self.fail_at) if self.position < self.fail_at else stop
        block = self.source.data[self.position : stop]
        self.position = stop
        self.source.bytes_read += len(block)
        if self.on_read is not None:
            self.on_read(self.source.bytes_read)
        return bytes(block)

    def close(self) -> None:
        self.closed = True
        self.source.closes += 1


class FakeSource:
    """An in-memory object store entry: `open(offset)` is one GET with `Range: bytes=offset-`."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.opens: list[int] = []
        self.read_sizes: list[int] = []
        self.bytes_read = 0
        self.closes = 0
        self.fail_next_open = 0
        self.stream_options: deque[dict[str, Any]] = deque()
        self.on_read: Callable[[int], None] | None = None

    def open(self, offset: int) -> FakeStream:
        self.opens.append(offset)
        if self.fail_next_open:
            self.fail_next_open -= 1
            raise ConnectionError("simulated S3 GetObject failure")
        options = self.stream_options.popleft() if self.stream_options else {}
        return FakeStream(self, offset, on_read=self.on_read, **options)


def pattern(size: int, seed: int = 7) -> bytes:
    """Deterministic pseudo-random bytes, so a misplaced or repeated block changes the hash."""
    rng = random.Random(seed)
    piece = 1 << 20
    return b"".join(rng.randbytes(min(piece, size - i)) for i in range(0, size, piece))


class RecordingSleep:
    def __init__(self) -> None:
        self.calls: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)


# ----------------------------------------------------------------------------------- fake session


def make_response(status: int, headers: dict[str, str] | None = None, body: bytes = b"") -> requests.Response:
    response = requests.Response()
    response.status_code = status
    response.headers.update(headers or {})
    response._content = body
    return response


class ConsumingSession(requests.Session):
    """A Session whose PUT consumes the body in-process (no socket), slowly, like a slow network."""

    def __init__(self, total: int, *, per_block: Callable[[int], None] | None = None) -> None:
        super().__init__()
        self.total = total
        self.received = 0
        self.per_block = per_block
        self.hasher = hashlib.sha256()
        self.header_log: list[dict[str, str]] = []

    def put(self, url: str | bytes, data: Any = None, **kwargs: Any) -> requests.Response:
        self.header_log.append(dict(kwargs.get("headers") or {}))
        assert hasattr(data, "__len__") and hasattr(data, "__iter__")
        for block in data:
            self.received += len(block)
            self.hasher.update(block)
            if self.per_block is not None:
                self.per_block(self.received)
        status = 201 if self.received == self.total else 206
        return make_response(status, {"Content-Range": f"bytes 0-{self.received - 1}/{self.total}"})


def iter_blocks(data: bytes, size: int) -> Iterable[bytes]:
    for i in range(0, len(data), size):
        yield data[i : i + size]
