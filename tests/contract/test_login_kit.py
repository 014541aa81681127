"""Login Kit against docs/reference/tiktok-api.md §0 and §1: consent page, code exchange, refresh, revoke."""

from __future__ import annotations

import hashlib
from urllib.parse import urlencode

import pytest
from sandbox_client import (
    ALL_SCOPES,
    CLIENT_KEY,
    CLIENT_SECRET,
    REDIRECT_URI,
    Api,
    MakeSandbox,
    assert_envelope,
    assert_oauth_error,
    query_of,
)
from sandbox_peers import WebhookReceiver

from local.sandbox import SandboxServer
from local.sandbox.consent import ConsentError, authorize


def authorize_url(api: Api, **params: str) -> str:
    query = {
        "client_key": CLIENT_KEY,
        "scope": "user.info.basic,video.publish",
        "redirect_uri": REDIRECT_URI,
        "state": "s1",
        "response_type": "code",
        **params,
    }
    return f"{api.base}/v2/auth/authorize/?{urlencode(query)}"


def test_s1_1_authorize_page_is_a_consent_form_listing_every_sandbox_creator(api: Api) -> None:
    page = api.http.get(authorize_url(api))
    assert page.status_code == 200
    assert page.headers["Content-Type"].startswith("text/html")
    for username in (
        "sandbox_public",
        "sandbox_private",
        "sandbox_capped",
        "sandbox_banned",
        "sandbox_unaudited",
    ):
        assert f'value="{username}"' in page.text
    assert 'name="decision" value="allow"' in page.text and 'name="decision" value="deny"' in page.text


def test_s1_1_allow_redirects_to_the_exact_redirect_uri_with_code_scopes_and_state(api: Api) -> None:
    location = api.consent("sandbox_public", ["user.info.basic", "video.publish"], state="xyz-42")
    assert location.startswith(REDIRECT_URI + "?")
    params = query_of(location)
    assert params["state"] == "xyz-42"
    assert params["scopes"] == "user.info.basic,video.publish"  # plural key, comma list
    assert params["code"]


def test_s1_1_deny_redirects_with_access_denied_and_state(api: Api) -> None:
    location = api.consent("sandbox_public", decision="deny", state="st")
    params = query_of(location)
    assert params["error"] == "access_denied"
    assert params["error_description"]
    assert params["state"] == "st"
    assert "code" not in params


def test_s1_5_users_may_grant_only_some_scopes(api: Api) -> None:
    location = api.consent("sandbox_public", ALL_SCOPES, granted_scopes=["user.info.basic", "video.upload"])
    assert query_of(location)["scopes"] == "user.info.basic,video.upload"
    answer = api.exchange(query_of(location)["code"]).json()
    assert answer["scope"] == "user.info.basic,video.upload"
    # video.publish was not granted: creator_info needs it.
    assert_envelope(api.creator_info(answer["access_token"]), 401, "scope_not_authorized")


def test_s1_1_unregistered_redirect_uri_is_an_error_page_never_a_redirect(api: Api) -> None:
    for uri in ("https://evil.example.com/cb", REDIRECT_URI + "/extra", REDIRECT_URI + "?x=1", ""):
        page = api.http.get(authorize_url(api, redirect_uri=uri), allow_redirects=False)
        assert page.status_code == 400
        assert "Location" not in page.headers
    with pytest.raises(ConsentError, match="redirect_uri"):
        api.consent(redirect_uri="https://evil.example.com/cb")


def test_s1_1_unknown_client_key_is_an_error_page(api: Api) -> None:
    page = api.http.get(authorize_url(api, client_key="someone-else"), allow_redirects=False)
    assert page.status_code == 400 and "client_key" in page.text


def test_s1_1_desktop_wildcard_port_redirect_uri_matches_any_port(api: Api) -> None:
    location = api.consent(redirect_uri="http://127.0.0.1:53682/callback/")
    assert location.startswith("http://127.0.0.1:53682/callback/?code=")


@pytest.mark.parametrize(
    ("params", "error"),
    [
        ({"response_type": "token"}, "unsupported_response_type"),
        ({"scope": "video.publish,video.delete"}, "invalid_scope"),
        ({"scope": "user.info.basic video.publish"}, "invalid_scope"),  # spaces, not commas
        ({"scope": ""}, "invalid_scope"),
        ({"code_challenge": "abc", "code_challenge_method": "S256"}, "invalid_request"),
        ({"code_challenge": "a" * 64, "code_challenge_method": "plain"}, "invalid_request"),
    ],
)
def test_s1_1_bad_authorize_parameters_redirect_with_error(
    api: Api, params: dict[str, str], error: str
) -> None:
    answer = api.http.get(authorize_url(api, **params), allow_redirects=False)
    assert answer.status_code == 302
    location = answer.headers["Location"]
    assert location.startswith(REDIRECT_URI + "?")
    assert query_of(location)["error"] == error
    assert query_of(location)["state"] == "s1"


