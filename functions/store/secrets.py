"""The TikTok app's client key and secret, from Secrets Manager.

Read through Powertools' parameters utility, which caches the value for five minutes: a warm
function does not call Secrets Manager on every invocation, and a rotated secret is picked up soon.
Errors name the missing field, never a value. One provider (and so one cache) per client, and clients
are per credentials (clients.py): a value read by one function's role is never served to another's in
the local runtime, where every function shares one process.
"""

from __future__ import annotations

from types import ModuleType
from typing import Any

from functions.store.clients import aws_client
from functions.store.errors import SecretInvalidError, StoreError
from functions.tracing import trace_calls

SECRET_MAX_AGE_SECONDS = 300
_FIELDS = ("client_key", "client_secret")
_providers: dict[Any, Any] = {}  # secretsmanager client -> Powertools SecretsProvider


def _parameters() -> ModuleType:
    """Powertools' parameters utility, its Secrets Manager calls traced."""
    # Heavy (hundreds of ms): imported only by the functions that need a secret.
    from aws_lambda_powertools.utilities import parameters  # noqa: PLC0415

    trace_calls("botocore")
    return parameters


def provider() -> Any:
    """The Powertools SecretsProvider (and its cache) of the running function's credentials."""
    parameters = _parameters()
    client = aws_client("secretsmanager")
    found = _providers.get(client)
    if found is None:
        found = _providers[client] = parameters.SecretsProvider(boto3_client=client)
    return found


def clear_cache() -> None:
    """Forget every cached secret value (tests; a rotated secret is otherwise picked up within 5 min)."""
    _providers.clear()


def _get_secret(secret_arn: str, transform: str | None = None) -> Any:
    return provider().get(secret_arn, transform=transform, max_age=SECRET_MAX_AGE_SECONDS)


def tiktok_app_credentials(secret_arn: str) -> tuple[str, str]:
    """(client_key, client_secret) from a JSON secret {"client_key": ..., "client_secret": ...}."""
    parameters = _parameters()
    try:
        value: Any = _get_secret(secret_arn, transform="json")
    except parameters.TransformParameterError:
        raise SecretInvalidError(
            f"the TikTok app secret {secret_arn} is not JSON; store "
            '{"client_key": "...", "client_secret": "..."}'
        ) from None
    except parameters.GetParameterError as exc:
        raise StoreError(f"cannot read the TikTok app secret {secret_arn}: {exc}") from exc
    if not isinstance(value, dict):
        raise SecretInvalidError(f"the TikTok app secret {secret_arn} must be a JSON object")
    found = []
    for name in _FIELDS:
        field = value.get(name)
        if not isinstance(field, str) or not field.strip():
            raise SecretInvalidError(
                f"the TikTok app secret {secret_arn} has no {name!r} field (a non-empty string)"
            )
        found.append(field.strip())
    return found[0], found[1]


def _plain_secret(secret_arn: str, what: str) -> bytes:
    parameters = _parameters()
    try:
        value: Any = _get_secret(secret_arn)
    except parameters.GetParameterError as exc:
        raise StoreError(f"cannot read the {what} {secret_arn}: {exc}") from exc
    return (value.encode() if isinstance(value, str) else bytes(value)).strip()


def review_link_key(secret_arn: str, min_bytes: int) -> bytes:
    """The key that signs review links (a random string CDK generates). Rotating it voids open links."""
    key = _plain_secret(secret_arn, "review-link key")
    if len(key) < min_bytes:
        raise SecretInvalidError(
            f"the review-link key {secret_arn} must hold at least {min_bytes} characters"
        )
    return key


def media_signing_key(secret_arn: str) -> bytes:
    """The PEM private key whose public half CloudFront trusts for the media domain's signed URLs."""
    key = _plain_secret(secret_arn, "media signing key")
    if b"PRIVATE KEY" not in key:
        raise SecretInvalidError(f"the media signing key {secret_arn} must hold a PEM private key")
    return key


def store_secret(secret_arn: str, value: bytes) -> None:
    """A new current value for the secret (what the media signing key pair's custom resource writes)."""
    aws_client("secretsmanager").put_secret_value(SecretId=secret_arn, SecretString=value.decode())
