"""boto3 clients bound to a LocalAws, kept apart because making one is slow: one boto3 session serves
the whole process and each runtime caches its clients per service and endpoint."""

from __future__ import annotations

import functools
import threading
from typing import Any

# The operator's keys (the runtime itself, tests): moto accepts any, and IAM is not enforced for them.
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

    def get(self, service: str, endpoint_url: str | None, credentials: dict[str, str] | None = None) -> Any:
        """The operator's client, or one signed with `credentials` (a function role's session)."""
        keys = credentials or FAKE_CREDENTIALS
        cache_key = f"{service}@{endpoint_url}@{keys['AWS_ACCESS_KEY_ID']}"
        with self._lock:
            if cache_key not in self._clients:
                self._clients[cache_key] = _session().client(
                    service,
                    region_name=self.region,
                    endpoint_url=endpoint_url,
                    aws_access_key_id=keys["AWS_ACCESS_KEY_ID"],
                    aws_secret_access_key=keys["AWS_SECRET_ACCESS_KEY"],
                    aws_session_token=keys.get("AWS_SESSION_TOKEN") if credentials else None,
                )
            return self._clients[cache_key]

    def clear(self) -> None:
        self._clients.clear()
