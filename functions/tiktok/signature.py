"""TikTok webhook signatures: `TikTok-Signature: t=<unix seconds>,s=<hex HMAC-SHA256>`.

The signed payload is `<t>.<raw body>`, keyed with the app's client_secret
(docs/reference/tiktok-api.md §6.4). `verify` never raises on any header value: every malformed input is a
rejection with a reason, so the webhook answers 401, never 500. It checks the signature's shape (64 ASCII
hex digits) before comparing, because `hmac.compare_digest` raises TypeError on a str holding non-ASCII
characters, and compares bytes.

Pure stdlib: imported on the cold path of the webhook Lambda.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass

HEADER_NAME = "TikTok-Signature"
# A genuine header is ~80 characters; anything far longer is not worth parsing.
MAX_HEADER_LENGTH = 1024
_MAX_TIMESTAMP_DIGITS = 12
_HEX_DIGITS = frozenset(b"0123456789abcdef")
_DIGITS = frozenset("0123456789")


@dataclass(frozen=True)
class SignatureCheck:
    """The verdict: `ok`, a short machine-friendly `reason`, and the timestamp when one could be read."""

    ok: bool
    reason: str
    timestamp: int | None = None

    def __bool__(self) -> bool:
        return self.ok


Body = bytes | bytearray | memoryview


# A sender's clock may run a little ahead of ours; a timestamp further ahead is refused whatever the tolerance.
MAX_FUTURE_SKEW_SECONDS = 300


def _digest(secret: str, timestamp: int, body: Body) -> bytes:
    payload = str(timestamp).encode("ascii") + b"." + bytes(body)
    return hmac.new(secret.encode("utf-8"), payload, hashlib.sha256).hexdigest().encode("ascii")


def sign(secret: str, body: Body, timestamp: int) -> str:
    """The header value TikTok would send for `body` at `timestamp` (for tests and the local sandbox)."""
    if timestamp < 0:
        raise ValueError("timestamp must be a non-negative number of Unix seconds")
    return f"t={int(timestamp)},s={_digest(secret, int(timestamp), body).decode('ascii')}"


def _parse(header: str) -> tuple[str, str] | str:
    """(t, s) as text, or the reason the header is malformed."""
    values: dict[str, str] = {}
    for part in header.split(","):
        key, sep, value = part.partition("=")
        key = key.strip().lower()
        if not sep or key not in ("t", "s"):
            continue  # unknown elements are ignored, as Stripe's scheme does for forward compatibility
        if key in values:
            return "duplicate element"
        values[key] = value.strip()
    if "t" not in values or "s" not in values:
        return "missing element"
    return values["t"], values["s"]


def verify(  # noqa: PLR0911 - one early return per rejection reason reads clearest
    secret: str, header: str | None, body: Body, *, now: int, tolerance_seconds: int
) -> SignatureCheck:
    """Check `header` against the raw `body`; accept a timestamp up to `tolerance_seconds` old (TikTok's
    genuine retries re-send it for up to 72 hours) and at most MAX_FUTURE_SKEW_SECONDS ahead of `now` (a
    clock a little ahead of ours; anything further is not a retry, it is forged or broken).

    Never raises for any header; raises ValueError only for a negative tolerance, a programming error.
    """
    if tolerance_seconds < 0:
        raise ValueError("tolerance_seconds must be >= 0")
    if not secret:
        return SignatureCheck(False, "no secret configured")
    if not isinstance(header, str) or not header.strip():
        return SignatureCheck(False, "missing header")
    if len(header) > MAX_HEADER_LENGTH:
        return SignatureCheck(False, "header too long")
    parsed = _parse(header)
    if isinstance(parsed, str):
        return SignatureCheck(False, parsed)
    t_text, s_text = parsed

    if not (0 < len(t_text) <= _MAX_TIMESTAMP_DIGITS and all(c in _DIGITS for c in t_text)):
        return SignatureCheck(False, "malformed timestamp")
    timestamp = int(t_text)

    # Shape first: ASCII only, then exactly 64 hex digits (either case), so the compare cannot raise.
    if not s_text.isascii() or len(s_text) != 64:
        return SignatureCheck(False, "malformed signature", timestamp)
    given = s_text.lower().encode("ascii")
    if not all(b in _HEX_DIGITS for b in given):
        return SignatureCheck(False, "malformed signature", timestamp)

    if not isinstance(body, bytes | bytearray | memoryview):
        return SignatureCheck(False, "body is not bytes", timestamp)
    expected = _digest(secret, timestamp, body)
    if not hmac.compare_digest(expected, given):
        return SignatureCheck(False, "signature mismatch", timestamp)
    if timestamp - now > MAX_FUTURE_SKEW_SECONDS:
        return SignatureCheck(False, "timestamp in the future", timestamp)
    if now - timestamp > tolerance_seconds:
        return SignatureCheck(False, "timestamp outside tolerance", timestamp)
    return SignatureCheck(True, "ok", timestamp)