def test_s1_3_code_exchange_returns_flat_json_with_newest_default_lifetimes(api: Api) -> None:
    location = api.consent("sandbox_private", ["user.info.basic", "video.upload"])
    response = api.exchange(query_of(location)["code"])
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {
        "access_token",
        "expires_in",
        "open_id",
        "refresh_token",
        "refresh_expires_in",
        "scope",
        "token_type",
    }
    assert body["access_token"].startswith("act.") and body["refresh_token"].startswith("rft.")
    assert body["expires_in"] == 7200  # §0: 2 h
    assert body["refresh_expires_in"] == 180 * 86400  # §0: 180 days
    assert body["open_id"] == "open-id-private-0002"
    assert body["scope"] == "user.info.basic,video.upload"
    assert body["token_type"] == "Bearer"


def test_s1_3_code_is_url_encoded_and_single_use(api: Api) -> None:
    location = api.consent()
    raw_query = location.split("?", 1)[1]
    code = query_of(location)["code"]
    assert code not in raw_query  # it carries characters that must be URL-decoded
    assert api.exchange(code).status_code == 200
    assert_oauth_error(api.exchange(code), 400, "invalid_grant")


def test_s1_3_code_expires(api: Api) -> None:
    code = query_of(api.consent())["code"]
    api.advance(601)
    assert_oauth_error(api.exchange(code), 400, "invalid_grant")


def test_s1_3_redirect_uri_must_equal_the_one_used_for_the_code(api: Api) -> None:
    code = query_of(api.consent())["code"]
    assert_oauth_error(
        api.exchange(code, redirect_uri="https://publisher.example.com/other"), 400, "invalid_grant"
    )
    assert api.exchange(code).status_code == 200  # a failed attempt does not burn the code


@pytest.mark.parametrize(
    ("change", "status", "error"),
    [
        ({"client_secret": "wrong"}, 401, "invalid_client"),
        ({"client_key": "other"}, 401, "invalid_client"),
        ({"client_secret": None}, 400, "invalid_request"),
        ({"grant_type": None}, 400, "invalid_request"),
        ({"grant_type": "password"}, 400, "unsupported_grant_type"),
        ({"code": None}, 400, "invalid_request"),
        ({"redirect_uri": None}, 400, "invalid_request"),
        ({"code": "not-a-code"}, 400, "invalid_grant"),
    ],
)
def test_s1_3_token_endpoint_errors_are_flat(
    api: Api, change: dict[str, str | None], status: int, error: str
) -> None:
    fields = {
        "client_key": CLIENT_KEY,
        "client_secret": CLIENT_SECRET,
        "code": query_of(api.consent())["code"],
        "grant_type": "authorization_code",
        "redirect_uri": REDIRECT_URI,
    }
    for key, value in change.items():
        if value is None:
            fields.pop(key)
        else:
            fields[key] = value
    assert_oauth_error(api.token_form(fields), status, error)


