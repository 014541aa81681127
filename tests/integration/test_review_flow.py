"""The review page end to end: the CDK state machine in moto, every handler in process, the HTTP API on
loopback and the sandbox as TikTok. A direct post whose author chose no privacy waits in AWAITING_REVIEW
with a review link; nothing is sent to TikTok until the creator posts it from the page."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from functions.settings import Env
from local.embedded import EmbeddedSystem
from local.media import video
from tests.support.sandbox_calls import tiktok_calls

MIB = 1024 * 1024
INIT = "/v2/post/publish/video/init/"
CREATOR_INFO = "/v2/post/publish/creator_info/query/"


@pytest.fixture(scope="module")
def system() -> Iterator[EmbeddedSystem]:
    env = {Env.APP_STATUS: "audited", Env.UPLOAD_CHUNK_BYTES: str(5 * MIB)}
    with EmbeddedSystem(env=env, virtual_time=True) as running:
        answer = running.connect("sandbox_public", alias="pub")
        assert answer.status_code == 200, answer.text
        yield running


def _awaiting_review(system: EmbeddedSystem, name: str, caption: str) -> dict[str, Any]:
    system.put_object(f"posts/pub/media/{name}.mp4", video(label=name))
    manifest = {"video": f"media/{name}.mp4", "mode": "direct", "caption": caption}  # no privacy_level
    system.put_object(f"posts/pub/{name}.json", json.dumps(manifest).encode())
    post = system.wait_for_post("pub", f"posts/pub/{name}.json", {"AWAITING_REVIEW", "FAILED"})
    assert post["status"] == "AWAITING_REVIEW", (post.get("fail_reason"), post.get("fail_detail"))
    return post


def _execution(system: EmbeddedSystem, post_id: str) -> dict[str, Any]:
    arn = system.rt.state_machine_arn.replace(":stateMachine:", ":execution:") + f":{post_id}"
    return system.rt.client("stepfunctions").describe_execution(executionArn=arn)  # type: ignore[no-any-return]


def test_a_post_without_privacy_is_reviewed_then_published(system: EmbeddedSystem) -> None:
    before = tiktok_calls(system)
    post = _awaiting_review(system, "review-me", "the author's caption")
    link = post["review_url"]
    assert link.startswith(f"{system.api_url}/review/{post['post_id']}.")
    assert post == system.api_get(f"/posts/{post['post_id']}")  # GET /posts/{id} shows the link too
    assert "task_token" not in json.dumps(post) and "access_token" not in link
    assert tiktok_calls(system).get(INIT, 0) == before.get(INIT, 0)  # nothing sent before the creator agrees

    page = requests.get(link, timeout=30)
    assert page.status_code == 200 and page.headers["Cache-Control"] == "no-store"
    select = re.search(r'<select id="privacy_level".*?</select>', page.text)
    assert select is not None
    assert re.findall(r'<option value="([^"]*)"', select.group(0)) == [
        "",
        "PUBLIC_TO_EVERYONE",
        "MUTUAL_FOLLOW_FRIENDS",
        "SELF_ONLY",
    ]
    assert '<option value="" selected>' in select.group(0)  # the dropdown starts empty
    assert "Sandbox Public" in page.text and "the author&#x27;s caption" in page.text
    assert tiktok_calls(system)[CREATOR_INFO] == before.get(CREATOR_INFO, 0) + 2  # Prepare, then the page

    form = {
        "caption": "reviewed on the page",
        "privacy_level": "SELF_ONLY",
        "allow_comment": "on",
        "consent": "on",
        "action": "post",
    }
    answer = requests.post(link, data=form, allow_redirects=False, timeout=30)
    assert answer.status_code == 303, answer.text[:500]
    assert answer.headers["Location"] == f"{link}?posted=1"

    done = system.wait_for_post("pub", "posts/pub/review-me.json", {"PUBLISH_COMPLETE", "FAILED"})
    assert done["status"] == "PUBLISH_COMPLETE", (done.get("fail_reason"), done.get("fail_detail"))
    statuses = [h["status"] for h in done["history"]]
    assert statuses.index("AWAITING_REVIEW") < statuses.index("SCHEDULED") < statuses.index("INITIALIZING")
    received = system.sandbox_post(done["publish_id"])
    assert received["post_info"]["privacy_level"] == "SELF_ONLY"
    assert received["post_info"]["title"] == "reviewed on the page"
    assert received["post_info"]["disable_comment"] is False
    assert "review_url" not in done and done["review"]["decision"]["decision"] == "approved"
    assert tiktok_calls(system)[INIT] == before.get(INIT, 0) + 1

    status = requests.get(answer.headers["Location"], timeout=30)
    assert status.status_code == 200 and "Published on TikTok." in status.text
    again = requests.post(
        link, data={**form, "privacy_level": "PUBLIC_TO_EVERYONE"}, allow_redirects=False, timeout=30
    )
    assert again.status_code == 303  # a replay decides nothing
    assert tiktok_calls(system)[INIT] == before.get(INIT, 0) + 1


def test_discard_cancels_the_post_and_nothing_reaches_tiktok(system: EmbeddedSystem) -> None:
    before = tiktok_calls(system)
    post = _awaiting_review(system, "throw-away", "never mind")
    answer = requests.post(post["review_url"], data={"action": "discard"}, allow_redirects=False, timeout=30)
    assert answer.status_code == 303
    cancelled = system.wait_for_post("pub", "posts/pub/throw-away.json", {"CANCELLED", "FAILED"})
    assert cancelled["status"] == "CANCELLED"
    assert tiktok_calls(system).get(INIT, 0) == before.get(INIT, 0)
    for _ in range(100):
        if _execution(system, post["post_id"])["status"] != "RUNNING":
            break
        time.sleep(0.1)
    assert _execution(system, post["post_id"])["status"] == "FAILED"  # ended through RecordFailure
    page = requests.get(post["review_url"], timeout=30)
    assert "The post was discarded. Nothing was sent to TikTok." in page.text


def test_a_crafted_post_breaking_a_rule_changes_nothing(system: EmbeddedSystem) -> None:
    post = _awaiting_review(system, "crafted", "branded")
    form = {
        "privacy_level": "SELF_ONLY",
        "disclose": "on",
        "branded_content": "on",
        "consent": "on",
        "action": "post",
    }
    answer = requests.post(post["review_url"], data=form, allow_redirects=False, timeout=30)
    assert answer.status_code == 422
    assert "Branded content visibility cannot be set to private." in answer.text
    assert system.api_get(f"/posts/{post['post_id']}")["status"] == "AWAITING_REVIEW"
    requests.post(post["review_url"], data={"action": "discard"}, allow_redirects=False, timeout=30)


def test_the_operator_can_ask_for_approval_of_every_direct_post(system: EmbeddedSystem) -> None:
    system.rt.update_env({Env.REVIEW_ALL_DIRECT_POSTS: "true"})
    try:
        system.put_object("posts/pub/media/approve.mp4", video(label="approve"))
        manifest = {"video": "media/approve.mp4", "privacy_level": "PUBLIC_TO_EVERYONE", "caption": "c"}
        system.put_object("posts/pub/approve.json", json.dumps(manifest).encode())
        post = system.wait_for_post("pub", "posts/pub/approve.json", {"AWAITING_REVIEW", "FAILED"})
    finally:
        system.rt.update_env({Env.REVIEW_ALL_DIRECT_POSTS: "false"})
    assert post["status"] == "AWAITING_REVIEW"
    assert "every direct post to be approved" in post["review"]["reason"]
    page = requests.get(post["review_url"], timeout=30)
    assert '<option value="" selected>' in page.text  # the author's choice is no default on the page
    requests.post(post["review_url"], data={"action": "discard"}, allow_redirects=False, timeout=30)


def test_an_unaudited_app_refuses_at_prepare_what_could_never_be_posted(system: EmbeddedSystem) -> None:
    before = tiktok_calls(system)
    system.rt.update_env({Env.APP_STATUS: "unaudited"})
    try:
        system.put_object("posts/pub/media/public.mp4", video(label="public"))
        manifest = {"video": "media/public.mp4", "caption": "to a public account"}
        system.put_object("posts/pub/public.json", json.dumps(manifest).encode())
        post = system.wait_for_post("pub", "posts/pub/public.json", {"AWAITING_REVIEW", "FAILED"})
    finally:
        system.rt.update_env({Env.APP_STATUS: "audited"})
    assert post["status"] == "FAILED"
    assert post["fail_reason"] == "unaudited_client_can_only_post_to_private_accounts"
    assert "make the account private or use mode inbox" in post["fail_detail"]
    assert "review" not in post or "url" not in post["review"]
    assert tiktok_calls(system).get(INIT, 0) == before.get(INIT, 0)
