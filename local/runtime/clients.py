"""boto3 clients bound to a LocalAws, kept apart because making one is slow: one boto3 session serves
the whole process and each runtime caches its clients per service and endpoint."""

from __future__ import annotations

import functools
import threading
from typing import Any

# moto accepts any credentials; these keep boto3 from looking for real ones.
FAKE_CREDENTIALS = dict.fromkeys(
    ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"), "testing"
)


@functools.cache
def _session() -> Any:
    """One boto3 session for every runtime of the process: a new session reloads botocore's endpoint and
    service data (about 0.1 s per client)."""
    import boto3

    return boto3.session.Session()


class ClientCache:
    """One client per service and endpoint (None: in process, intercepted by the mock)."""

    def __init__(self, region: str) -> None:
        self.region = region
        self._clients: dict[str, Any] = {}
        self._lock = threading.Lock()

    def get(self, service: str, endpoint_url: str | None) -> Any:
        key = f"{service}@{endpoint_url}"
        with self._lock:
            if key not in self._clients:
                self._clients[key] = _session().client(
                    service,
                    region_name=self.region,
                    endpoint_url=endpoint_url,
                    aws_access_key_id=FAKE_CREDENTIALS["AWS_ACCESS_KEY_ID"],
                    aws_secret_access_key=FAKE_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
                )
            return self._clients[key]

    def clear(self) -> None:
        self._clients.clear()
