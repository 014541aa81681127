"""Where the runtime's CloudFormation custom resources answer: a one-request HTTP server on loopback that
takes the PUT a Lambda-backed custom resource sends to its pre-signed `ResponseURL`."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from types import TracebackType
from typing import Any


class ResponseCatcher:
    """`url` for the request's ResponseURL; `answer()` the JSON document the resource PUT there."""

    def __init__(self) -> None:
        self._body: dict[str, Any] | None = None
        self._arrived = threading.Event()
        catcher = self

        class Handler(BaseHTTPRequestHandler):
            def do_PUT(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                catcher._body = json.loads(self.rfile.read(length) or b"{}")
                catcher._arrived.set()
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                return

        self._server = HTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True, name="cfn-response")

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}/cloudformation-response"

    def __enter__(self) -> ResponseCatcher:
        self._thread.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._server.shutdown()
        self._server.server_close()

    def answer(self, timeout: float = 30.0) -> dict[str, Any]:
        if not self._arrived.wait(timeout):
            raise TimeoutError("the custom resource never answered CloudFormation")
        return self._body or {}
