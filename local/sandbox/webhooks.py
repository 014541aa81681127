"""Signed webhook deliveries, at least once (docs/reference/tiktok-api.md §6): retries with exponential
backoff on
anything but HTTP 200 for up to 72 h, an optional duplicate of every delivery."""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import requests

from local.sandbox.clock import SandboxClock, Scheduler
from local.sandbox.config import SandboxConfig
from local.sandbox.faults import FaultInjector


def sign(client_secret: str, timestamp: int, body: bytes) -> str:
    """The `TikTok-Signature` value: HMAC-SHA256 (hex) of f"{t}.{raw body}" keyed with the secret."""
    digest = hmac.new(client_secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},s={digest}"


@dataclass
class Attempt:
    at: float
    signature: str
    status_code: int | None = None
    error: str = ""


@dataclass
class Delivery:
    delivery_id: int
    url: str
    event: str
    user_openid: str
    body: bytes
    created_at: float
    duplicate_of: int | None = None
    state: str = "pending"  # pending | delivered | dropped
    attempts: list[Attempt] = field(default_factory=list)
    next_attempt_at: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.delivery_id,
            "url": self.url,
            "event": self.event,
            "user_openid": self.user_openid,
            "body": self.body.decode(),
            "payload": json.loads(self.body),
            "created_at": self.created_at,
            "duplicate_of": self.duplicate_of,
            "state": self.state,
            "next_attempt_at": self.next_attempt_at,
            "attempts": [
                {"at": a.at, "status_code": a.status_code, "error": a.error, "signature": a.signature}
                for a in self.attempts
            ],
        }


class WebhookDispatcher:
    def __init__(
        self,
        config: SandboxConfig,
        clock: SandboxClock,
        scheduler: Scheduler,
        faults: FaultInjector,
        submit: Callable[[Callable[[], None]], None],
    ) -> None:
        self._config = config
        self._clock = clock
        self._scheduler = scheduler
        self._faults = faults
        self._submit = submit
        self._lock = threading.Lock()
        self._deliveries: list[Delivery] = []
        self._ids = itertools.count(1)
        self._generation = 0

    def emit(self, event: str, open_id: str, content: dict[str, Any]) -> None:
        """Queue one event for every configured URL (TikTok has one callback URL per app; the sandbox
        accepts several so two local receivers can listen)."""
        payload = {
            "client_key": self._config.client_key,
            "event": event,
            "create_time": int(self._clock.now()),
            "user_openid": open_id,
            "content": json.dumps(content, separators=(",", ":")),
        }
        body = json.dumps(payload, separators=(",", ":")).encode()
        for url in self._config.webhook_urls:
            self._queue(url, event, open_id, body, duplicate_of=None)

    def _queue(self, url: str, event: str, open_id: str, body: bytes, duplicate_of: int | None) -> None:
        with self._lock:
            delivery = Delivery(next(self._ids), url, event, open_id, body, self._clock.now(), duplicate_of)
            self._deliveries.append(delivery)
            generation = self._generation
        self._submit(lambda: self._attempt(delivery, generation))

    def deliveries(self) -> list[dict[str, Any]]:
        with self._lock:
            return [d.to_dict() for d in self._deliveries]

    def clear(self) -> None:
        with self._lock:
            self._generation += 1
            self._deliveries.clear()

    def _attempt(self, delivery: Delivery, generation: int) -> None:
        with self._lock:
            if generation != self._generation:
                return
        now = self._clock.now()
        signature = sign(self._config.client_secret, int(now), delivery.body)
        attempt = Attempt(at=now, signature=signature)
        try:
            with requests.Session() as session:
                session.trust_env = False  # never through a proxy from the environment
                response = session.post(
                    delivery.url,
                    data=delivery.body,
                    headers={"Content-Type": "application/json", "TikTok-Signature": signature},
                    timeout=self._config.webhook_timeout_seconds,
                    allow_redirects=False,
                )
                attempt.status_code = response.status_code
        except requests.RequestException as exc:
            attempt.error = type(exc).__name__
        with self._lock:
            if generation != self._generation:
                return
            delivery.attempts.append(attempt)
            # §6.1: only an immediate 200 counts; any other answer is a failed delivery.
            if attempt.status_code == 200:
                delivery.state = "delivered"
                delivery.next_attempt_at = None
                duplicate = delivery.duplicate_of is None and self._faults.duplicate_webhooks()
            else:
                duplicate = False
                backoff = min(
                    self._config.webhook_retry_base_seconds * 2 ** (len(delivery.attempts) - 1),
                    self._config.webhook_retry_max_seconds,
                )
                due = self._clock.now() + backoff / self._config.time_scale
                if due - delivery.created_at > self._config.webhook_give_up_seconds:
                    delivery.state = "dropped"
                    delivery.next_attempt_at = None
                else:
                    delivery.next_attempt_at = due
                    self._scheduler.call_at(due, lambda: self._attempt(delivery, generation))
        if duplicate:
            self._queue(
                delivery.url, delivery.event, delivery.user_openid, delivery.body, delivery.delivery_id
            )
