"""Where TikTok pulls a post's media from (PULL_FROM_URL): the verified media domain in front of the bucket.

Deployed, that domain is CloudFront over the private bucket, and every URL is a CloudFront signed URL
(canned policy, RSA-SHA1 as CloudFront requires) that expires shortly after TikTok's one-hour pull window:
the bucket is never public, and a URL opens one object version for one post. Without a signing key (the
local run, whose media server stands in for CloudFront), URLs are plain.
"""

from __future__ import annotations

import base64
import time
from urllib.parse import quote

# Where the operator puts the file TikTok's URL-prefix verification asks for; the media domain serves it,
# unsigned, at its root (`/tiktok*.txt`).
VERIFICATION_PREFIX = "tiktok-verification/"
PULL_WINDOW_SECONDS = 2 * 3600  # TikTok's pull may last an hour after init; init may wait for its quota slot


def _cloudfront_b64(data: bytes) -> str:
    # CloudFront's URL-safe base64 variant: + -> -, = -> _, / -> ~
    return base64.b64encode(data).decode().replace("+", "-").replace("=", "_").replace("/", "~")


def sign_url(url: str, *, key_pair_id: str, private_key_pem: bytes, expires_at: int) -> str:
    """A CloudFront signed URL with a canned policy (the URL, valid until `expires_at`)."""
    # Imported here: only pull posts sign, and cryptography costs tens of milliseconds at cold start.
    from cryptography.hazmat.primitives import hashes, serialization  # noqa: PLC0415
    from cryptography.hazmat.primitives.asymmetric import padding, rsa  # noqa: PLC0415

    key = serialization.load_pem_private_key(private_key_pem, password=None)
    if not isinstance(key, rsa.RSAPrivateKey):
        raise ValueError("the media signing key must be an RSA private key (CloudFront signs with RSA)")
    policy = (
        '{"Statement":[{"Resource":"'
        + url
        + '","Condition":{"DateLessThan":{"AWS:EpochTime":'
        + str(expires_at)
        + "}}}]}"
    )
    # CloudFront's canned-policy signatures are RSA with SHA-1; no other algorithm is accepted.
    signature = key.sign(policy.encode(), padding.PKCS1v15(), hashes.SHA1())  # noqa: S303  # nosec B303
    separator = "&" if "?" in url else "?"
    return f"{url}{separator}Expires={expires_at}&Signature={_cloudfront_b64(signature)}&Key-Pair-Id={key_pair_id}"


def new_signing_key_pair() -> tuple[bytes, str]:
    """(private key PEM, public key PEM): the RSA pair CloudFront checks pull URLs against (2048 bits, the
    size CloudFront accepts)."""
    from cryptography.hazmat.primitives import serialization  # noqa: PLC0415
    from cryptography.hazmat.primitives.asymmetric import rsa  # noqa: PLC0415

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    public = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return private, public.decode()


def object_url(base_url: str, key: str, version_id: str | None) -> str:
    url = f"{base_url.rstrip('/')}/{quote(key)}"
    return f"{url}?versionId={quote(version_id)}" if version_id else url


def pull_url(
    base_url: str,
    key: str,
    version_id: str | None,
    *,
    key_pair_id: str = "",
    private_key_pem: bytes | None = None,
    now: int | None = None,
) -> str:
    url = object_url(base_url, key, version_id)
    if not key_pair_id or private_key_pem is None:
        return url
    expires_at = (now if now is not None else int(time.time())) + PULL_WINDOW_SECONDS
    return sign_url(url, key_pair_id=key_pair_id, private_key_pem=private_key_pem, expires_at=expires_at)
