"""Pull URLs: plain for the local media server, CloudFront-signed (canned policy) when a key is set."""

from __future__ import annotations

import base64
from urllib.parse import parse_qs, urlsplit

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from functions.posting.media_urls import PULL_WINDOW_SECONDS, pull_url

KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
PEM = KEY.private_bytes(
    serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
)


def _unb64(text: str) -> bytes:
    return base64.b64decode(text.replace("-", "+").replace("_", "=").replace("~", "/"))


def test_without_a_key_the_url_is_plain() -> None:
    assert pull_url("https://media.example.com/", "posts/me/a b.mp4", "v1") == (
        "https://media.example.com/posts/me/a%20b.mp4?versionId=v1"
    )


def test_a_signed_url_verifies_with_the_public_key_and_expires() -> None:
    url = pull_url(
        "https://media.example.com",
        "posts/me/a.mp4",
        None,
        key_pair_id="K2ABC",
        private_key_pem=PEM,
        now=1_000,
    )
    query = parse_qs(urlsplit(url).query)
    assert query["Key-Pair-Id"] == ["K2ABC"]
    assert query["Expires"] == [str(1_000 + PULL_WINDOW_SECONDS)]
    resource = url.split("?")[0]
    policy = (
        '{"Statement":[{"Resource":"'
        + resource
        + '","Condition":{"DateLessThan":{"AWS:EpochTime":'
        + query["Expires"][0]
        + "}}}]}"
    )
    signature = _unb64(query["Signature"][0])
    KEY.public_key().verify(signature, policy.encode(), padding.PKCS1v15(), hashes.SHA1())
    with pytest.raises(InvalidSignature):  # the signature covers the exact URL
        KEY.public_key().verify(
            signature, policy.replace("a.mp4", "b.mp4").encode(), padding.PKCS1v15(), hashes.SHA1()
        )


def test_a_signed_url_keeps_the_version_in_what_it_signs() -> None:
    url = pull_url(
        "https://m.example.com", "posts/me/a.mp4", "v7", key_pair_id="K", private_key_pem=PEM, now=0
    )
    assert url.startswith("https://m.example.com/posts/me/a.mp4?versionId=v7&Expires=")


def test_a_non_rsa_key_is_refused() -> None:
    from cryptography.hazmat.primitives.asymmetric import ec

    ec_pem = ec.generate_private_key(ec.SECP256R1()).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    with pytest.raises(ValueError, match="RSA"):
        pull_url("https://m.example.com", "k", None, key_pair_id="K", private_key_pem=ec_pem, now=0)
