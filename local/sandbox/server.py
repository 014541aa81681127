"""The HTTP front: one ThreadingHTTPServer on 127.0.0.1 serving TikTok's auth host paths, API paths,
upload URLs and the /_sandbox/ controls; startable in-process on a free port."""

from __future__ import annotations

import contextlib
import json
import logging
import socket
import struct
import sys
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self
from urllib.parse import parse_qs, urlsplit

from local.loopback import LoopbackHttpServer
from local.sandbox import controls, display, endpoints, oauth, posting, upload
from local.sandbox.app import SandboxApp
from local.sandbox.authorize_page import error_page
from local.sandbox.clock import SandboxClock
from local.sandbox.config import SandboxConfig
from local.sandbox.errors import (
    ApiError,
    OAuthError,
    error_envelope,
    internal_error,
    oauth_error_body,
    rate_limited,
)
from local.sandbox.state import SandboxState
from local.sandbox.wire import Request, Response, json_response

log = logging.getLogger("local.sandbox.http")

MAX_BODY = 1024 * 1024  # JSON and form bodies; uploads stream instead
Endpoint = Callable[[SandboxApp, Request], Response]

ROUTES: dict[tuple[str, str], Endpoint] = {
    ("GET", endpoints.AUTHORIZE): oauth.authorize_get,
    ("POST", endpoints.AUTHORIZE): oauth.authorize_post,
    ("POST", endpoints.TOKEN): oauth.token,
    ("POST", endpoints.REVOKE): oauth.revoke,
    ("GET", endpoints.USER_INFO): display.user_info,
    ("POST", endpoints.VIDEO_LIST): display.video_list,
    ("POST", endpoints.VIDEO_QUERY): display.video_query,
    ("POST", endpoints.CREATOR_INFO): posting.creator_info,
    ("POST", endpoints.VIDEO_INIT): posting.video_init,
    ("POST", endpoints.INBOX_VIDEO_INIT): posting.inbox_video_init,
    ("POST", endpoints.CONTENT_INIT): posting.content_init,
    ("POST", endpoints.STATUS_FETCH): posting.status_fetch,
    ("POST", endpoints.CANCEL): posting.cancel,
}
KNOWN_PATHS = {path for _, path in ROUTES} | {endpoints.UPLOAD}


