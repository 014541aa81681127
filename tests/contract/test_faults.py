"""Faults on demand (POST /_sandbox/faults), each answering in the shape TikTok's path uses."""

from __future__ import annotations

import time
from typing import Any

import pytest
from sandbox_client import CLIENT_KEY, CLIENT_SECRET, Api, MakeSandbox, assert_envelope, assert_oauth_error
from sandbox_media import video

CREATOR_INFO = "/v2/post/publish/creator_info/query/"


def test_error_rate_one_fails_every_call_with_the_envelope(api: Api) -> None:
    token = api.token()
    api.faults(error_rate={"/v2/post/publish/video/init/": 1.0})
    assert_envelope(api.init_video(token, 1000), 500, "internal_error")
    assert api.creator_info(token).status_code == 200  # other paths untouched
    calls = api.http.get(api.base + "/_sandbox/calls").json()
    assert calls["statuses"]["/v2/post/publish/video/init/"] == {"500": 1}


def test_error_status_and_wildcard(api: Api) -> None:
    token = api.token()
    api.faults(error_rate={"*": 1.0}, error_status=503)
    assert_envelope(api.creator_info(token), 503, "internal_error")
    assert_envelope(api.status(token, "x"), 503, "internal_error")


def test_error_rate_is_a_probability(api: Api) -> None:
    token = api.token()
    api.faults(error_rate={CREATOR_INFO: 0.5})
    statuses = []
    for n in range(40):
        if n and n % 20 == 0:
            api.advance(61)
        statuses.append(api.creator_info(token).status_code)
    assert 5 <= statuses.count(500) <= 35 and statuses.count(200) == 40 - statuses.count(500)


def test_injected_5xx_do_not_use_up_the_rate_limit(api: Api) -> None:
    token = api.token()
    api.faults(error_rate={CREATOR_INFO: 1.0})
    for _ in range(25):
        assert api.creator_info(token).status_code == 500
    api.faults(error_rate={})
    assert api.creator_info(token).status_code == 200


def test_429_burst_then_normal_answers(api: Api) -> None:
    token = api.token()
    publish_id = api.post_video(token, video())
    api.faults(status_429_burst={"/v2/post/publish/status/fetch/": 3})
    for _ in range(3):
        assert_envelope(api.status(token, publish_id), 429, "rate_limit_exceeded")
    assert api.status(token, publish_id).status_code == 200
    assert api.http.get(api.base + "/_sandbox/faults").json()["status_429_burst"] == {
        "/v2/post/publish/status/fetch/": 0
    }


def test_slow_responses(api: Api) -> None:
    token = api.token()
    api.faults(slow_seconds={CREATOR_INFO: 0.3})
    started = time.monotonic()
    assert api.creator_info(token).status_code == 200
    assert time.monotonic() - started >= 0.3


def test_oauth_and_consent_paths_fail_in_their_own_shapes(api: Api) -> None:
    api.faults(error_rate={"/v2/oauth/token/": 1.0, "/v2/auth/authorize/": 1.0})
    fields = {
        "client_key": CLIENT_KEY,
        "client_secret": CLIENT_SECRET,
        "grant_type": "refresh_token",
        "refresh_token": "x",
    }
    assert_oauth_error(api.token_form(fields), 500, "server_error")
    page = api.http.get(api.base + "/v2/auth/authorize/?client_key=" + CLIENT_KEY)
    assert page.status_code == 500 and page.headers["Content-Type"].startswith("text/html")
    api.faults(error_rate={}, status_429_burst={"/v2/oauth/token/": 1})
    assert_oauth_error(api.token_form(fields), 429, "temporarily_unavailable")


def test_fail_next_posts_with_a_chosen_reason(api: Api) -> None:
    api.faults(fail_next_posts=["internal", "spam_risk"])
    token = api.token()
    outcomes = []
    for _ in range(3):  # one at a time: reasons go to posts in the order they finish processing
        post = api.wait_status(api.post_video(token, video()), "FAILED", "PUBLISH_COMPLETE")
        outcomes.append((post["status"], post["fail_reason"]))
    assert outcomes == [("FAILED", "internal"), ("FAILED", "spam_risk"), ("PUBLISH_COMPLETE", "")]


def test_spammy_caption_fails_with_spam_risk_text(api: Api) -> None:
    publish_id = api.post_video(api.token(), video(), title="buy now #SandboxSpam")
    assert api.wait_status(publish_id, "FAILED")["fail_reason"] == "spam_risk_text"


@pytest.mark.parametrize(
    "body",
    [
        {"error_rte": {}},
        {"error_rate": {"/v2/nope/": 0.5}},
        {"error_rate": {"*": 1.5}},
        {"error_rate": {"*": "half"}},
        {"error_status": 404},
        {"status_429_burst": {"*": -1}},
        {"status_429_burst": {"*": 1.5}},
        {"drop_connection_mid_put": True},
        {"expire_upload_urls": "yes"},
        {"fail_next_posts": ["not_a_reason"]},
        [],
    ],
)
def test_fault_schema_is_validated_and_a_bad_update_changes_nothing(api: Api, body: Any) -> None:
    before = api.http.get(api.base + "/_sandbox/faults").json()
    answer = api.http.post(api.base + "/_sandbox/faults", json=body)
    assert answer.status_code == 400 and answer.json()["error"]
    assert api.http.get(api.base + "/_sandbox/faults").json() == before


def test_a_seeded_sandbox_injects_the_same_faults_after_every_reset(make_sandbox: MakeSandbox) -> None:
    _, api = make_sandbox(seed=7)

    def draws() -> list[int]:
        token = api.token()
        api.faults(error_rate={CREATOR_INFO: 0.5})
        return [api.creator_info(token).status_code for _ in range(16)]

    first = draws()
    assert 500 in first and 200 in first
    api.http.post(api.base + "/_sandbox/reset")
    assert draws() == first


def test_faults_merge_by_key_clear_with_delete_and_reset_with_the_sandbox(api: Api) -> None:
    api.faults(error_rate={"*": 0.1})
    merged = api.faults(slow_seconds={"*": 0.01}).json()
    assert merged["error_rate"] == {"*": 0.1} and merged["slow_seconds"] == {"*": 0.01}
    cleared = api.http.delete(api.base + "/_sandbox/faults").json()
    assert cleared["error_rate"] == {} and cleared["slow_seconds"] == {}
    api.faults(expire_upload_urls=True)
    api.http.post(api.base + "/_sandbox/reset")
    assert api.http.get(api.base + "/_sandbox/faults").json()["expire_upload_urls"] is False
