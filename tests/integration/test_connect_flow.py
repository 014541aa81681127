"""The whole connect flow against the sandbox: /connect -> TikTok's consent form -> /oauth/callback ->
an account with KMS-encrypted tokens, and no token in any log line (OA-1..OA-7)."""

from __future__ import annotations

import logging
import time
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

import pytest
import requests

from functions.handlers.oauth import handler
from functions.settings import Env
from local.sandbox import Creator, SandboxServer
from local.sandbox.consent import complete_consent
from tests.support.events import load_event
from tests.support.lambda_context import FakeContext
from tests.support.world import CLIENT_KEY, CLIENT_SECRET, World, with_settings


@pytest.fixture
def tiktok_world(world: World, fresh_sandbox: SandboxServer, monkeypatch: pytest.MonkeyPatch) -> World:
    monkeypatch.setenv(Env.TIKTOK_API_BASE_URL, fresh_sandbox.base_url)
    monkeypatch.setenv(Env.TIKTOK_AUTH_BASE_URL, fresh_sandbox.base_url)
    return with_settings(
        world, tiktok_api_base_url=fresh_sandbox.base_url, tiktok_auth_base_url=fresh_sandbox.base_url
    )


def _connect(alias: str | None, creator: str, **consent: Any) -> dict[str, Any]:
    query = {"alias": alias} if alias else {}
    start = handler(
        load_event("http/get_connect", queryStringParameters=query or None, rawQueryString=urlencode(query)),
        FakeContext(),
    )
    cookie = start["cookies"][0].split(";")[0]
    back = complete_consent(start["headers"]["Location"], creator=creator, **consent)
    params = dict(parse_qsl(urlsplit(back).query))
    event = load_event(
        "http/get_oauth_callback",
        queryStringParameters=params,
        rawQueryString=urlencode(params),
        cookies=[cookie],
    )
    return handler(event, FakeContext())  # type: ignore[no-any-return]


def test_a_creator_connects_and_the_tokens_are_stored_encrypted(
    tiktok_world: World,
    fresh_sandbox: SandboxServer,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
) -> None:
    caplog.set_level(logging.DEBUG, logger="functions")
    response = _connect("mychannel", "sandbox_public")
    assert response["statusCode"] == 200, response["body"]
    assert "@sandbox_public" in response["body"] and "mychannel" in response["body"]
    assert response["headers"]["Referrer-Policy"] == "no-referrer"
    assert response["headers"]["Cache-Control"] == "no-store"

    w = tiktok_world.wiring
    account = w.accounts.get("mychannel")
    assert account is not None and account.status == "connected" and account.username == "sandbox_public"
    assert set(account.scopes) >= {"user.info.basic", "video.upload", "video.publish"}
    stored = w.tokens.load("mychannel")
    assert stored is not None and stored.access_token.startswith("act.")
    raw = tiktok_world.client("dynamodb").scan(TableName=tiktok_world.env[Env.TOKENS_TABLE])["Items"]
    assert stored.access_token not in str(raw) and stored.refresh_token not in str(raw)
    # The token works at TikTok: creator_info answers for this creator.
    info = w.tiktok.creator_info(stored.access_token)
    assert info.creator_username == "sandbox_public"
    # No token, code or state in any log line of the whole flow (Powertools writes JSON to stdout).
    logs = caplog.text + capsys.readouterr().out
    assert "account connected" in logs
    assert stored.access_token not in logs and stored.refresh_token not in logs
    assert "act." not in logs and "rft." not in logs


def test_a_denied_consent_stores_nothing(tiktok_world: World) -> None:
    response = _connect(None, "sandbox_public", decision="deny")
    assert response["statusCode"] == 400 and "declined" in response["body"]
    assert tiktok_world.wiring.accounts.list() == []


def test_partial_scopes_name_the_missing_one(tiktok_world: World) -> None:
    response = _connect(None, "sandbox_public", granted_scopes=["user.info.basic", "video.upload"])
    assert response["statusCode"] == 400 and "video.publish" in response["body"]
    assert tiktok_world.wiring.accounts.list() == []


