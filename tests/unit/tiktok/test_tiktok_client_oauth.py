"""OAuth against a loopback server: URL building, exchange, refresh rotation, revoke, and ambiguous failures."""

from __future__ import annotations

import logging
import random
import time
from urllib.parse import parse_qs, urlsplit

import pytest
from tiktok_fakes import FakeApiServer, RecordingSleep, Reply, closed_port_url

from functions.tiktok.client import REVOKE_PATH, TOKEN_PATH, TikTokClient
from functions.tiktok.errors import (
    OAuthError,
    OAuthReauthError,
    OAuthRetryableError,
    OAuthTerminalError,
    TikTokRetryableError,
    UnknownOutcomeError,
)

KEY = "ck_test_key"
SECRET = "cs_TOP_SECRET_value"
NOW = 1_764_000_000.0


def make_client(
    server_url: str, sleeps: RecordingSleep, *, timeout: tuple[float, float] = (1.0, 2.0)
) -> TikTokClient:
    return TikTokClient(
        client_key=KEY,
        client_secret=SECRET,
        api_base_url=server_url,
        auth_base_url="https://www.tiktok.com/",
        timeout=timeout,
        clock=lambda: NOW,
        sleep=sleeps,
        rng=random.Random(1),
    )


def tokens_json(access: str = "act.A1", refresh: str = "rft.R1", **extra: object) -> dict[str, object]:
    return {
        "access_token": access,
        "expires_in": 86400,
        "open_id": "open-1",
        "refresh_token": refresh,
        "refresh_expires_in": 31_536_000,
        "scope": "user.info.basic,video.publish",
        "token_type": "Bearer",
        **extra,
    }


@pytest.fixture
def client(api_server: FakeApiServer, sleeps: RecordingSleep) -> TikTokClient:
    return make_client(api_server.base_url, sleeps)


# -------------------------------------------------------------------------------------- authorize


def test_authorize_url_has_comma_scopes_state_and_code_response(client: TikTokClient) -> None:
    url = client.authorize_url(
        redirect_uri="https://api.example.com/oauth/callback",
        scopes=["user.info.basic", "video.upload", "video.publish", "video.upload"],
        state="s t&a=t/e+",
    )
    parts = urlsplit(url)
    assert (parts.scheme, parts.netloc, parts.path) == ("https", "www.tiktok.com", "/v2/auth/authorize/")
    assert "scope=user.info.basic,video.upload,video.publish&" in parts.query  # literal commas
    assert parse_qs(parts.query) == {
        "client_key": [KEY],
        "scope": ["user.info.basic,video.upload,video.publish"],
        "redirect_uri": ["https://api.example.com/oauth/callback"],
        "state": ["s t&a=t/e+"],
        "response_type": ["code"],
    }
    assert SECRET not in url


def test_authorize_url_optional_disable_auto_auth(client: TikTokClient) -> None:
    url = client.authorize_url(
        redirect_uri="https://a/cb", scopes=["video.upload"], state="x", disable_auto_auth=1
    )
    assert parse_qs(urlsplit(url).query)["disable_auto_auth"] == ["1"]


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"scopes": []}, ValueError),
        ({"scopes": ["a,b"]}, ValueError),
        ({"scopes": ["a b"]}, ValueError),
        ({"scopes": [""]}, ValueError),
        ({"scopes": "video.upload"}, TypeError),
        ({"state": ""}, ValueError),
        ({"redirect_uri": "https://a/cb#frag"}, ValueError),
        ({"redirect_uri": ""}, ValueError),
    ],
)
def test_authorize_url_refuses_bad_input(
    client: TikTokClient, kwargs: dict[str, object], error: type[Exception]
) -> None:
    args: dict[str, object] = {
        "redirect_uri": "https://a/cb",
        "scopes": ["video.upload"],
        "state": "s",
        **kwargs,
    }
    with pytest.raises(error):
        client.authorize_url(**args)  # type: ignore[arg-type]


def test_client_needs_credentials() -> None:
    with pytest.raises(ValueError, match="required"):
        TikTokClient(client_key="k", client_secret="")


def test_client_repr_hides_the_secret(client: TikTokClient) -> None:
    assert SECRET not in repr(client) and KEY in repr(client)


# ------------------------------------------------------------------------------------ code exchange


