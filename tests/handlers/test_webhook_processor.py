"""TikTok's events applied to posts and accounts (WH-4, WH-6, WH-7): exactly once, never backwards, and
the waiting workflow resumed by the same event."""

from __future__ import annotations

import json
import time
from typing import Any

from functions.posting.quota import inbox_ledger, posts_ledger
from functions.store.accounts import Account
from functions.webhooks.processor import process
from tests.support.events import load_event
from tests.support.executions import parked_execution
from tests.support.lambda_context import FakeContext
from tests.support.world import World

NOW = int(time.time())


def _post(
    w: World, post_id: str, *, status: str = "PROCESSING", mode: str = "direct", publish_id: str = ""
) -> None:
    w.wiring.posts.create(
        {
            "post_id": post_id,
            "account_id": "alice",
            "created_at": NOW,
            "status": "RECEIVED",
            "status_rank": 0,
            "mode": mode,
            "kind": "video",
            "media": {"bucket": "b", "keys": ["posts/alice/a.mp4"]},
        },
        NOW,
    )
    if status != "RECEIVED":
        w.wiring.posts.transition(post_id, status, now=NOW)
    w.wiring.posts.set_publish_id(post_id, publish_id or f"v_pub_file~v2-1.{post_id}", NOW)


def _event(event: str, **content: Any) -> str:
    return json.dumps(
        {
            "client_key": "sandbox-client-key",
            "event": event,
            "create_time": NOW,
            "user_openid": "open-alice",
            "content": json.dumps(content),
        }
    )


def _waiting_execution(w: World, post_id: str) -> str:
    """A real execution parked on a task token (moto runs it), whose token is stored on the post."""
    arn, token = parked_execution(w, post_id, timeout_seconds=60)
    assert w.wiring.posts.update_fields(post_id, {"task_token": token}, NOW)
    return arn


def _status(w: World, arn: str) -> dict[str, Any]:
    sfn = w.client("stepfunctions")
    for _ in range(200):
        described = sfn.describe_execution(executionArn=arn)
        if described["status"] != "RUNNING":
            return described  # type: ignore[no-any-return]
        time.sleep(0.02)
    return sfn.describe_execution(executionArn=arn)  # type: ignore[no-any-return]


def test_complete_publishes_and_resumes_the_workflow_once(world: World) -> None:
    _post(world, "p1")
    arn = _waiting_execution(world, "p1")
    body = _event("post.publish.complete", publish_id="v_pub_file~v2-1.p1", publish_type="DIRECT_PUBLISH")
    assert process(world.wiring, body).effect == "applied"
    described = _status(world, arn)
    assert described["status"] == "SUCCEEDED"
    assert json.loads(described["output"]) == {"final": True, "status": "PUBLISH_COMPLETE"}
    post = world.wiring.posts.get("p1")
    assert post is not None and post["status"] == "PUBLISH_COMPLETE" and "task_token" not in post
    assert process(world.wiring, body).effect == "duplicate"  # the same delivery again: nothing
    assert len(world.wiring.posts.get("p1")["history"]) == len(post["history"])  # type: ignore[index]


def test_failed_records_tiktoks_reason_and_fails_the_waiting_workflow(world: World) -> None:
    _post(world, "p2")
    arn = _waiting_execution(world, "p2")
    process(
        world.wiring,
        _event(
            "post.publish.failed",
            publish_id="v_pub_file~v2-1.p2",
            reason="spam_risk_text",
            publish_type="DIRECT_PUBLISH",
        ),
    )
    assert _status(world, arn)["status"] == "FAILED"
    post = world.wiring.posts.get("p2")
    assert post is not None and post["status"] == "FAILED" and post["fail_reason"] == "spam_risk_text"
    assert "caption" in post["fail_detail"].lower() or post["fail_detail"]


def test_a_late_event_never_moves_a_post_backwards(world: World) -> None:
    _post(world, "p3")
    process(world.wiring, _event("post.publish.complete", publish_id="v_pub_file~v2-1.p3"))
    effect = process(
        world.wiring, _event("post.publish.failed", publish_id="v_pub_file~v2-1.p3", reason="internal")
    )
    assert effect.effect == "no_change"
    post = world.wiring.posts.get("p3")
    assert post is not None and post["status"] == "PUBLISH_COMPLETE" and "fail_reason" not in post


