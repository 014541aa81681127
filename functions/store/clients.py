"""The one place boto3 clients are made: lazily, once per service, region and endpoint.

boto3 is imported on first use, not at module import, because importing it costs hundreds of
milliseconds and many handler paths never touch AWS. boto3 itself honours `AWS_ENDPOINT_URL` and
`AWS_ENDPOINT_URL_<SERVICE>`, so the same code talks to AWS, moto or dynalite; those variables are
part of the cache key so that a changed environment (tests, the local runtime) gets a fresh client.

Credentials from the environment (what Lambda sets from the function's role) are passed to each client
and are part of its key: a boto3 session resolves credentials once, and the local runtime runs every
function, each with its own role, in one process.
"""

from __future__ import annotations

import os
import threading
from typing import Any

from functions.tracing import trace_calls

_ENDPOINT_PREFIX = "AWS_ENDPOINT_URL"

_CacheKey = tuple[str, str, tuple[tuple[str, str], ...], str]
_clients: dict[_CacheKey, Any] = {}
# One session for every client: it parses botocore's endpoint and model data once, not once per
# client (tens of milliseconds each at cold start). Creating clients on a session is not
# thread-safe, so creation holds the lock; using the clients is.
_session: Any = None
_lock = threading.Lock()


def _cache_key(service: str) -> _CacheKey:
    region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or ""
    endpoints = tuple(sorted((k, v) for k, v in os.environ.items() if k.startswith(_ENDPOINT_PREFIX)))
    return service, region, endpoints, os.environ.get("AWS_ACCESS_KEY_ID", "")


def aws_client(service: str) -> Any:
    """A low-level boto3 client for `service` ("dynamodb", "s3", "kms", ...), shared by the process."""
    key = _cache_key(service)
    client = _clients.get(key)
    if client is not None:
        return client
    with _lock:
        client = _clients.get(key)
        if client is None:
            client = _new_client(service, key[1])
            _clients[key] = client
    return client


def _new_client(service: str, region: str) -> Any:
    global _session  # noqa: PLW0603 (the one lazily built session of the process)
    # Imported here, not at the top: boto3 costs hundreds of ms to import (cold start).
    import boto3  # noqa: PLC0415
    from botocore.config import Config  # noqa: PLC0415

    trace_calls("botocore")

    if _session is None:
        _session = boto3.session.Session()
    config = Config(
        retries={"mode": "standard", "max_attempts": 4},
        connect_timeout=5,
        # S3 reads stream whole chunks to TikTok; other calls are small.
        read_timeout=60 if service == "s3" else 10,
        # Step Functions Map states and the concurrency tests share one client across threads.
        max_pool_connections=32,
        signature_version="s3v4" if service == "s3" else None,
        # Not "when_supported": botocore would then ask S3 for the object's checksum on every GET and
        # CRC every byte read, but it checks the sum only on a read past the end, which the upload stream
        # (exact chunk lengths) never makes, and a resumed range has no sum at all (docs/decisions.md).
        response_checksum_validation="when_required",
    )
    credentials: dict[str, str] = {}
    if os.environ.get("AWS_ACCESS_KEY_ID") and os.environ.get("AWS_SECRET_ACCESS_KEY"):
        credentials = {
            "aws_access_key_id": os.environ["AWS_ACCESS_KEY_ID"],
            "aws_secret_access_key": os.environ["AWS_SECRET_ACCESS_KEY"],
        }
        if os.environ.get("AWS_SESSION_TOKEN"):
            credentials["aws_session_token"] = os.environ["AWS_SESSION_TOKEN"]
    return _session.client(service, region_name=region or None, config=config, **credentials)


def reset_clients() -> None:
    """Forget every cached client and the session (tests start moto after import, and clients made
    before it are not mocked; a new session also re-reads credentials from the environment)."""
    global _session  # noqa: PLW0603
    with _lock:
        _clients.clear()
        _session = None