def test_exchange_code_posts_the_form_and_computes_expiry(
    client: TikTokClient, api_server: FakeApiServer
) -> None:
    api_server.script(TOKEN_PATH, Reply(200, tokens_json()))
    tokens = client.exchange_code(code="CODE*1!", redirect_uri="https://a/cb")
    assert tokens.access_token.get_secret_value() == "act.A1"
    assert (tokens.access_expires_at, tokens.refresh_expires_at) == (NOW + 86400, NOW + 31_536_000)
    [request] = api_server.calls(TOKEN_PATH)
    assert request.method == "POST"
    assert request.headers["content-type"] == "application/x-www-form-urlencoded"
    assert request.headers["cache-control"] == "no-cache"
    assert request.form() == {
        "client_key": KEY,
        "client_secret": SECRET,
        "code": "CODE*1!",
        "grant_type": "authorization_code",
        "redirect_uri": "https://a/cb",
    }
    assert "code" not in request.query and SECRET not in request.query


def test_exchange_code_sends_a_pkce_verifier_when_given(
    client: TikTokClient, api_server: FakeApiServer
) -> None:
    api_server.script(TOKEN_PATH, Reply(200, tokens_json()))
    client.exchange_code(code="c", redirect_uri="https://a/cb", code_verifier="v" * 43)
    assert api_server.calls(TOKEN_PATH)[0].form()["code_verifier"] == "v" * 43


def test_exchange_code_error_is_typed_and_not_retried(
    client: TikTokClient, api_server: FakeApiServer, sleeps: RecordingSleep
) -> None:
    api_server.script(
        TOKEN_PATH,
        Reply(
            400,
            {"error": "invalid_grant", "error_description": "Authorization code is expired.", "log_id": "L9"},
        ),
    )
    with pytest.raises(OAuthReauthError) as info:
        client.exchange_code(code="c", redirect_uri="https://a/cb")
    assert (info.value.code, info.value.description, info.value.log_id) == (
        "invalid_grant",
        "Authorization code is expired.",
        "L9",
    )
    assert len(api_server.calls(TOKEN_PATH)) == 1 and sleeps.calls == []


def test_exchange_code_server_error_is_not_retried_either(
    client: TikTokClient, api_server: FakeApiServer
) -> None:
    api_server.script(
        TOKEN_PATH, Reply(500, {"error": "server_error", "error_description": "x"}), Reply(200, tokens_json())
    )
    with pytest.raises(OAuthRetryableError):
        client.exchange_code(code="c", redirect_uri="https://a/cb")
    assert len(api_server.calls(TOKEN_PATH)) == 1


def test_error_with_http_200_is_still_an_error(client: TikTokClient, api_server: FakeApiServer) -> None:
    api_server.script(TOKEN_PATH, Reply(200, {"error": "invalid_client", "error_description": "bad key"}))
    with pytest.raises(OAuthTerminalError):
        client.exchange_code(code="c", redirect_uri="https://a/cb")


@pytest.mark.parametrize(
    "reply",
    [
        Reply(200, tokens_json(), delay=0.6),  # read timeout
        Reply(drop=True),  # connection reset after the request was read
        Reply(502, raw=b"<html>Bad Gateway</html>"),  # a gateway answered, not TikTok
        Reply(200, raw=b"{not json"),
        Reply(200, {"access_token": "act.x"}),  # sent, answered, but unusable
    ],
    ids=["timeout", "reset", "gateway-502", "garbage-200", "incomplete-200"],
)
def test_exchange_code_with_no_usable_answer_is_an_unknown_outcome(
    api_server: FakeApiServer, sleeps: RecordingSleep, reply: Reply
) -> None:
    client = make_client(api_server.base_url, sleeps, timeout=(1.0, 0.3))
    api_server.script(TOKEN_PATH, reply, Reply(200, tokens_json()))
    with pytest.raises(UnknownOutcomeError) as info:
        client.exchange_code(code="c", redirect_uri="https://a/cb")
    assert info.value.operation == "exchange_code"
    assert len(api_server.calls(TOKEN_PATH)) == 1  # never sent twice: the code works only once
    assert SECRET not in str(info.value) and "act.x" not in str(info.value)


def test_the_read_timeout_really_fires(api_server: FakeApiServer, sleeps: RecordingSleep) -> None:
    client = make_client(api_server.base_url, sleeps, timeout=(1.0, 0.3))
    api_server.script(TOKEN_PATH, Reply(200, tokens_json(), delay=5.0))
    started = time.monotonic()
    with pytest.raises(UnknownOutcomeError, match="read timeout"):
        client.exchange_code(code="c", redirect_uri="https://a/cb")
    assert time.monotonic() - started < 4.0  # gave up long before the answer came


