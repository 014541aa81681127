"""Bounded retries with full-jitter exponential backoff, and Retry-After parsing.

Full jitter (a uniform wait in [0, min(cap, base * 2**n)]) spreads retries from many Lambdas apart
(AWS Well-Architected REL05-BP03). Pure stdlib.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from email.utils import parsedate_to_datetime


@dataclass(frozen=True)
class Backoff:
    max_attempts: int = 4  # attempts in total, the first included
    base_delay: float = 0.5
    max_delay: float = 8.0
    # A Retry-After longer than this is not slept inside a Lambda: the error goes back to the caller
    # (with .retry_after) so the workflow can wait without paying for an idle function.
    max_retry_after: float = 20.0

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        if self.base_delay < 0 or self.max_delay < 0 or self.max_retry_after < 0:
            raise ValueError("delays must be >= 0")

    def delay(self, retry_number: int, rng: random.Random) -> float:
        """The wait before retry number `retry_number` (0 for the first retry): full jitter, capped."""
        ceiling = min(self.max_delay, self.base_delay * (2 ** min(retry_number, 32)))
        return rng.uniform(0.0, ceiling)


def parse_retry_after(value: str | None, now: float) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or an HTTP date); None if absent or bad."""
    if value is None:
        return None
    text = value.strip()
    if not text:
        return None
    if text.isdigit():
        return float(int(text))
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        return None
    return max(0.0, when.timestamp() - now)
