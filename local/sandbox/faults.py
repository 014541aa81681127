"""Turns the Faults settings into decisions, one call at a time (counters are consumed here)."""

from __future__ import annotations

import random
import threading

from local.sandbox.config import Faults
from local.sandbox.endpoints import ANY_PATH


class FaultInjector:
    def __init__(self, faults: Faults, seed: int | None) -> None:
        self._lock = threading.Lock()
        self._faults = Faults.from_dict(faults.to_dict())
        self._random = random.Random(seed)  # nosec B311

    @property
    def faults(self) -> Faults:
        with self._lock:
            return Faults.from_dict(self._faults.to_dict())

    def replace(self, faults: Faults) -> None:
        with self._lock:
            self._faults = faults

    def restart(self, faults: Faults, seed: int | None) -> None:
        """As right after start: these faults, and the random draws from `seed` again (a seeded sandbox
        injects the same faults after every reset)."""
        with self._lock:
            self._faults = faults
            self._random = random.Random(seed)  # nosec B311

    def update(self, raw: object) -> Faults:
        """Merge the keys of a POST /_sandbox/faults body; raises ValueError on a bad schema."""
        with self._lock:
            self._faults = Faults.from_dict(raw, base=self._faults)
            return Faults.from_dict(self._faults.to_dict())

    def slow_seconds(self, path: str) -> float:
        with self._lock:
            table = self._faults.slow_seconds
            return table.get(path, table.get(ANY_PATH, 0.0))

    def take_429(self, path: str) -> bool:
        with self._lock:
            burst = self._faults.status_429_burst
            for key in (path, ANY_PATH):
                if burst.get(key, 0) > 0:
                    burst[key] -= 1
                    return True
            return False

    def take_5xx(self, path: str) -> int | None:
        """The status of an injected server error for this call, or None."""
        with self._lock:
            rates = self._faults.error_rate
            rate = rates.get(path, rates.get(ANY_PATH, 0.0))
            if rate > 0 and self._random.random() < rate:
                return self._faults.error_status
            return None

    def take_drop_mid_put(self) -> bool:
        return self._take("drop_connection_mid_put")

    def take_drop_after_put(self) -> bool:
        return self._take("drop_connection_after_put")

    def take_drop_after_init(self) -> bool:
        return self._take("drop_connection_after_init")

    def _take(self, counter: str) -> bool:
        """One of the next N calls a counted fault names: True (and one fewer left) while N > 0."""
        with self._lock:
            left = getattr(self._faults, counter)
            if left > 0:
                setattr(self._faults, counter, left - 1)
                return True
            return False

    def upload_urls_expired(self) -> bool:
        with self._lock:
            return self._faults.expire_upload_urls

    def duplicate_webhooks(self) -> bool:
        with self._lock:
            return self._faults.duplicate_webhooks

    def take_post_failure(self) -> str | None:
        with self._lock:
            if self._faults.fail_next_posts:
                return self._faults.fail_next_posts.pop(0)
            return None
