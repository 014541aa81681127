"""POST /webhooks/tiktok answers fast and only enqueues (WH-5); start_post turns S3 events into posts."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

from functions.handlers.start_post import handler as start_post
from functions.handlers.webhook import handler as webhook
from functions.settings import Env
from functions.store.accounts import Account
from functions.tiktok.signature import sign
from tests.support.events import load_event
from tests.support.lambda_context import FakeContext
from tests.support.world import CLIENT_KEY, CLIENT_SECRET, World


def _messages(world: World) -> list[dict[str, Any]]:
    sqs = world.client("sqs")
    return sqs.receive_message(QueueUrl=world.env[Env.WEBHOOK_QUEUE_URL], MaxNumberOfMessages=10).get(
        "Messages", []
    )


def _webhook(body: str, header: str | None) -> dict[str, Any]:
    headers = {"content-type": "application/json"}
    if header is not None:
        headers["tiktok-signature"] = header
    return webhook(load_event("http/post_webhook", body=body, headers=headers), FakeContext())  # type: ignore[no-any-return]


def test_a_signed_event_is_enqueued_raw_and_answered_200(world: World) -> None:
    body = json.dumps(
        {
            "client_key": CLIENT_KEY,
            "event": "post.publish.complete",
            "create_time": int(time.time()),
            "user_openid": "u",
            "content": json.dumps({"publish_id": "p"}),
        }
    )
    answer = _webhook(body, sign(CLIENT_SECRET, body.encode(), int(time.time())))
    assert answer["statusCode"] == 200
    (message,) = _messages(world)
    assert message["Body"] == body  # the exact bytes: the processor dedupes on their hash


@pytest.mark.parametrize("header", [None, "t=1,s=00", "nonsense", "t=abc,s=" + "0" * 64])
def test_a_bad_signature_is_401_and_enqueues_nothing(world: World, header: str | None) -> None:
    body = json.dumps({"client_key": CLIENT_KEY, "event": "post.publish.complete"})
    assert _webhook(body, header)["statusCode"] == 401
    assert _messages(world) == []


@pytest.mark.parametrize(("offset", "status"), [(-72 * 3600 + 60, 200), (290, 200), (10 * 60, 401)])
def test_a_genuine_late_retry_passes_and_a_timestamp_from_the_future_does_not(
    world: World, offset: int, status: int
) -> None:
    body = json.dumps({"client_key": CLIENT_KEY, "event": "post.publish.complete", "offset": offset})
    answer = _webhook(body, sign(CLIENT_SECRET, body.encode(), int(time.time()) + offset))
    assert answer["statusCode"] == status, answer["body"]
    assert len(_messages(world)) == (1 if status == 200 else 0)


def _s3_event(key: str, version: str | None = "v1", name: str = "ObjectCreated:Put") -> dict[str, Any]:
    record = {
        "eventName": name,
        "s3": {
            "bucket": {"name": "media-bucket"},
            "object": {"key": key.replace(" ", "+"), "versionId": version},
        },
    }
    event = load_event("sqs/s3_object_created")
    event["Records"][0]["body"] = json.dumps({"Records": [record]})
    return event


def test_a_bare_video_without_preferences_is_a_recorded_failure(world: World) -> None:
    world.wiring.accounts.put(Account("me", "open-me", "me", "Me", [], "connected"))
    assert start_post(_s3_event("posts/me/holiday clip.mp4"), FakeContext()) == {"batchItemFailures": []}
    (post,) = world.wiring.posts.list_by_account("me")
    assert post["status"] == "FAILED" and post["media"]["origin_key"] == "posts/me/holiday clip.mp4"
    assert "no saved posting preferences" in post["fail_detail"]


def test_notices_photos_and_media_folders_are_not_posts(world: World) -> None:
    test_event = load_event("sqs/s3_object_created")
    test_event["Records"][0]["body"] = json.dumps({"Service": "Amazon S3", "Event": "s3:TestEvent"})
    for event in (
        test_event,
        _s3_event("posts/me/a.jpg"),
        _s3_event("posts/me/IMG_0001.HEIC"),  # a phone's photo: repaired, but through a manifest too
        _s3_event("posts/me/media/v.mp4"),
        _s3_event("elsewhere/v.mp4"),
        _s3_event("posts/me/v.mp4", name="ObjectRemoved:Delete"),
    ):
        assert start_post(event, FakeContext()) == {"batchItemFailures": []}
    assert world.client("dynamodb").scan(TableName=world.env[Env.POSTS_TABLE])["Items"] == []


def test_an_unknown_file_type_names_the_problem(world: World) -> None:
    start_post(_s3_event("posts/me/notes.txt"), FakeContext())
    (post,) = world.wiring.posts.list_by_account("me")
    assert post["status"] == "FAILED" and "neither a video" in post["fail_detail"]
