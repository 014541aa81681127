"""Where the runtime's CloudFormation custom resources answer: a loopback HTTP server that takes the PUT a
Lambda-backed custom resource sends to its pre-signed `ResponseURL`."""

from __future__ import annotations

import json
import threading
from typing import Any

from local.loopback import LoopbackHttpServer, RequestHandler


class ResponseCatcher(LoopbackHttpServer):
    """`url` for the request's ResponseURL; `answer()` the JSON document the resource PUT there."""

    def __init__(self) -> None:
        super().__init__()
        self._body: dict[str, Any] | None = None
        self._arrived = threading.Event()

    @property
    def url(self) -> str:
        return f"{self.base_url}/cloudformation-response"

    def handle_request(self, request: RequestHandler) -> None:
        body = request.read_body()
        if request.command != "PUT":
            request.send(405, [("Allow", "PUT")], b"")
            return
        self._body = json.loads(body or b"{}")
        self._arrived.set()
        request.send(200, [], b"")

    def answer(self, timeout: float = 30.0) -> dict[str, Any]:
        if not self._arrived.wait(timeout):
            raise TimeoutError("the custom resource never answered CloudFormation")
        return self._body or {}
