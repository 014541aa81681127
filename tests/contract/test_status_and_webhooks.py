"""Status progression (docs/reference/tiktok-api.md §2.6, §3.7, §5) and webhooks (§6)."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Callable
from typing import Any

from sandbox_client import CLIENT_KEY, CLIENT_SECRET, Api, MakeSandbox, assert_envelope
from sandbox_media import video
from sandbox_peers import Received, WebhookReceiver

from local.sandbox import SandboxServer


def payload(received: Received) -> dict[str, Any]:
    return dict(json.loads(received.body))


PUBLIC = "PUBLIC_TO_EVERYONE"


def content(received: Received) -> dict[str, Any]:
    return dict(json.loads(payload(received)["content"]))


def named(items: list[Received], event: str) -> list[Received]:
    return [r for r in items if payload(r)["event"] == event]


def test_s6_4_every_delivery_is_signed_with_the_client_secret(api: Api, receiver: WebhookReceiver) -> None:
    api.post_video(api.token(), video(), privacy=PUBLIC)  # one webhook: publicly_available
    items = receiver.wait_for(lambda got: len(got) >= 1)
    for item in items:
        header = item.headers["TikTok-Signature"]
        parts = dict(part.split("=", 1) for part in header.split(","))
        expected = hmac.new(
            CLIENT_SECRET.encode(), f"{parts['t']}.".encode() + item.body, hashlib.sha256
        ).hexdigest()
        assert hmac.compare_digest(parts["s"], expected)
        assert len(parts["s"]) == 64 and parts["s"] == parts["s"].lower()
        assert item.headers["Content-Type"] == "application/json"


def test_s6_2_envelope_fields_and_content_is_a_json_string(
    api: Api, receiver: WebhookReceiver, sandbox: SandboxServer
) -> None:
    api.post_video(api.token(), video(), privacy=PUBLIC)  # one webhook: publicly_available
    item = receiver.wait_for(lambda got: len(got) >= 1)[0]
    body = payload(item)
    assert set(body) == {"client_key", "event", "create_time", "user_openid", "content"}
    assert body["client_key"] == CLIENT_KEY
    assert body["user_openid"] == "open-id-public-0001"
    assert isinstance(body["create_time"], int) and abs(body["create_time"] - sandbox.clock.now()) < 60
    assert isinstance(body["content"], str) and isinstance(json.loads(body["content"]), dict)


def test_s5_direct_public_post_completes_then_becomes_publicly_available(
    api: Api, receiver: WebhookReceiver
) -> None:
    token = api.token()
    publish_id = api.post_video(token, video(), privacy="PUBLIC_TO_EVERYONE")
    items = receiver.wait_for(lambda got: len(named(got, "post.publish.publicly_available")) == 1)
    assert named(items, "post.publish.complete") == []  # documented for inbox drafts only (§6.3)
    public = content(named(items, "post.publish.publicly_available")[0])
    assert public["publish_id"] == publish_id and public["publish_type"] == "DIRECT_PUBLISH"
    status = assert_envelope(api.status(token, publish_id), 200, "ok")["data"]
    assert status["status"] == "PUBLISH_COMPLETE"
    assert status["publicaly_available_post_id"] == [int(public["post_id"])]
    assert "fail_reason" not in status


def test_s6_3_non_public_direct_posts_announce_no_success_at_all(api: Api, receiver: WebhookReceiver) -> None:
    token = api.token()
    publish_id = api.post_video(token, video(), privacy="SELF_ONLY")
    api.wait_status(publish_id, "PUBLISH_COMPLETE")
    api.advance(3600)  # long past any moderation delay
    time.sleep(0.2)
    assert receiver.events() == []  # neither complete (inbox only) nor publicly_available (public only)
    assert api.status(token, publish_id).json()["data"]["publicaly_available_post_id"] == []


def test_s5_inbox_upload_reaches_the_inbox_then_the_creator_posts_it(
    api: Api, receiver: WebhookReceiver
) -> None:
    token = api.token("sandbox_private")
    publish_id = api.post_video(token, video(), inbox=True)
    api.wait_status(publish_id, "SEND_TO_USER_INBOX")
    delivered = receiver.wait_for(lambda got: len(named(got, "post.publish.inbox_delivered")) == 1)
    assert content(named(delivered, "post.publish.inbox_delivered")[0]) == {
        "publish_id": publish_id,
        "publish_type": "INBOX_SHARE",
    }
    assert api.status(token, publish_id).json()["data"]["status"] == "SEND_TO_USER_INBOX"
    # The creator finishes the draft in the app, twice (one draft, several posts: §5.1, §6.3).
    for _ in range(2):
        assert api.http.post(f"{api.base}/_sandbox/posts/{publish_id}/complete", json={}).status_code == 200
    items = receiver.wait_for(lambda got: len(named(got, "post.publish.complete")) == 2)
    assert all(content(r)["publish_type"] == "INBOX_SHARE" for r in named(items, "post.publish.complete"))
    assert api.status(token, publish_id).json()["data"]["status"] == "PUBLISH_COMPLETE"
    assert api.inspect(publish_id)["completions"] == 2


def test_inbox_completion_control_refuses_drafts_not_in_the_inbox(api: Api) -> None:
    direct = api.post_video(api.token(), video())
    assert api.http.post(f"{api.base}/_sandbox/posts/{direct}/complete", json={}).status_code == 409
    assert api.http.post(f"{api.base}/_sandbox/posts/nope/complete", json={}).status_code == 404


def test_s3_7_status_moves_with_sandbox_time(make_sandbox: MakeSandbox) -> None:
    _, api = make_sandbox(time_scale=1.0, processing_seconds=30.0, moderation_seconds=60.0)
    token = api.token()
    publish_id = api.post_video(token, video(), privacy="PUBLIC_TO_EVERYONE")
    api.wait_for(publish_id, lambda p: bool(p["probe"]))  # the media check ran; processing is timed now
    assert api.status(token, publish_id).json()["data"]["status"] == "PROCESSING_UPLOAD"
    api.advance(29)
    assert api.inspect(publish_id)["status"] == "PROCESSING_UPLOAD"
    api.advance(2)
    api.wait_status(publish_id, "PUBLISH_COMPLETE")
    assert api.status(token, publish_id).json()["data"]["publicaly_available_post_id"] == []  # in moderation
    api.advance(61)
    post = api.wait_for(publish_id, lambda p: p["publicly_available"])
    assert api.status(token, publish_id).json()["data"]["publicaly_available_post_id"] == post["post_ids"]


def test_s2_6_status_fetch_checks_the_publish_id_and_owner(api: Api) -> None:
    token = api.token()
    assert_envelope(api.status(token, "v_pub_file~v2-1.1"), 400, "invalid_publish_id")
    other = api.post_video(api.token("sandbox_private"), video())
    assert_envelope(api.status(token, other), 400, "token_not_authorized_for_specified_publish_id")
    assert_envelope(
        api.call("/v2/post/publish/status/fetch/", token, {"publish_id": 5}), 400, "invalid_params"
    )
    # Another token of the same creator (say, after a refresh) may ask.
    mine = api.post_video(token, video())
    assert api.status(api.token(), mine).status_code == 200
    assert_envelope(
        api.status(api.token("sandbox_public", ["user.info.basic"]), mine), 401, "scope_not_authorized"
    )


def test_s7_1_status_fetch_allows_30_per_minute(api: Api) -> None:
    token = api.token()
    publish_id = api.post_video(token, video())
    for _ in range(30):
        assert api.status(token, publish_id).status_code == 200
    assert_envelope(api.status(token, publish_id), 429, "rate_limit_exceeded")
    api.advance(60)
    assert api.status(token, publish_id).status_code == 200


def test_s6_1_failed_deliveries_are_retried_with_backoff_until_200(
    api: Api, receiver: WebhookReceiver
) -> None:
    receiver.statuses.extend([500, 503, 201])  # a 201 is not a 200: still a failure (§6.1)
    api.post_video(api.token(), video(), privacy=PUBLIC)  # one webhook: publicly_available
    items = receiver.wait_for(lambda got: len(got) >= 4)
    assert [r.status for r in items[:4]] == [500, 503, 201, 200]
    assert len({r.body for r in items[:4]}) == 1  # the same event each time
    delivery = api.deliveries()[0]
    assert delivery["state"] == "delivered"
    assert [a["status_code"] for a in delivery["attempts"]] == [500, 503, 201, 200]


def moved_past(attempts: int) -> Callable[[list[dict[str, Any]]], bool]:
    def check(deliveries: list[dict[str, Any]]) -> bool:
        return len(deliveries[0]["attempts"]) > attempts or deliveries[0]["state"] == "dropped"

    return check


def test_s6_1_backoff_grows_exponentially_and_gives_up_after_72h(
    make_sandbox: MakeSandbox, receiver: WebhookReceiver
) -> None:
    server, api = make_sandbox(
        time_scale=1.0, webhook_retry_base_seconds=3600.0, webhook_retry_max_seconds=86400.0
    )
    receiver.default_status = 500
    tokens = api.tokens("sandbox_private")
    api.revoke(tokens["access_token"])  # one event: authorization.removed
    gaps = []
    for _ in range(12):
        delivery = api.wait_deliveries(lambda d: d and d[0]["attempts"], timeout=5)[0]
        if delivery["state"] == "dropped":
            break
        attempts = len(delivery["attempts"])
        due = delivery["next_attempt_at"]
        gaps.append(round(due - delivery["attempts"][-1]["at"]))
        api.advance(due - server.clock.now() + 0.01)
        api.wait_deliveries(moved_past(attempts), timeout=5)
    assert gaps[:6] == [3600, 7200, 14400, 28800, 57600, 86400]
    final = api.deliveries()[0]
    assert final["state"] == "dropped"
    assert final["attempts"][-1]["at"] - final["created_at"] <= 72 * 3600


def test_s6_1_duplicate_delivery_switch(api: Api, receiver: WebhookReceiver) -> None:
    api.faults(duplicate_webhooks=True)
    api.post_video(api.token(), video(), privacy=PUBLIC)  # one webhook: publicly_available
    items = receiver.wait_for(lambda got: len(named(got, "post.publish.publicly_available")) == 2)
    first, second = named(items, "post.publish.publicly_available")
    assert first.body == second.body
    duplicates = [d for d in api.deliveries() if d["duplicate_of"] is not None]
    assert duplicates and all(d["state"] == "delivered" for d in duplicates)


def test_s6_3_authorization_removed_stops_unfinished_posts(api: Api, receiver: WebhookReceiver) -> None:
    token = api.token("sandbox_private")
    init = api.init_video(token, 1000).json()["data"]
    answer = api.http.post(f"{api.base}/_sandbox/creators/sandbox_private/deauthorize", json={"reason": 1})
    assert answer.status_code == 200
    post = api.wait_status(init["publish_id"], "FAILED")
    assert post["fail_reason"] == "auth_removed"
    items = receiver.wait_for(lambda got: len(got) >= 2)
    removed = named(items, "authorization.removed")
    assert [content(r) for r in removed] == [{"reason": 1}]
    assert content(named(items, "post.publish.failed")[0])["reason"] == "auth_removed"
    assert_envelope(api.creator_info(token), 401, "access_token_invalid")
    data = b"x" * 1000
    assert_envelope(api.put(init["upload_url"], data, 0, 1000), 404, "invalid_file_upload")


def test_s6_3_no_longer_publicly_available(api: Api, receiver: WebhookReceiver) -> None:
    publish_id = api.post_video(api.token(), video(), privacy="PUBLIC_TO_EVERYONE")
    post = api.wait_for(publish_id, lambda p: p["publicly_available"])
    assert api.http.post(f"{api.base}/_sandbox/posts/{publish_id}/take_down").status_code == 200
    items = receiver.wait_for(lambda got: len(named(got, "post.publish.no_longer_publicaly_available")) == 1)
    gone = content(named(items, "post.publish.no_longer_publicaly_available")[0])
    assert gone == {
        "publish_id": publish_id,
        "publish_type": "DIRECT_PUBLISH",
        "post_id": str(post["post_ids"][0]),
    }
