"""tiktok_app_credentials against moto Secrets Manager, through Powertools' cached get_secret."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from functions.store import secrets as secret_store
from functions.store.clients import aws_client
from functions.store.errors import SecretInvalidError, StoreError
from functions.store.secrets import tiktok_app_credentials

CLIENT_KEY = "awx1234567890abcd"
CLIENT_SECRET = "s3cr3t-VALUE-never-shown-0123456789"


@pytest.fixture
def secrets(aws: None) -> Iterator[Any]:
    # The store keeps one Powertools provider (and its cached values) per client across calls.
    secret_store.clear_cache()
    yield aws_client("secretsmanager")
    secret_store.clear_cache()


def store_secret(client: Any, value: Any, name: str = "tiktok-app") -> str:
    text = value if isinstance(value, str) else json.dumps(value)
    return str(client.create_secret(Name=name, SecretString=text)["ARN"])


def test_reads_key_and_secret(secrets: Any) -> None:
    arn = store_secret(secrets, {"client_key": CLIENT_KEY, "client_secret": CLIENT_SECRET})
    assert tiktok_app_credentials(arn) == (CLIENT_KEY, CLIENT_SECRET)


def test_value_is_cached_for_five_minutes(secrets: Any) -> None:
    arn = store_secret(secrets, {"client_key": CLIENT_KEY, "client_secret": CLIENT_SECRET})
    calls: list[str] = []
    tiktok_app_credentials(arn)
    provider = secret_store.provider()
    provider.client.meta.events.register(
        "before-call.secretsmanager.GetSecretValue", lambda model, **_: calls.append(model.name)
    )
    secrets.put_secret_value(
        SecretId=arn, SecretString=json.dumps({"client_key": "k2", "client_secret": "s2"})
    )
    assert tiktok_app_credentials(arn) == (CLIENT_KEY, CLIENT_SECRET)
    assert calls == []
    secret_store.clear_cache()
    assert tiktok_app_credentials(arn) == ("k2", "s2")


@pytest.mark.parametrize(
    ("value", "missing"),
    [
        ({"client_key": CLIENT_KEY}, "client_secret"),
        ({"client_secret": CLIENT_SECRET}, "client_key"),
        ({"client_key": "  ", "client_secret": CLIENT_SECRET}, "client_key"),
        ({"client_key": CLIENT_KEY, "client_secret": 42}, "client_secret"),
    ],
)
def test_a_missing_field_is_named_and_no_value_shown(
    secrets: Any, value: dict[str, Any], missing: str
) -> None:
    arn = store_secret(secrets, value)
    with pytest.raises(SecretInvalidError, match=f"no '{missing}' field") as caught:
        tiktok_app_credentials(arn)
    assert CLIENT_SECRET not in str(caught.value)
    assert CLIENT_KEY not in str(caught.value)


@pytest.mark.parametrize("text", [f"client_secret={CLIENT_SECRET}", json.dumps([CLIENT_KEY, CLIENT_SECRET])])
def test_a_secret_that_is_not_a_json_object(secrets: Any, text: str) -> None:
    arn = store_secret(secrets, text)
    with pytest.raises(SecretInvalidError, match="JSON") as caught:
        tiktok_app_credentials(arn)
    assert CLIENT_SECRET not in str(caught.value)
    assert caught.value.__cause__ is None


def test_an_unknown_secret(secrets: Any) -> None:
    with pytest.raises(StoreError, match="cannot read the TikTok app secret"):
        tiktok_app_credentials("arn:aws:secretsmanager:eu-west-1:123456789012:secret:missing-AbCdEf")


def test_the_review_and_media_keys_are_checked_and_never_shown(aws: None) -> None:
    from functions.store.clients import aws_client
    from functions.store.secrets import media_signing_key, review_link_key

    manager = aws_client("secretsmanager")
    short = manager.create_secret(Name="review-short", SecretString="abc")["ARN"]
    good = manager.create_secret(Name="review-good", SecretString="k" * 40)["ARN"]
    pem = manager.create_secret(Name="media-pem", SecretString="not a key")["ARN"]
    with pytest.raises(SecretInvalidError, match="at least 32") as info:
        review_link_key(short, 32)
    assert "abc" not in str(info.value)
    assert review_link_key(good, 32) == b"k" * 40
    with pytest.raises(SecretInvalidError, match="PEM private key") as bad:
        media_signing_key(pem)
    assert "not a key" not in str(bad.value)
