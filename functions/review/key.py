"""The review-link key, from Secrets Manager (a random string CDK generates; never logged).

Read through Powertools' parameters utility, which caches it for five minutes, like the TikTok app secret
(functions/store/secrets.py). Rotating it (a new random value) voids every open review link.
"""

from __future__ import annotations

from typing import Any

from functions.review.links import MIN_KEY_BYTES
from functions.store.errors import SecretInvalidError, StoreError

KEY_MAX_AGE_SECONDS = 300


def review_link_key(secret_arn: str) -> bytes:
    from aws_lambda_powertools.utilities import parameters  # noqa: PLC0415 - heavy, needed by two functions

    try:
        value: Any = parameters.get_secret(secret_arn, max_age=KEY_MAX_AGE_SECONDS)
    except parameters.GetParameterError as exc:
        raise StoreError(f"cannot read the review-link key {secret_arn}: {exc}") from exc
    key = value.encode() if isinstance(value, str) else bytes(value)
    if len(key.strip()) < MIN_KEY_BYTES:
        raise SecretInvalidError(
            f"the review-link key {secret_arn} must hold at least {MIN_KEY_BYTES} characters"
        )
    return key.strip()
