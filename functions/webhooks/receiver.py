"""POST /webhooks/tiktok: verify the signature on the raw bytes, enqueue, answer at once.

Nothing is parsed before the signature holds. A missing, malformed or wrong signature, a timestamp outside
the tolerance or another app's client_key is answered 401 and changes nothing. The work happens behind
SQS, so TikTok gets its 200 in milliseconds.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from typing import Any

from functions.tiktok.signature import verify

MAX_BODY_BYTES = 256 * 1024  # SQS's message limit; TikTok's events are a few hundred bytes


@dataclass(frozen=True)
class Verdict:
    status: int
    message: str
    body: str | None = None  # the raw body to enqueue, when accepted


def raw_body(event: dict[str, Any]) -> bytes | None:
    body = event.get("body") or ""
    if not isinstance(body, str):
        return None
    if event.get("isBase64Encoded"):
        try:
            return base64.b64decode(body, validate=True)
        except (binascii.Error, ValueError):
            return None
    return body.encode("utf-8")


def signature_header(event: dict[str, Any]) -> str | None:
    headers = event.get("headers") or {}
    if not isinstance(headers, dict):
        return None
    for name, value in headers.items():
        if isinstance(name, str) and name.lower() == "tiktok-signature" and isinstance(value, str):
            return value
    return None


def judge(
    event: dict[str, Any], *, client_key: str, client_secret: str, now: int, tolerance_seconds: int
) -> Verdict:
    body = raw_body(event)
    if body is None:
        return Verdict(400, "the body could not be read")
    if len(body) > MAX_BODY_BYTES:
        return Verdict(413, "the body is too large")
    check = verify(client_secret, signature_header(event), body, now=now, tolerance_seconds=tolerance_seconds)
    if not check.ok:
        return Verdict(401, f"signature rejected: {check.reason}")
    try:
        payload = json.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError):
        return Verdict(400, "the body is not JSON")
    if not isinstance(payload, dict) or payload.get("client_key") != client_key:
        return Verdict(401, "the event is for another app (client_key)")
    return Verdict(200, "accepted", body.decode("utf-8"))
