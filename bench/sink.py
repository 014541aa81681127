"""A minimal HTTP/1.1 upload sink, run in its own process: `python -m bench.sink [--port N]`.

It reads each request body by `Content-Length` (1 MiB `recv_into`, nothing kept) and answers at once:
- a PUT with `Content-Range: bytes FIRST-LAST/TOTAL` answers like TikTok's upload URL: 206 with
  `Content-Range: bytes 0-LAST/TOTAL` while bytes are missing, 201 for the last chunk;
- any other PUT answers 201;
- `GET /stats` answers `{"bytes": n, "puts": n, "bad": n}` (bytes received since start) as JSON;
- a request with `Transfer-Encoding` is refused with 400 (HTTP forbids it next to `Content-Length`).

Keep-alive, one thread per connection. The first line on stdout is its base URL. It is the cheapest
receiver Python can be, so that the upload benchmark measures the sender, not the receiver.
"""

from __future__ import annotations

import argparse
import json
import re
import socket
import sys
import threading

BLOCK = 1024 * 1024
_RANGE = re.compile(rb"bytes (\d+)-(\d+)/(\d+)")


class _Stats:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.bytes = 0
        self.puts = 0
        self.bad = 0


def _read_head(conn: socket.socket, pending: bytearray) -> bytes | None:
    """The request head (up to the blank line); the rest stays in `pending`."""
    while b"\r\n\r\n" not in pending:
        piece = conn.recv(65536)
        if not piece:
            return None
        pending += piece
    end = pending.index(b"\r\n\r\n") + 4
    head = bytes(pending[:end])
    del pending[:end]
    return head


def _answer(status: int, reason: str, headers: list[tuple[str, str]], body: bytes = b"") -> bytes:
    lines = [
        f"HTTP/1.1 {status} {reason}",
        f"Content-Length: {len(body)}",
        *(f"{k}: {v}" for k, v in headers),
    ]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def _serve(conn: socket.socket, stats: _Stats) -> None:
    buffer = memoryview(bytearray(BLOCK))
    pending = bytearray()
    with conn:
        while True:
            head = _read_head(conn, pending)
            if head is None:
                return
            request_line, _, raw_headers = head.partition(b"\r\n")
            method = request_line.split(b" ", 1)[0]
            headers: dict[bytes, bytes] = {}
            for line in raw_headers.split(b"\r\n"):
                name, sep, value = line.partition(b":")
                if sep:
                    headers[name.strip().lower()] = value.strip()
            if b"transfer-encoding" in headers:
                with stats.lock:
                    stats.bad += 1
                conn.sendall(_answer(400, "Bad Request", [("Connection", "close")]))
                return
            length = int(headers.get(b"content-length", b"0"))
            # Body: first what came with the head, then straight from the socket into one buffer.
            taken = min(len(pending), length)
            del pending[:taken]
            remaining = length - taken
            while remaining:
                got = conn.recv_into(buffer, min(BLOCK, remaining))
                if not got:
                    return
                remaining -= got
            with stats.lock:
                stats.bytes += length
                if method == b"PUT":
                    stats.puts += 1
            if method == b"GET":
                with stats.lock:
                    body = json.dumps({"bytes": stats.bytes, "puts": stats.puts, "bad": stats.bad}).encode()
                conn.sendall(_answer(200, "OK", [("Content-Type", "application/json")], body))
                continue
            match = _RANGE.fullmatch(headers.get(b"content-range", b""))
            if match is None:
                conn.sendall(_answer(201, "Created", []))
                continue
            last, total = int(match.group(2)), int(match.group(3))
            progress = [("Content-Range", f"bytes 0-{last}/{total}")]
            if last + 1 >= total:
                conn.sendall(_answer(201, "Created", progress))
            else:
                conn.sendall(_answer(206, "Partial Content", progress))


def serve_forever(port: int) -> None:
    stats = _Stats()
    listener = socket.create_server(("127.0.0.1", port), backlog=64)
    print(f"http://127.0.0.1:{listener.getsockname()[1]}", flush=True)
    while True:
        conn, _ = listener.accept()
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        threading.Thread(target=_serve, args=(conn, stats), daemon=True).start()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args(argv)
    try:
        serve_forever(args.port)
    except KeyboardInterrupt:
        return 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
