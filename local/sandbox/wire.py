"""Requests and responses as the HTTP handler hands them to the endpoint code, and back."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from email.message import Message
from typing import Any

JSON_TYPE = "application/json; charset=UTF-8"


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: Message
    body: bytes = b""

    def header(self, name: str) -> str:
        return self.headers.get(name, "") or ""

    def media_type(self) -> str:
        return self.header("Content-Type").split(";", 1)[0].strip().lower()

    def bearer(self) -> str:
        """The token after `Bearer `, or "" when the header is missing or of another scheme."""
        scheme, _, token = self.header("Authorization").strip().partition(" ")
        return token.strip() if scheme.lower() == "bearer" else ""


@dataclass
class Response:
    status: int
    body: bytes = b""
    content_type: str = JSON_TYPE
    headers: list[tuple[str, str]] = field(default_factory=list)
    abort: bool = False  # reset the TCP connection instead of answering (a fault)
    close: bool = False  # answer, then close the connection (the request body was not read)


def json_response(status: int, payload: Any, headers: list[tuple[str, str]] | None = None) -> Response:
    # ASCII-escaped: a lone surrogate that arrived in a JSON string can be echoed back safely.
    body = json.dumps(payload, separators=(",", ":")).encode()
    return Response(status, body, JSON_TYPE, list(headers or []))
