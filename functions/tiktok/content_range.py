"""The Content-Range header of the chunk upload protocol (docs/reference/tiktok-api.md §3.2-3.3).

Requests carry `bytes {FIRST}-{LAST}/{TOTAL}` (inclusive, zero-based). Every TikTok response carries
`bytes 0-{N}/{TOTAL}`: what it holds so far. HTTP (RFC 9110) reads N as the index of the last byte held;
TikTok's Media Transfer Guide calls it "the number of bytes uploaded", and integrations report both
(docs/reference/tiktok-in-the-field.md §1). So an answer means one of two byte counts, and the uploader
decides which against what it sent. Pure stdlib.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_RANGE = re.compile(r"^\s*bytes\s+(\d{1,15})-(\d{1,15})/(\d{1,15}|\*)\s*$", re.IGNORECASE)
_NOTHING = re.compile(r"^\s*bytes\s+\*/(\d{1,15}|\*)\s*$", re.IGNORECASE)


@dataclass(frozen=True)
class ReceivedRange:
    held: tuple[int, ...]  # the byte counts (from byte 0) the answer may mean: the HTTP reading first
    total: int | None


def request_header(first: int, last: int, total: int) -> str:
    return f"bytes {first}-{last}/{total}"


def parse_received(header: str | None) -> ReceivedRange | None:
    """What a response's Content-Range says was received, or None when absent or not understood.

    `bytes 0-{N}/{TOTAL}` means N + 1 bytes (HTTP) or N bytes (TikTok's guide), whichever of the two fits
    within TOTAL; `bytes */{TOTAL}` (RFC 9110's form for "none") means 0. A range that does not start at
    byte 0 says nothing about progress from the start, so it is ignored.
    """
    if not header:
        return None
    match = _RANGE.match(header)
    if match:
        first, last = int(match.group(1)), int(match.group(2))
        total = None if match.group(3) == "*" else int(match.group(3))
        held = tuple(n for n in (last + 1, last) if total is None or n <= total)
        if first != 0 or not held:
            return None
        return ReceivedRange(held=held, total=total)
    match = _NOTHING.match(header)
    if match:
        return ReceivedRange(held=(0,), total=None if match.group(1) == "*" else int(match.group(1)))
    return None