def test_reconnecting_keeps_one_account_per_tiktok_user(tiktok_world: World) -> None:
    assert _connect(None, "sandbox_private")["statusCode"] == 200
    second = _connect("another-name", "sandbox_private")
    assert second["statusCode"] == 200 and "sandbox_private" in second["body"]
    accounts = tiktok_world.wiring.accounts.list()
    assert [a.account_id for a in accounts] == ["sandbox_private"]


def test_an_alias_of_another_creator_is_refused(tiktok_world: World) -> None:
    assert _connect("shared", "sandbox_public")["statusCode"] == 200
    response = _connect("shared", "sandbox_private")
    assert response["statusCode"] == 409 and "already belongs" in response["body"]


def test_disconnect_revokes_at_tiktok(tiktok_world: World, fresh_sandbox: SandboxServer) -> None:
    from functions.accounts.management import disconnect

    assert _connect("gone", "sandbox_public")["statusCode"] == 200
    w = tiktok_world.wiring
    token = w.tokens.load("gone").access_token  # type: ignore[union-attr]
    account = disconnect(w, w.accounts.get("gone"), "test")  # type: ignore[arg-type]
    assert account.status == "disconnected" and w.tokens.load("gone") is None
    assert account.status_reason == "test; TikTok confirmed the revocation"
    answer = requests.post(
        f"{fresh_sandbox.base_url}/v2/post/publish/creator_info/query/",
        headers={"Authorization": f"Bearer {token}"},
        timeout=5,
    )
    assert answer.status_code == 401 and answer.json()["error"]["code"] == "access_token_invalid"


def test_disconnect_refreshes_an_expired_access_token_to_revoke(
    tiktok_world: World, fresh_sandbox: SandboxServer
) -> None:
    from functions.accounts.management import disconnect

    assert _connect("stale", "sandbox_public")["statusCode"] == 200
    w = tiktok_world.wiring
    stored = w.tokens.load("stale")
    assert stored is not None
    now = int(time.time())
    w.tokens.save(  # the same tokens, recorded as expired: only a refreshed one may revoke
        "stale",
        access_token=stored.access_token,
        refresh_token=stored.refresh_token,
        open_id=stored.open_id,
        scopes=list(stored.scopes),
        access_expires_at=now - 1,
        refresh_expires_at=stored.refresh_expires_at,
        now=now,
    )
    before = _token_endpoint_calls(fresh_sandbox)
    account = disconnect(w, w.accounts.get("stale"), "test")  # type: ignore[arg-type]
    assert account.status_reason == "test; TikTok confirmed the revocation"
    assert _token_endpoint_calls(fresh_sandbox) == before + 1  # the refresh, before the revoke
    refreshed = requests.post(  # the refresh token was spent by the refresh, and the grant is gone
        f"{fresh_sandbox.base_url}/v2/oauth/token/",
        data={
            "client_key": CLIENT_KEY,
            "client_secret": CLIENT_SECRET,
            "grant_type": "refresh_token",
            "refresh_token": stored.refresh_token,
        },
        timeout=5,
    )
    assert refreshed.json()["error"] == "invalid_grant"


def _token_endpoint_calls(sandbox: SandboxServer) -> int:
    calls = requests.get(f"{sandbox.base_url}/_sandbox/calls", timeout=5).json()["calls"]
    return sum(c["count"] for c in calls if c["endpoint"] == "/v2/oauth/token/")


def test_a_creator_who_cannot_post_now_is_connected_with_posting_paused(
    tiktok_world: World, fresh_sandbox: SandboxServer
) -> None:
    creator = Creator(
        username="capped_creator", open_id="open-id-capped-0099", nickname="Capped", posts_today=15
    )
    fresh_sandbox.app.put_creator(creator, fresh_sandbox.clock.now())
    response = _connect("capped", "capped_creator")
    assert response["statusCode"] == 200, response["body"]
    assert "Posting is paused" in response["body"] and "spam_risk_too_many_posts" in response["body"]
    account = tiktok_world.wiring.accounts.get("capped")
    assert account is not None and account.status == "connected"
    assert account.posting_paused.startswith("spam_risk_too_many_posts: ")
    assert tiktok_world.wiring.tokens.load("capped") is not None  # the spent code's tokens are kept
    tiktok_world.wiring.accounts.resume_posting("capped", int(time.time()))
    assert tiktok_world.wiring.accounts.get("capped").posting_paused == ""  # type: ignore[union-attr]
