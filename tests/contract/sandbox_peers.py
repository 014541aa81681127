"""The sandbox's counterparts in tests: a webhook receiver and a media origin for PULL_FROM_URL."""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        if not isinstance(sys.exc_info()[1], ConnectionError | TimeoutError):
            super().handle_error(request, client_address)


class _Server:
    def __init__(self, handler: type[BaseHTTPRequestHandler]) -> None:
        self.httpd = _QuietServer(("127.0.0.1", 0), handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes
    status: int


@dataclass
class WebhookReceiver:
    """Records every POST; answers with the queued statuses first, then `default_status`."""

    received: list[Received] = field(default_factory=list)
    statuses: list[int] = field(default_factory=list)
    default_status: int = 200
    lock: threading.Lock = field(default_factory=threading.Lock)
    server: _Server | None = None

    def start(self) -> WebhookReceiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                with receiver.lock:
                    status = receiver.statuses.pop(0) if receiver.statuses else receiver.default_status
                    receiver.received.append(Received(dict(self.headers.items()), body, status))
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = _Server(Handler)
        self.server.start()
        return self

    @property
    def url(self) -> str:
        assert self.server is not None
        return self.server.url + "/webhooks/tiktok"

    def clear(self) -> None:
        with self.lock:
            self.received.clear()
            self.statuses.clear()
            self.default_status = 200

    def events(self, name: str | None = None) -> list[Received]:
        import json

        with self.lock:
            items = list(self.received)
        return [r for r in items if name is None or json.loads(r.body)["event"] == name]

    def wait_for(self, predicate: Callable[[list[Received]], bool], timeout: float = 10.0) -> list[Received]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                items = list(self.received)
            if predicate(items):
                return items
            time.sleep(0.01)
        raise AssertionError(f"webhook condition not met within {timeout}s; received {len(items)} deliveries")

    def stop(self) -> None:
        if self.server is not None:
            self.server.stop()


@dataclass
class MediaOrigin:
    """Serves registered bytes under /media/...; a path can instead redirect, fail, or stall."""

    files: dict[str, bytes] = field(default_factory=dict)
    redirects: dict[str, str] = field(default_factory=dict)
    failures: dict[str, int] = field(default_factory=dict)
    stalls: dict[str, threading.Event] = field(default_factory=dict)
    requests: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    server: _Server | None = None

    def start(self) -> MediaOrigin:
        origin = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                with origin.lock:
                    origin.requests.append(self.path)
                    data = origin.files.get(self.path)
                    target = origin.redirects.get(self.path)
                    failure = origin.failures.get(self.path)
                    stall = origin.stalls.get(self.path)
                if target is not None:
                    self.send_response(302)
                    self.send_header("Location", target)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                if failure is not None or data is None:
                    self.send_response(failure or 404)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                self.send_response(200)
                self.send_header("Content-Type", "application/octet-stream")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                if stall is not None:
                    # Half the bytes, then wait: a download that is visibly in progress.
                    self.wfile.write(data[: len(data) // 2])
                    self.wfile.flush()
                    stall.wait(10)
                    self.wfile.write(data[len(data) // 2 :])
                else:
                    self.wfile.write(data)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = _Server(Handler)
        self.server.start()
        return self

    @property
    def url(self) -> str:
        assert self.server is not None
        return self.server.url

    def add(self, name: str, data: bytes) -> str:
        with self.lock:
            self.files[f"/media/{name}"] = data
        return f"{self.url}/media/{name}"

    def add_redirect(self, name: str, target: str) -> str:
        with self.lock:
            self.redirects[f"/media/{name}"] = target
        return f"{self.url}/media/{name}"

    def add_stall(self, name: str, data: bytes) -> tuple[str, threading.Event]:
        release = threading.Event()
        with self.lock:
            self.files[f"/media/{name}"] = data
            self.stalls[f"/media/{name}"] = release
        return f"{self.url}/media/{name}", release

    def clear(self) -> None:
        with self.lock:
            for event in self.stalls.values():
                event.set()
            self.files.clear()
            self.redirects.clear()
            self.failures.clear()
            self.stalls.clear()
            self.requests.clear()

    def stop(self) -> None:
        self.clear()
        if self.server is not None:
            self.server.stop()
