"""POST /webhooks/tiktok: verify the signature on the raw bytes, enqueue, answer at once.

Nothing is parsed before the signature holds. A missing, malformed or wrong signature, a timestamp outside
the tolerance or another app's client_key is answered 401 and changes nothing. The work happens behind
SQS, so TikTok gets its 200 in milliseconds.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from functions.tiktok.signature import verify

MAX_BODY_BYTES = 256 * 1024  # SQS's message limit; TikTok's events are a few hundred bytes


@dataclass(frozen=True)
class Verdict:
    status: int
    message: str
    body: str | None = None  # the raw body to enqueue, when accepted


def judge(
    body: bytes | None,
    signature: str | None,
    *,
    client_key: str,
    client_secret: str,
    now: int,
    tolerance_seconds: int,
) -> Verdict:
    """The answer to a delivery: `body` is the raw request body (None when it could not be read),
    `signature` the TikTok-Signature header."""
    if body is None:
        return Verdict(400, "the body could not be read")
    if len(body) > MAX_BODY_BYTES:
        return Verdict(413, "the body is too large")
    check = verify(client_secret, signature, body, now=now, tolerance_seconds=tolerance_seconds)
    if not check.ok:
        return Verdict(401, f"signature rejected: {check.reason}")
    try:
        payload = json.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError):
        return Verdict(400, "the body is not JSON")
    if not isinstance(payload, dict) or payload.get("client_key") != client_key:
        return Verdict(401, "the event is for another app (client_key)")
    return Verdict(200, "accepted", body.decode("utf-8"))
