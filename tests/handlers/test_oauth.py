"""GET /connect and GET /oauth/callback: every bad input is a clear page, and nothing is stored (OA-1, OA-3)."""

from __future__ import annotations

import hashlib
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from functions.handlers.oauth import handler
from functions.settings import Env
from tests.support.events import load_event
from tests.support.lambda_context import FakeContext
from tests.support.world import World


def _call(event: dict[str, Any]) -> dict[str, Any]:
    return handler(event, FakeContext(function_name="oauth"))  # type: ignore[no-any-return]


def _callback(query: dict[str, str], cookies: list[str]) -> dict[str, Any]:
    from urllib.parse import urlencode

    return _call(
        load_event(
            "http/get_oauth_callback",
            queryStringParameters=query,
            cookies=cookies,
            rawQueryString=urlencode(query),
        )
    )


def _start(alias: str | None = "mychannel") -> tuple[str, str]:
    event = load_event(
        "http/get_connect",
        queryStringParameters={"alias": alias} if alias else None,
        rawQueryString=f"alias={alias}" if alias else "",
    )
    response = _call(event)
    assert response["statusCode"] == 302
    location = response["headers"]["Location"]
    cookie = response["cookies"][0]
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    state = parse_qs(urlsplit(location).query)["state"][0]
    return state, cookie.split(";")[0].split("=", 1)[1]


def _rows(world: World, table: str) -> list[dict[str, Any]]:
    return world.client("dynamodb").scan(TableName=world.env[table])["Items"]  # type: ignore[no-any-return]


def test_connect_redirects_to_tiktok_with_a_bound_single_use_state(world: World) -> None:
    state, cookie = _start()
    assert len(state) >= 22  # 128 bits or more, URL-safe
    rows = _rows(world, Env.OAUTH_STATE_TABLE)
    assert len(rows) == 1
    stored = rows[0]
    assert stored["state_hash"]["S"] == hashlib.sha256(state.encode()).hexdigest()
    assert stored["cookie_hash"]["S"] == hashlib.sha256(cookie.encode()).hexdigest()
    assert state not in str(rows) and cookie not in str(rows)  # only digests are stored


def test_the_authorize_url_asks_for_every_scope_with_commas(world: World) -> None:
    response = _call(load_event("http/get_connect"))
    query = parse_qs(urlsplit(response["headers"]["Location"]).query)
    # Posting's scopes, then the Display API's (the public link and numbers after publishing).
    assert query["scope"] == ["user.info.basic,video.upload,video.publish,video.list,user.info.stats"]
    assert query["response_type"] == ["code"]
    assert query["redirect_uri"] == ["https://api.example.com/oauth/callback"]
    assert query["client_key"] == ["sandbox-client-key"]