def failure(path: str, status: int, code: str, message: str) -> Response:
    """An error in the shape the path's family uses: HTML for the consent page, flat JSON for OAuth,
    the v2 envelope for everything else TikTok serves."""
    if path == endpoints.AUTHORIZE:
        return Response(status, error_page(message).encode(), "text/html; charset=UTF-8")
    if path in endpoints.OAUTH_PATHS:
        # 500 is TikTok's server_error; a 429 or a 502-504 means "try again shortly".
        if status == 500:
            error = "server_error"
        elif status == 429 or status > 500:
            error = "temporarily_unavailable"
        else:
            error = "invalid_request"
        return json_response(status, oauth_error_body(OAuthError(error, message, status)))
    return json_response(status, error_envelope(ApiError(status, code, message)))


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: chunk PUTs reuse one connection
    server_version = "TikTokSandbox/1.0"
    rbufsize = 256 * 1024
    timeout = 300  # an idle keep-alive connection is closed after this many seconds
    app: SandboxApp
    connections: set[socket.socket]
    connections_lock: threading.Lock

    def setup(self) -> None:
        super().setup()
        # Headers and body leave in separate writes; without NODELAY, Nagle plus the client's
        # delayed ACK adds ~40 ms to every small answer.
        with contextlib.suppress(OSError):
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        with self.connections_lock:
            self.connections.add(self.connection)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            with self.connections_lock:
                self.connections.discard(self.connection)

    def version_string(self) -> str:
        return self.server_version

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("%s " + format, self.address_string(), *args)

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """Errors http.server raises itself (malformed request line, oversized headers, unknown
        method) still get TikTok's envelope."""
        self.close_connection = True
        # A request line too broken to name its version is answered as HTTP/1.1 anyway: nobody
        # speaks 0.9, and a status line is what every client can read.
        self.request_version = "HTTP/1.1"
        status = code if 400 <= code < 600 else 400
        err = ApiError(
            status, "invalid_params" if status < 500 else "internal_error", message or "Bad request."
        )
        body = json.dumps(error_envelope(err)).encode()
        try:
            self.send_response(status, message)
            self.send_header("Content-Type", "application/json; charset=UTF-8")
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Connection", "close")
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)
        except OSError:
            pass

    def do_GET(self) -> None:
        self._handle()

    def do_POST(self) -> None:
        self._handle()

    def do_PUT(self) -> None:
        self._handle()

    def do_DELETE(self) -> None:
        self._handle()

    def do_PATCH(self) -> None:
        self._handle()

    def do_HEAD(self) -> None:
        self._handle()

    def do_OPTIONS(self) -> None:
        self._handle()

    def _handle(self) -> None:
        split = urlsplit(self.path)
        path = split.path
        query = parse_qs(split.query, keep_blank_values=True)
        try:
            if path.startswith(controls.PREFIX):
                response = self._with_body(path, lambda req: controls.handle(self.app, req), query)
            elif path == endpoints.UPLOAD:
                response = self._upload(query)
            elif path in KNOWN_PATHS:
                response = self._tiktok(path, query)
            else:
                response = failure(path, 404, "not_found", f"No endpoint at {path}.")
                response.close = not self._discard_body(MAX_BODY)
        except Exception:
            log.exception("sandbox request failed: %s %s", self.command, path)
            response = failure(path, 500, "internal_error", "Something went wrong. Please try again later.")
            response.close = True
        self._send(response)

    def _tiktok(self, path: str, query: dict[str, list[str]]) -> Response:
        app = self.app
        route = ROUTES.get((self.command, path))
        injected = self._injected_fault(path)
        if injected is not None or route is None:
            response = injected or failure(
                path, 405, "method_not_allowed", f"{self.command} is not allowed on {path}."
            )
            response.close = not self._discard_body(MAX_BODY)
        else:
            response = self._with_body(path, lambda req: self._run(route, req, path), query)
        token = self._caller(path)
        with app.state.lock:
            app.state.calls[(token, path)] += 1
            app.state.responses[(path, response.status)] += 1
        return response

    def _run(self, route: Endpoint, req: Request, path: str) -> Response:
        try:
            return route(self.app, req)
        except ApiError as err:
            return json_response(err.status, error_envelope(err))
        except OAuthError as err:
            return failure(path, err.status, err.error, err.description)

    def _injected_fault(self, path: str) -> Response | None:
        faults = self.app.faults
        delay = faults.slow_seconds(path)
        if delay > 0:
            time.sleep(delay)
        if faults.take_429(path):
            err = rate_limited()
            return failure(path, 429, err.code, err.message)
        status = faults.take_5xx(path)
        if status is not None:
            err = internal_error(status)
            return failure(path, status, err.code, err.message)
        return None

    def _caller(self, path: str) -> str:
        """Whom a call is counted against in /_sandbox/calls: the bearer token, or for OAuth calls
        the client key (they carry no token)."""
        scheme, _, token = (self.headers.get("Authorization") or "").partition(" ")
        if scheme.lower() == "bearer" and token.strip():
            return token.strip()
        if path in endpoints.OAUTH_PATHS or path == endpoints.AUTHORIZE:
            return "client:" + self.app.config.client_key
        return ""

    def _with_body(
        self, path: str, run: Callable[[Request], Response], query: dict[str, list[str]]
    ) -> Response:
        if self.headers.get_all("Transfer-Encoding"):
            bad = failure(
                path, 400, "invalid_params", "Transfer-Encoding is not accepted; send Content-Length."
            )
            bad.close = True
            return bad
        raw = (self.headers.get("Content-Length") or "0").strip()
        if not raw.isdigit() or int(raw) > MAX_BODY:
            bad = failure(path, 400, "invalid_params", "Content-Length is invalid or the body is too large.")
            bad.close = True
            return bad
        body = self.rfile.read(int(raw)) if int(raw) else b""
        if len(body) != int(raw):
            return Response(0, abort=True)
        return run(Request(self.command, path, query, self.headers, body))

    def _discard_body(self, limit: int) -> bool:
        """Read and drop a body that will not be used; False when that is not safely possible (no
        usable Content-Length, or too big), and the connection must then close after the answer."""
        raw = (self.headers.get("Content-Length") or "0").strip()
        if self.headers.get_all("Transfer-Encoding") or not raw.isdigit() or int(raw) > limit:
            return False
        try:
            upload.Body(self.rfile.readinto).discard(int(raw))
        except (upload.ClientGone, OSError):
            return False
        return True

    def _upload(self, query: dict[str, list[str]]) -> Response:
        app = self.app
        path = endpoints.UPLOAD
        upload_id = (query.get("upload_id") or [""])[-1]
        with app.state.lock:
            publish_id = app.state.uploads.get(upload_id, "")
            post = app.state.posts.get(publish_id)
            token = post.access_token if post else ""
        injected = self._injected_fault(path)
        if injected is not None or self.command != "PUT":
            response = injected or failure(path, 405, "method_not_allowed", "Upload URLs take PUT only.")
            # Read the refused chunk so the client sees the answer rather than a reset mid-send.
            response.close = not self._discard_body(upload.DRAIN_LIMIT)
        else:
            response = upload.handle_put(app, query, self.headers, upload.Body(self.rfile.readinto))
        with app.state.lock:
            app.state.calls[(token, path)] += 1
            app.state.responses[(path, response.status)] += 1
        return response

    def _send(self, response: Response) -> None:
        if response.abort:
            self._reset()
            return
        self.send_response(response.status)
        self.send_header("Content-Type", response.content_type)
        self.send_header("Content-Length", str(len(response.body)))
        for name, value in response.headers:
            self.send_header(name, value)
        if response.close:
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        if self.command != "HEAD" and response.body:
            self.wfile.write(response.body)

    def _reset(self) -> None:
        """Drop the connection with a TCP reset and no answer (a fault, or a client that left)."""
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that resets or times out its connection is ordinary traffic, not a sandbox bug.
        if isinstance(sys.exc_info()[1], ConnectionError | TimeoutError):
            return
        log.exception("sandbox connection from %s failed", client_address)