def test_exchange_code_retries_when_nothing_could_be_sent(sleeps: RecordingSleep) -> None:
    client = make_client(closed_port_url(), sleeps)
    with pytest.raises(TikTokRetryableError) as info:
        client.exchange_code(code="c", redirect_uri="https://a/cb")
    assert info.value.code == "connection_failed"
    assert len(sleeps.calls) == 3  # 4 attempts, all refused before sending


# ----------------------------------------------------------------------------------------- refresh


def test_refresh_returns_the_rotated_refresh_token(client: TikTokClient, api_server: FakeApiServer) -> None:
    api_server.script(TOKEN_PATH, Reply(200, tokens_json(access="act.A2", refresh="rft.R2", expires_in=7200)))
    tokens = client.refresh("rft.R1")
    assert tokens.refresh_token.get_secret_value() == "rft.R2"
    assert tokens.access_expires_at == NOW + 7200
    assert api_server.calls(TOKEN_PATH)[0].form() == {
        "client_key": KEY,
        "client_secret": SECRET,
        "grant_type": "refresh_token",
        "refresh_token": "rft.R1",
    }


def test_refresh_without_a_new_refresh_token_keeps_the_one_sent(
    client: TikTokClient, api_server: FakeApiServer
) -> None:
    body = tokens_json()
    del body["refresh_token"]
    del body["refresh_expires_in"]
    api_server.script(TOKEN_PATH, Reply(200, body))
    tokens = client.refresh("rft.R1", refresh_expires_at=12345)
    assert (tokens.refresh_token.get_secret_value(), tokens.refresh_expires_at) == ("rft.R1", 12345)


def test_refresh_retries_an_explicit_temporary_error(
    client: TikTokClient, api_server: FakeApiServer, sleeps: RecordingSleep
) -> None:
    api_server.script(
        TOKEN_PATH,
        Reply(503, {"error": "temporarily_unavailable", "error_description": "later"}),
        Reply(200, tokens_json(refresh="rft.R2")),
    )
    assert client.refresh("rft.R1").refresh_token.get_secret_value() == "rft.R2"
    assert len(api_server.calls(TOKEN_PATH)) == 2 and len(sleeps.calls) == 1


def test_refresh_invalid_grant_needs_reauthorisation(client: TikTokClient, api_server: FakeApiServer) -> None:
    api_server.script(TOKEN_PATH, Reply(400, {"error": "invalid_grant", "error_description": "revoked"}))
    with pytest.raises(OAuthReauthError):
        client.refresh("rft.R1")
    assert len(api_server.calls(TOKEN_PATH)) == 1


def test_refresh_timeout_is_an_unknown_outcome(api_server: FakeApiServer, sleeps: RecordingSleep) -> None:
    client = make_client(api_server.base_url, sleeps, timeout=(1.0, 0.3))
    api_server.script(TOKEN_PATH, Reply(200, tokens_json(), delay=0.6))
    with pytest.raises(UnknownOutcomeError):
        client.refresh("rft.R1")
    assert len(api_server.calls(TOKEN_PATH)) == 1


# ------------------------------------------------------------------------------------------ revoke


@pytest.mark.parametrize(
    "reply", [Reply(200, raw=b""), Reply(200, {}), Reply(200, {"data": {}, "error": {"code": "ok"}})]
)
def test_revoke_success_shapes(client: TikTokClient, api_server: FakeApiServer, reply: Reply) -> None:
    api_server.script(REVOKE_PATH, reply)
    client.revoke("act.A1")
    assert api_server.calls(REVOKE_PATH)[0].form() == {
        "client_key": KEY,
        "client_secret": SECRET,
        "token": "act.A1",
    }


def test_revoke_error_and_retry(
    client: TikTokClient, api_server: FakeApiServer, sleeps: RecordingSleep
) -> None:
    api_server.script(REVOKE_PATH, Reply(503, raw=b"busy"), Reply(200, raw=b""))
    client.revoke("act.A1")
    assert len(sleeps.calls) == 1
    api_server.script(REVOKE_PATH, Reply(400, {"error": "invalid_request", "error_description": "bad token"}))
    with pytest.raises(OAuthError) as info:
        client.revoke("act.A1")
    assert info.value.code == "invalid_request"


def test_no_secret_or_token_reaches_the_logs(
    client: TikTokClient, api_server: FakeApiServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    api_server.script(REVOKE_PATH, Reply(503, raw=b"busy"), Reply(500, raw=b"busy"), Reply(200, raw=b""))
    client.revoke("act.VERY_SECRET_TOKEN")
    assert caplog.records, "retries should be logged"
    for record in caplog.records:
        text = record.getMessage() + repr(record.__dict__)
        assert "VERY_SECRET_TOKEN" not in text and SECRET not in text