def test_s1_3_token_endpoint_takes_form_encoding_only(api: Api) -> None:
    code = query_of(api.consent())["code"]
    body = {
        "client_key": CLIENT_KEY,
        "client_secret": CLIENT_SECRET,
        "code": code,
        "grant_type": "authorization_code",
    }
    as_json = api.http.post(api.base + "/v2/oauth/token/", json={**body, "redirect_uri": REDIRECT_URI})
    assert_oauth_error(as_json, 400, "invalid_request")
    repeated = api.http.post(
        api.base + "/v2/oauth/token/",
        data=urlencode([*body.items(), ("redirect_uri", REDIRECT_URI), ("code", "again")]),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert_oauth_error(repeated, 400, "invalid_request")


def test_s0_refresh_rotates_strictly_and_keeps_the_remaining_lifetime(api: Api) -> None:
    first = api.tokens()
    api.advance(1000)
    second = api.refresh(first["refresh_token"])
    assert second.status_code == 200
    renewed = second.json()
    assert renewed["refresh_token"] != first["refresh_token"]
    assert renewed["access_token"] != first["access_token"]
    assert renewed["expires_in"] == 7200
    # refresh_expires_in is what is left of the first issue's 180 days (§0, newer pages).
    assert 180 * 86400 - 1002 <= renewed["refresh_expires_in"] <= 180 * 86400 - 999
    assert renewed["scope"] == first["scope"] and renewed["open_id"] == first["open_id"]
    # The old refresh token stopped working; the newest one works.
    assert_oauth_error(api.refresh(first["refresh_token"]), 400, "invalid_grant")
    assert api.refresh(renewed["refresh_token"]).status_code == 200


def test_s1_3_refresh_needs_a_known_token_of_this_client(api: Api) -> None:
    assert_oauth_error(api.refresh("rft.made-up"), 400, "invalid_grant")
    missing = api.token_form(
        {"client_key": CLIENT_KEY, "client_secret": CLIENT_SECRET, "grant_type": "refresh_token"}
    )
    assert_oauth_error(missing, 400, "invalid_request")


def test_s0_access_token_expires_after_expires_in(api: Api) -> None:
    tokens = api.tokens()
    api.advance(7199)
    assert api.creator_info(tokens["access_token"]).status_code == 200
    api.advance(2)
    assert_envelope(api.creator_info(tokens["access_token"]), 401, "access_token_invalid")
    fresh = api.refresh(tokens["refresh_token"]).json()
    assert api.creator_info(fresh["access_token"]).status_code == 200


def test_s0_refresh_token_expires_after_its_lifetime(api: Api) -> None:
    tokens = api.tokens()
    api.advance(180 * 86400 + 1)
    assert_oauth_error(api.refresh(tokens["refresh_token"]), 400, "invalid_grant")


def test_s0_token_lifetimes_are_configurable(make_sandbox: MakeSandbox) -> None:
    _, api = make_sandbox(access_token_ttl=86400, refresh_token_ttl=365 * 86400)
    tokens = api.tokens()
    assert tokens["expires_in"] == 86400
    assert tokens["refresh_expires_in"] == 365 * 86400


def test_s1_2_pkce_hex_challenge_is_enforced_when_sent(api: Api) -> None:
    verifier = "v" * 43 + "-._~abc"
    challenge = hashlib.sha256(verifier.encode()).hexdigest()  # hex, not base64url (§1.2)
    code = query_of(api.consent(code_challenge=challenge))["code"]
    assert_oauth_error(api.exchange(code), 400, "invalid_request")  # verifier missing
    assert_oauth_error(api.exchange(code, code_verifier="w" * 43), 400, "invalid_request")
    assert api.exchange(code, code_verifier=verifier).status_code == 200


def test_s1_4_revoke_kills_the_tokens_and_sends_authorization_removed(
    api: Api, receiver: WebhookReceiver
) -> None:
    tokens = api.tokens("sandbox_private")
    answer = api.revoke(tokens["access_token"])
    assert answer.status_code == 200 and answer.json() == {}
    assert_envelope(api.creator_info(tokens["access_token"]), 401, "access_token_invalid")
    assert_oauth_error(api.refresh(tokens["refresh_token"]), 400, "invalid_grant")
    events = receiver.wait_for(lambda items: len(items) >= 1)
    payload = events[0].body
    assert b'"event":"authorization.removed"' in payload
    assert b'"user_openid":"open-id-private-0002"' in payload
    assert b'"content":"{\\"reason\\":5}"' in payload  # 5 = developer revoked (§6.3)


def test_s1_4_revoke_errors_are_flat_and_unknown_tokens_are_not_an_error(api: Api) -> None:
    wrong = api.token_form(
        {"client_key": CLIENT_KEY, "client_secret": "nope", "token": "act.x"}, "/v2/oauth/revoke/"
    )
    assert_oauth_error(wrong, 401, "invalid_client")
    missing = api.token_form({"client_key": CLIENT_KEY, "client_secret": CLIENT_SECRET}, "/v2/oauth/revoke/")
    assert_oauth_error(missing, 400, "invalid_request")
    assert api.revoke("act.unknown").status_code == 200


def test_user_info_answers_fields_by_granted_scope(api: Api) -> None:
    token = api.token("sandbox_public", ["user.info.basic"])
    headers = {"Authorization": f"Bearer {token}"}
    basic = api.http.get(api.base + "/v2/user/info/?fields=open_id,display_name,avatar_url", headers=headers)
    body = assert_envelope(basic, 200, "ok")
    assert body["data"]["user"]["open_id"] == "open-id-public-0001"
    assert body["data"]["user"]["display_name"] == "Sandbox Public"
    profile = api.http.get(api.base + "/v2/user/info/?fields=username", headers=headers)
    assert_envelope(profile, 401, "scope_not_authorized")
    unknown = api.http.get(api.base + "/v2/user/info/?fields=shoe_size", headers=headers)
    assert_envelope(unknown, 400, "invalid_params")


def test_consent_helper_reports_an_unknown_creator(sandbox: SandboxServer) -> None:
    with pytest.raises(ConsentError, match="nobody"):
        authorize(
            sandbox.base_url,
            client_key=CLIENT_KEY,
            redirect_uri=REDIRECT_URI,
            scopes="video.publish",
            state="s",
            creator="nobody",
        )


def test_consent_post_validates_the_form_again(api: Api) -> None:
    fields = {
        "client_key": CLIENT_KEY,
        "redirect_uri": "https://evil.example.com/cb",
        "scope": "video.publish",
        "response_type": "code",
        "creator": "sandbox_public",
        "decision": "allow",
    }
    answer = api.http.post(api.base + "/v2/auth/authorize/", data=fields, allow_redirects=False)
    assert answer.status_code == 400 and "Location" not in answer.headers
    fields["redirect_uri"] = REDIRECT_URI
    fields["creator"] = "ghost"
    answer = api.http.post(api.base + "/v2/auth/authorize/", data=fields, allow_redirects=False)
    assert answer.status_code == 400 and "ghost" in answer.text