def test_an_app_without_the_display_scopes_asks_for_posting_ones_only(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(Env.DISPLAY_SCOPES, "false")
    response = _call(load_event("http/get_connect"))
    query = parse_qs(urlsplit(response["headers"]["Location"]).query)
    assert query["scope"] == ["user.info.basic,video.upload,video.publish"]


def test_a_bad_alias_is_a_400_page(world: World) -> None:
    response = _call(load_event("http/get_connect", queryStringParameters={"alias": "Not Valid!"}))
    assert response["statusCode"] == 400 and "alias must be" in response["body"]
    assert _rows(world, Env.OAUTH_STATE_TABLE) == []


@pytest.mark.parametrize(
    ("query", "cookie", "expected"),
    [
        ({"code": "c", "scopes": "user.info.basic,video.upload,video.publish"}, True, "no state"),
        ({"code": "c", "state": "forged-state"}, True, "unknown, was already used or has expired"),
        (
            {"code": "c", "scopes": "user.info.basic,video.upload,video.publish", "state": "STATE"},
            False,
            "started in another browser",
        ),
        ({"error": "access_denied", "error_description": "no", "state": "STATE"}, True, "You declined"),
        (
            {"code": "c", "scopes": "user.info.basic,video.upload", "state": "STATE"},
            True,
            "did not grant video.publish",
        ),
        (
            {"scopes": "user.info.basic,video.upload,video.publish", "state": "STATE"},
            True,
            "no authorization code",
        ),
    ],
)
def test_bad_callbacks_store_nothing_and_say_why(
    world: World, query: dict[str, str], cookie: bool, expected: str
) -> None:
    state, cookie_value = _start()
    query = {k: (state if v == "STATE" else v) for k, v in query.items()}
    response = _callback(query, [f"tp_oauth={cookie_value}"] if cookie else [])
    assert response["statusCode"] == 400
    assert expected in response["body"].replace("&#x27;", "'")
    headers = response["headers"]
    assert headers["Cache-Control"] == "no-store" and headers["Referrer-Policy"] == "no-referrer"
    assert "http" not in response["body"].split("<body>")[1].replace(
        'href="/connect"', ""
    )  # no third-party assets
    assert _rows(world, Env.ACCOUNTS_TABLE) == [] and _rows(world, Env.TOKENS_TABLE) == []


def test_a_state_works_once_and_expires(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    state, cookie = _start()
    first = _callback({"error": "access_denied", "state": state}, [f"tp_oauth={cookie}"])
    assert "declined" in first["body"]
    again = _callback({"error": "access_denied", "state": state}, [f"tp_oauth={cookie}"])
    assert "already used" in again["body"]

    import time as time_module

    state, cookie = _start()
    real = time_module.time
    monkeypatch.setattr(time_module, "time", lambda: real() + 601)
    late = _callback({"code": "c", "state": state, "scopes": "user.info.basic"}, [f"tp_oauth={cookie}"])
    assert "expired" in late["body"]


@pytest.mark.parametrize(
    ("query", "shown"), [({"alias": "first"}, None), ({"alias": "second", "another": "1"}, ["1"])]
)
def test_connecting_another_account_asks_tiktok_for_its_account_chooser(
    world: World, query: dict[str, str], shown: list[str] | None
) -> None:
    from urllib.parse import urlencode

    response = _call(
        load_event("http/get_connect", queryStringParameters=query, rawQueryString=urlencode(query))
    )
    assert response["statusCode"] == 302
    assert parse_qs(urlsplit(response["headers"]["Location"]).query).get("disable_auto_auth") == shown


@pytest.mark.parametrize(
    ("redirect_uri", "secure"),
    [
        ("https://api.example.com/oauth/callback", True),
        ("https://127.0.0.1:8443/oauth/callback", True),  # never weaker on https
        ("http://api.example.com/oauth/callback", True),  # plain http off this machine: a browser drops it
        ("http://127.0.0.1:8000/oauth/callback", False),  # make local
        ("http://localhost:8000/oauth/callback", False),
        ("http://[::1]:8000/oauth/callback", False),
    ],
)
def test_the_state_cookie_is_secure_unless_the_stack_answers_plain_http_on_loopback(
    world: World, monkeypatch: pytest.MonkeyPatch, redirect_uri: str, secure: bool
) -> None:
    monkeypatch.setenv(Env.OAUTH_REDIRECT_URI, redirect_uri)
    started = _call(load_event("http/get_connect"))
    assert ("Secure" in started["cookies"][0]) is secure, started["cookies"]
    state = parse_qs(urlsplit(started["headers"]["Location"]).query)["state"][0]
    # The callback clears it with the same attributes (a browser ignores a Secure Set-Cookie over http).
    ended = _callback({"error": "access_denied", "state": state}, [started["cookies"][0].split(";")[0]])
    assert ("Secure" in ended["cookies"][0]) is secure and "Max-Age=0" in ended["cookies"][0]


def test_start_again_keeps_the_alias_the_sign_in_was_for(world: World) -> None:
    state, _cookie = _start("mychannel")
    response = _callback({"code": "c", "state": state, "scopes": "user.info.basic"}, [])  # no cookie
    assert response["statusCode"] == 400 and "started in another browser" in response["body"]
    assert '<a href="/connect?alias=mychannel">Start again</a>' in response["body"]
    unknown = _callback({"code": "c", "state": "forged-state"}, [])  # no record: no alias to keep
    assert '<a href="/connect">Start again</a>' in unknown["body"]


def test_a_bogus_authorization_code_is_a_400_page_that_says_to_start_again(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    from local.sandbox import SandboxConfig, SandboxServer
    from tests.support.world import CLIENT_KEY, CLIENT_SECRET

    config = SandboxConfig(
        client_key=CLIENT_KEY, client_secret=CLIENT_SECRET, redirect_uris=[world.env[Env.OAUTH_REDIRECT_URI]]
    )
    with SandboxServer(config) as tiktok:  # the sandbox answers the exchange as TikTok does: invalid_grant
        monkeypatch.setenv(Env.TIKTOK_API_BASE_URL, tiktok.base_url)
        monkeypatch.setenv(Env.TIKTOK_AUTH_BASE_URL, tiktok.base_url)
        state, cookie = _start("mychannel")
        scopes = "user.info.basic,video.upload,video.publish"
        response = _callback({"code": "bogus", "state": state, "scopes": scopes}, [f"tp_oauth={cookie}"])
    assert response["statusCode"] == 400, response["body"]
    body = response["body"].replace("&#x27;", "'")
    assert "TikTok did not accept this sign-in's authorization code" in body
    assert "start connecting again" in body
    assert '<a href="/connect?alias=mychannel">Start again</a>' in body
    assert _rows(world, Env.ACCOUNTS_TABLE) == [] and _rows(world, Env.TOKENS_TABLE) == []
