"""CloudFront's check of a signed URL with a canned policy, for the media server standing in for the
distribution: the three signing parameters present, the key one the distribution trusts, the URL not
expired, and the RSA-SHA1 signature made over exactly this URL (any other query parameter included) and
this expiry. CloudFront answers 403 to each failure; so does the media server.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from dataclasses import dataclass

SIGNING_PARAMETERS = ("Expires", "Signature", "Key-Pair-Id")


@dataclass(frozen=True)
class Refusal:
    code: str
    message: str


def split_signed(raw_query: str) -> tuple[str, dict[str, str]]:
    """(the query CloudFront signs, i.e. without the signing parameters; the signing parameters)."""
    kept: list[str] = []
    signing: dict[str, str] = {}
    for part in raw_query.split("&") if raw_query else []:
        name, _, value = part.partition("=")
        if name in SIGNING_PARAMETERS:
            signing[name] = value
        else:
            kept.append(part)
    return "&".join(kept), signing


def _cloudfront_b64decode(text: str) -> bytes:
    return base64.b64decode(text.replace("-", "+").replace("_", "=").replace("~", "/"), validate=True)


class _Refused(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.refusal = Refusal(code, message)


def check_signed_url(
    resource: str, signing: Mapping[str, str], trusted_keys: Mapping[str, str], now: float
) -> Refusal | None:
    """None when CloudFront would serve `resource` (the URL without its signing parameters)."""
    try:
        _check(resource, signing, trusted_keys, now)
    except _Refused as refused:
        return refused.refusal
    return None


def _check(resource: str, signing: Mapping[str, str], trusted_keys: Mapping[str, str], now: float) -> None:
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import padding, rsa

    missing = [name for name in SIGNING_PARAMETERS if not signing.get(name)]
    if missing:
        raise _Refused("MissingKey", f"Missing {', '.join(missing)} query parameter(s)")
    key_pem = trusted_keys.get(signing["Key-Pair-Id"])
    key = serialization.load_pem_public_key(key_pem.encode()) if key_pem else None
    if not isinstance(key, rsa.RSAPublicKey):
        raise _Refused("AccessDenied", "Unknown Key")
    if not signing["Expires"].isdigit():
        raise _Refused("AccessDenied", "Malformed Expires")
    if int(signing["Expires"]) <= now:
        raise _Refused("AccessDenied", "Access denied: request has expired")
    policy = (
        '{"Statement":[{"Resource":"'
        + resource
        + '","Condition":{"DateLessThan":{"AWS:EpochTime":'
        + signing["Expires"]
        + "}}}]}"
    )
    try:
        signature = _cloudfront_b64decode(signing["Signature"])
        # CloudFront checks canned-policy signatures with RSA-SHA1, as it requires them to be made.
        key.verify(signature, policy.encode(), padding.PKCS1v15(), hashes.SHA1())  # noqa: S303  # nosec B303
    except (binascii.Error, ValueError, InvalidSignature):
        raise _Refused("AccessDenied", "Access denied: invalid signature") from None
