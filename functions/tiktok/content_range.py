"""The Content-Range header of the chunk upload protocol (reference/tiktok-api.md §3.2-3.3).

Requests carry `bytes {FIRST}-{LAST}/{TOTAL}` (inclusive, zero-based). Every TikTok response carries
`bytes 0-{LAST}/{TOTAL}`: the bytes it holds so far. Pure stdlib.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_RANGE = re.compile(r"^\s*bytes\s+(\d{1,15})-(\d{1,15})/(\d{1,15}|\*)\s*$", re.IGNORECASE)
_NOTHING = re.compile(r"^\s*bytes\s+\*/(\d{1,15}|\*)\s*$", re.IGNORECASE)


@dataclass(frozen=True)
class ReceivedRange:
    received: int  # how many bytes, from byte 0, the server holds
    total: int | None


def request_header(first: int, last: int, total: int) -> str:
    return f"bytes {first}-{last}/{total}"


def parse_received(header: str | None) -> ReceivedRange | None:
    """What a response's Content-Range says was received, or None when absent or not understood.

    `bytes 0-{LAST}/{TOTAL}` means LAST + 1 bytes; `bytes */{TOTAL}` (RFC 9110's form for "none") means 0.
    A range that does not start at byte 0 says nothing about progress from the start, so it is ignored.
    """
    if not header:
        return None
    match = _RANGE.match(header)
    if match:
        first, last = int(match.group(1)), int(match.group(2))
        total = None if match.group(3) == "*" else int(match.group(3))
        if first != 0 or last < first or (total is not None and last >= total):
            return None
        return ReceivedRange(received=last + 1, total=total)
    match = _NOTHING.match(header)
    if match:
        return ReceivedRange(received=0, total=None if match.group(1) == "*" else int(match.group(1)))
    return None
