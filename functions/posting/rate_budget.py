"""Per-token request budgets kept before TikTok enforces them (init 6, creator_info 20, status 30 a minute).

Every TikTok call a step makes first takes a slot in its sliding-minute ledger. When the minute is full,
the step waits for the earliest slot if that is soon, and otherwise hands the wait to the state machine
(TransientStepError, retried with backoff), so TikTok never has to answer 429.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable

from functions.posting.errors import TransientStepError
from functions.posting.quota import MINUTE, RATE_LIMITS
from functions.store.quota import Full, SlotLedger, ledger_key

MAX_INLINE_WAIT_SECONDS = 65  # a sliding minute always frees a slot within this


class RateBudget:
    def __init__(
        self,
        ledger: SlotLedger,
        *,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
        max_inline_wait: float = MAX_INLINE_WAIT_SECONDS,
    ) -> None:
        self._ledger = ledger
        self._clock = clock
        self._sleep = sleep
        self._max_wait = max_inline_wait

    def take(self, account_id: str, endpoint: str) -> None:
        """Hold one request of `endpoint` ("init", "creator_info", "status") for the account's token."""
        capacity = RATE_LIMITS[endpoint]
        holder = secrets.token_hex(8)
        key = ledger_key(f"rate:{endpoint}", account_id)
        waited = 0.0
        while True:
            now = int(self._clock())
            result = self._ledger.reserve(
                key, capacity=capacity, window_seconds=MINUTE, holder=holder, now=now
            )
            if not isinstance(result, Full):
                return
            pause = max(result.earliest_free_at - self._clock(), 0.05)
            if waited + pause > self._max_wait:
                raise TransientStepError(
                    f"TikTok allows {capacity} {endpoint} requests a minute per account; waiting for the next"
                )
            self._sleep(pause)
            waited += pause