class SandboxServer(LoopbackHttpServer):
    """The TikTok sandbox on http://127.0.0.1:<port> (port 0 picks a free one)."""

    server_class = _HTTPServer
    poll_interval = 0.05

    def __init__(
        self,
        config: SandboxConfig | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        clock: SandboxClock | None = None,
    ) -> None:
        super().__init__(host, port)
        self.config = config or SandboxConfig()
        self.app = SandboxApp(self.config, clock)
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()

    @property
    def base_url(self) -> str:
        if not self.app.base_url:
            raise RuntimeError("the sandbox is not started")
        return self.app.base_url

    @property
    def state(self) -> SandboxState:
        return self.app.state

    @property
    def clock(self) -> SandboxClock:
        return self.app.clock

    def handler_class(self) -> type[BaseHTTPRequestHandler]:
        return type(
            "SandboxHandler",
            (_Handler,),
            {"app": self.app, "connections": self._connections, "connections_lock": self._connections_lock},
        )

    def start(self) -> Self:
        super().start()
        self.port = self.bound_port
        self.app.base_url = f"http://{self.host}:{self.port}"
        self.app.start()
        return self

    def stop(self) -> None:
        super().stop()  # stops accepting; then the connections still open (keep-alive) are cut
        with self._connections_lock:
            open_connections = list(self._connections)
        for connection in open_connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)
        self.app.stop()

    def reset(self) -> None:
        self.app.reset()
