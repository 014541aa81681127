"""Refreshing tokens under concurrency (OA-5, OA-7): many functions need a token at once, the access
token is due, and TikTok (the sandbox) rotates refresh tokens strictly. Exactly one refresh reaches TikTok,
every caller gets the new token, and the stored refresh token is the newest. On dynalite, which applies
conditional writes atomically (in-process moto does not)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
import requests
from moto import mock_aws

from functions.accounts.tokens import AccessTokens
from functions.posting.errors import ReauthRequiredError
from functions.store.accounts import Account, AccountStore
from functions.store.tokens import TokenStore
from functions.tiktok.client import TikTokClient
from local.sandbox import SandboxServer
from tests.integration.test_store_concurrency import race
from tests.support import dynalite
from tests.support.aws_tables import create_tables
from tests.support.world import CLIENT_KEY, CLIENT_SECRET

dynalite_endpoint = dynalite.dynalite_endpoint
dynalite_client = dynalite.dynalite_client
THREADS = 12
TOKEN_PATH = "/v2/oauth/token/"


@pytest.fixture(scope="module")
def tables(dynalite_client: Any) -> dict[str, str]:
    return create_tables(
        dynalite_client, {"accounts": "refresh-accounts", "tokens": "refresh-tokens"}, ttl=False
    )


@pytest.fixture
def stores(dynalite_client: Any, tables: dict[str, str]) -> Iterator[tuple[TokenStore, AccountStore]]:
    with mock_aws():  # KMS only; DynamoDB goes to dynalite through the explicit client
        kms = boto3.client("kms", region_name="eu-west-1")
        key_id = kms.create_key()["KeyMetadata"]["KeyId"]
        yield (
            TokenStore(tables["tokens"], key_id, client=dynalite_client, kms=kms),
            AccountStore(tables["accounts"], client=dynalite_client),
        )


def _connect(sandbox: SandboxServer, tokens: TokenStore, accounts: AccountStore, account_id: str) -> str:
    """Tokens for a sandbox creator, stored with an access token that is already due for refresh."""
    issued = requests.post(
        f"{sandbox.base_url}/_sandbox/tokens",
        timeout=5,
        json={"creator": "sandbox_public", "scopes": ["user.info.basic", "video.upload", "video.publish"]},
    ).json()
    now = int(time.time())
    accounts.put(
        Account(
            account_id,
            issued["open_id"],
            "sandbox_public",
            "Public",
            issued["scope"].split(","),
            "connected",
            created_at=now,
            updated_at=now,
        )
    )
    tokens.save(
        account_id,
        access_token=issued["access_token"],
        refresh_token=issued["refresh_token"],
        open_id=issued["open_id"],
        scopes=issued["scope"].split(","),
        access_expires_at=now + 60,
        refresh_expires_at=now + 86_400,
        now=now,
    )
    return str(issued["refresh_token"])


def _refresh_calls(sandbox: SandboxServer) -> int:
    calls = requests.get(f"{sandbox.base_url}/_sandbox/calls", timeout=5).json()
    return sum(paths.get(TOKEN_PATH, 0) for paths in calls["by_token"].values())


def _service(sandbox: SandboxServer, tokens: TokenStore, accounts: AccountStore) -> AccessTokens:
    client = TikTokClient(
        client_key=CLIENT_KEY,
        client_secret=CLIENT_SECRET,
        api_base_url=sandbox.base_url,
        auth_base_url=sandbox.base_url,
    )
    return AccessTokens(tokens=tokens, accounts=accounts, client=client)


def test_concurrent_callers_refresh_once_at_tiktok(
    fresh_sandbox: SandboxServer, stores: tuple[TokenStore, AccountStore]
) -> None:
    tokens, accounts = stores
    old_refresh = _connect(fresh_sandbox, tokens, accounts, "race")
    before = _refresh_calls(fresh_sandbox)
    # Each caller is its own "Lambda": its own client, its own lease owner.
    got = race(THREADS, lambda _i: _service(fresh_sandbox, tokens, accounts).for_account("race"))
    assert _refresh_calls(fresh_sandbox) - before == 1
    assert len(set(got)) == 1
    stored = tokens.load("race")
    assert stored is not None and stored.access_token == got[0] and stored.refresh_token != old_refresh
    account = accounts.get("race")
    assert account is not None and account.access_expires_at == stored.access_expires_at
    # The stored refresh token is the live one: TikTok accepts it (and the old one no longer).
    client = TikTokClient(
        client_key=CLIENT_KEY,
        client_secret=CLIENT_SECRET,
        api_base_url=fresh_sandbox.base_url,
        auth_base_url=fresh_sandbox.base_url,
    )
    assert client.refresh(stored.refresh_token).access_token.get_secret_value().startswith("act.")


def test_a_refused_refresh_token_asks_for_reauthorisation_once(
    fresh_sandbox: SandboxServer, stores: tuple[TokenStore, AccountStore]
) -> None:
    tokens, accounts = stores
    _connect(fresh_sandbox, tokens, accounts, "revoked")
    stored = tokens.load("revoked")
    assert stored is not None
    client = TikTokClient(
        client_key=CLIENT_KEY,
        client_secret=CLIENT_SECRET,
        api_base_url=fresh_sandbox.base_url,
        auth_base_url=fresh_sandbox.base_url,
    )
    client.refresh(stored.refresh_token)  # someone else spent it: ours is now refused
    service = _service(fresh_sandbox, tokens, accounts)
    with pytest.raises(ReauthRequiredError, match="refused the refresh token"):
        service.for_account("revoked")
    account = accounts.get("revoked")
    assert (
        account is not None
        and account.status == "reauth_required"
        and "invalid_grant" in account.status_reason
    )
    before = _refresh_calls(fresh_sandbox)
    with pytest.raises(ReauthRequiredError):  # no loop: later callers do not ask TikTok again
        service.for_account("revoked")
    assert _refresh_calls(fresh_sandbox) == before


def test_a_fresh_token_needs_no_call(
    fresh_sandbox: SandboxServer, stores: tuple[TokenStore, AccountStore]
) -> None:
    tokens, accounts = stores
    _connect(fresh_sandbox, tokens, accounts, "fresh")
    stored = tokens.load("fresh")
    assert stored is not None
    now = int(time.time())
    tokens.save(
        "fresh",
        access_token=stored.access_token,
        refresh_token=stored.refresh_token,
        open_id=stored.open_id,
        scopes=stored.scopes,
        access_expires_at=now + 7200,
        refresh_expires_at=now + 86_400,
        now=now,
    )
    before = _refresh_calls(fresh_sandbox)
    assert _service(fresh_sandbox, tokens, accounts).for_account("fresh") == stored.access_token
    assert _refresh_calls(fresh_sandbox) == before