def test_inbox_delivery_then_the_creators_post_frees_the_pending_share(world: World) -> None:
    _post(world, "p4", mode="inbox", publish_id="v_inbox_file~v2.p4")
    ledger = world.wiring.quota
    ledger.reserve(inbox_ledger("alice"), capacity=5, window_seconds=86_400, holder="p4", now=NOW)
    process(
        world.wiring,
        _event("post.publish.inbox_delivered", publish_id="v_inbox_file~v2.p4", publish_type="INBOX_SHARE"),
    )
    assert world.wiring.posts.get("p4")["status"] == "SEND_TO_USER_INBOX"  # type: ignore[index]
    assert ledger.usage(inbox_ledger("alice"), NOW, 5)[0] == 1
    process(
        world.wiring,
        _event("post.publish.complete", publish_id="v_inbox_file~v2.p4", publish_type="INBOX_SHARE"),
    )
    assert world.wiring.posts.get("p4")["status"] == "PUBLISH_COMPLETE"  # type: ignore[index]
    assert ledger.usage(inbox_ledger("alice"), int(time.time()) + 1, 5)[0] == 0


def test_visibility_events_keep_tiktoks_spelling(world: World) -> None:
    _post(world, "p5")
    process(
        world.wiring, _event("post.publish.publicly_available", publish_id="v_pub_file~v2-1.p5", post_id=7461)
    )
    post = world.wiring.posts.get("p5")
    assert post is not None and post["publicly_available"] is True and post["tiktok_post_ids"] == ["7461"]
    assert post["status"] == "PUBLISH_COMPLETE"
    process(
        world.wiring,
        _event("post.publish.no_longer_publicaly_available", publish_id="v_pub_file~v2-1.p5", post_id=7461),
    )
    assert world.wiring.posts.get("p5")["publicly_available"] is False  # type: ignore[index]


def test_unknown_posts_and_event_types_are_acknowledged_not_errors(world: World) -> None:
    assert process(world.wiring, _event("post.publish.complete", publish_id="v_pub_file~nobody")).effect == (
        "unknown_post"
    )
    assert process(world.wiring, _event("video.upload.failed", share_id="x")).effect == "ignored_event_type"
    assert process(world.wiring, "[1, 2]").effect == "not_an_object"
    assert process(world.wiring, "{not json").effect == "not_json"


def test_authorization_removed_disconnects_and_fails_waiting_posts(world: World) -> None:
    w = world.wiring
    w.accounts.put(Account("alice", "open-alice", "alice", "Alice", ["video.publish"], "connected"))
    w.tokens.save(
        "alice",
        access_token="act.x",
        refresh_token="rft.y",
        open_id="open-alice",
        scopes=[],
        access_expires_at=NOW + 7200,
        refresh_expires_at=NOW + 86_400,
        now=NOW,
    )
    _post(world, "p6", status="WAITING_QUOTA")
    w.quota.reserve(posts_ledger("alice"), capacity=15, window_seconds=86_400, holder="p6", now=NOW)
    arn = _waiting_execution(world, "p6")
    body = json.dumps(
        {
            "client_key": "sandbox-client-key",
            "event": "authorization.removed",
            "create_time": NOW,
            "user_openid": "open-alice",
            "content": json.dumps({"reason": 1}),
        }
    )
    assert process(w, body).effect == "applied"
    account = w.accounts.get("alice")
    assert account is not None and account.status == "disconnected"
    assert "disconnected the app" in account.status_reason
    assert w.tokens.load("alice") is None
    post = w.posts.get("p6")
    assert post is not None and post["status"] == "FAILED" and post["fail_reason"] == "auth_removed"
    assert _status(world, arn)["status"] in {"FAILED", "ABORTED"}


def test_the_sqs_handler_reports_no_failures_for_good_messages(world: World) -> None:
    from functions.handlers.webhook_processor import handler

    _post(world, "p7")
    event = load_event("sqs/s3_object_created")
    event["Records"][0]["body"] = _event("post.publish.complete", publish_id="v_pub_file~v2-1.p7")
    result = handler(event, FakeContext(function_name="webhook_processor"))
    assert result == {"batchItemFailures": []}
    assert world.wiring.posts.get("p7")["status"] == "PUBLISH_COMPLETE"  # type: ignore[index]
