"""The publishing workflow end to end: the CDK-defined state machine in moto, every handler in process, the
sandbox as TikTok, webhooks delivered over HTTP. A post dropped in S3 appears on TikTok exactly once,
within every limit, or fails with a reason a person understands."""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
import requests

from functions.settings import Env
from local.embedded import EmbeddedSystem
from local.media import photo, video, video_of_size
from tests.support.sandbox_calls import tiktok_calls

MIB = 1024 * 1024
PREFS = {"mode": "direct", "privacy_level": "SELF_ONLY", "caption": "from the bucket"}


@pytest.fixture(scope="module")
def system(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedSystem]:
    env = {Env.APP_STATUS: "audited", Env.UPLOAD_CHUNK_BYTES: str(5 * MIB)}
    with EmbeddedSystem(env=env, virtual_time=True) as running:
        for creator, alias in (("sandbox_public", "pub"), ("sandbox_private", "priv")):
            answer = running.connect(creator, alias=alias)
            assert answer.status_code == 200, answer.text
        yield running


def _drop(system: EmbeddedSystem, key: str, body: bytes | dict[str, Any]) -> None:
    data = json.dumps(body).encode() if isinstance(body, dict) else body
    system.put_object(key, data)


def _transitions(system: EmbeddedSystem, post_id: str) -> int:
    arn = system.rt.state_machine_arn.replace(":stateMachine:", ":execution:") + f":{post_id}"
    history = system.rt.execution_history(arn)
    return sum(1 for e in history if e["type"].endswith("StateEntered"))


def test_a_direct_video_is_published_byte_identical_with_few_calls(system: EmbeddedSystem) -> None:
    """A public direct post: TikTok announces it by webhook (publicly_available), so no status fetch."""
    clip = video(label="direct")
    before = tiktok_calls(system)
    _drop(system, "posts/pub/media/direct.mp4", clip)
    public = {**PREFS, "privacy_level": "PUBLIC_TO_EVERYONE", "caption": "hello #sandbox"}
    _drop(system, "posts/pub/direct.json", {"video": "media/direct.mp4", **public})
    post = system.wait_for_post("pub", "posts/pub/direct.json", {"PUBLISH_COMPLETE", "FAILED"})
    assert post["status"] == "PUBLISH_COMPLETE", (
        post.get("fail_reason"),
        post.get("fail_detail"),
        post["history"],
    )
    received = system.sandbox_post(post["publish_id"])
    assert received["sha256"] == hashlib.sha256(clip).hexdigest()
    assert received["post_info"]["privacy_level"] == "PUBLIC_TO_EVERYONE"
    assert received["post_info"]["title"] == "hello #sandbox"
    assert "task_token" not in post and "upload_url" not in post
    after = tiktok_calls(system)
    spent = {path: after.get(path, 0) - before.get(path, 0) for path in after}
    assert spent.get("/v2/post/publish/creator_info/query/") == 1
    assert spent.get("/v2/post/publish/video/init/") == 1
    assert spent.get("/v2/post/publish/status/fetch/", 0) <= 1
    assert _transitions(system, post["post_id"]) <= 12


def test_a_private_direct_video_is_followed_by_polling_from_the_start(system: EmbeddedSystem) -> None:
    """TikTok sends no webhook when a non-public direct post succeeds: the workflow polls at once instead
    of waiting for an announcement that never comes."""
    before = tiktok_calls(system)
    _drop(system, "posts/pub/media/private.mp4", video(label="private"))
    _drop(system, "posts/pub/private.json", {"video": "media/private.mp4", **PREFS})
    post = system.wait_for_post("pub", "posts/pub/private.json", {"PUBLISH_COMPLETE", "FAILED"})
    assert post["status"] == "PUBLISH_COMPLETE", (post.get("fail_reason"), post["history"])
    assert post["history"][-1]["note"] == "status fetch"
    fetches = tiktok_calls(system).get("/v2/post/publish/status/fetch/", 0) - before.get(
        "/v2/post/publish/status/fetch/", 0
    )
    assert fetches >= 1
    arn = system.rt.state_machine_arn.replace(":stateMachine:", ":execution:") + f":{post['post_id']}"
    entered = [
        e["stateEnteredEventDetails"]["name"]
        for e in system.rt.execution_history(arn)
        if e["type"].endswith("StateEntered")
    ]
    assert "AwaitOutcome" not in entered and "CheckStatus" in entered


@pytest.mark.parametrize(
    "size", [5 * MIB - 1, 5 * MIB, 10 * MIB + 1], ids=["under-5MiB", "5MiB", "2-chunks+1"]
)
def test_sizes_on_and_around_chunk_boundaries(system: EmbeddedSystem, size: int) -> None:
    clip = video_of_size(size)
    key = f"posts/pub/media/size-{size}.mp4"
    _drop(system, key, clip)
    _drop(
        system, f"posts/pub/size-{size}.json", {"video": key.split("/", 2)[2].removeprefix("pub/"), **PREFS}
    )
    post = system.wait_for_post("pub", f"posts/pub/size-{size}.json", {"PUBLISH_COMPLETE", "FAILED"})
    assert post["status"] == "PUBLISH_COMPLETE", (
        post.get("fail_reason"),
        post.get("fail_detail"),
        post["history"],
    )
    received = system.sandbox_post(post["publish_id"])
    assert received["bytes_received"] == size
    assert received["sha256"] == hashlib.sha256(clip).hexdigest()


def test_an_inbox_video_waits_for_the_creator_then_completes(system: EmbeddedSystem) -> None:
    _drop(system, "posts/pub/media/draft.mp4", video(label="inbox"))
    _drop(system, "posts/pub/draft.json", {"video": "media/draft.mp4", "mode": "inbox"})
    post = system.wait_for_post("pub", "posts/pub/draft.json", {"SEND_TO_USER_INBOX", "FAILED"})
    assert post["status"] == "SEND_TO_USER_INBOX", post
    account = system.api_get("/accounts/pub")
    assert account["quota"]["inbox_shares_left"] == 4
    refused = requests.delete(f"{system.api_url}/posts/{post['post_id']}", timeout=30)
    assert (
        refused.status_code == 409 and "theirs now" in refused.json()["message"]
    )  # the draft is the creator's
    system.sandbox_control(f"posts/{post['publish_id']}/complete", {"public": False})
    done = system.wait_for_post("pub", "posts/pub/draft.json", {"PUBLISH_COMPLETE"})
    assert done["status"] == "PUBLISH_COMPLETE"
    assert system.api_get("/accounts/pub")["quota"]["inbox_shares_left"] == 5


def test_a_photo_set_is_pulled_from_the_media_domain(system: EmbeddedSystem) -> None:
    images = [photo(colour=(40 * i, 100, 200)) for i in range(3)]
    for index, image in enumerate(images):
        _drop(system, f"posts/pub/media/set/{index}.jpg", image)
    manifest = {
        "photos": [f"media/set/{i}.jpg" for i in range(3)],
        "mode": "direct",
        "privacy_level": "SELF_ONLY",
        "title": "three photos",
        "description": "pulled by TikTok",
        "cover_index": 1,
    }
    _drop(system, "posts/pub/photos.json", manifest)
    post = system.wait_for_post("pub", "posts/pub/photos.json", {"PUBLISH_COMPLETE", "FAILED"})
    assert post["status"] == "PUBLISH_COMPLETE", (
        post.get("fail_reason"),
        post.get("fail_detail"),
        post["history"],
    )
    received = system.sandbox_post(post["publish_id"])
    assert [f["sha256"] for f in received["files"]] == [hashlib.sha256(i).hexdigest() for i in images]


def test_publish_at_waits_until_the_time(system: EmbeddedSystem) -> None:
    when = datetime.fromtimestamp(system.clock.now() + 3 * 3600, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    _drop(system, "posts/pub/media/later.mp4", video(label="later"))
    _drop(system, "posts/pub/later.json", {"video": "media/later.mp4", **PREFS, "publish_at": when})
    post = system.wait_for_post("pub", "posts/pub/later.json", {"PUBLISH_COMPLETE", "FAILED"})
    assert post["status"] == "PUBLISH_COMPLETE", (
        post.get("fail_reason"),
        post.get("fail_detail"),
        post["history"],
    )
    assert "SCHEDULED" in [h["status"] for h in post["history"]]
    published_at = next(h["at"] for h in post["history"] if h["status"] == "INITIALIZING")
    assert published_at >= datetime.strptime(when, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC).timestamp()


def test_a_full_daily_quota_makes_the_post_wait_not_fail(system: EmbeddedSystem) -> None:
    answer = requests.put(
        f"{system.api_url}/accounts/priv/preferences",
        timeout=30,
        json={"mode": "direct", "privacy_level": "SELF_ONLY", "daily_post_cap": 1},
    )
    assert answer.status_code == 200, answer.text
    for name in ("first", "second"):
        system.put_object(f"posts/priv/{name}.mp4", video(label=name))
    first = system.wait_for_post("priv", "posts/priv/first.mp4", {"PUBLISH_COMPLETE", "FAILED"})
    second = system.wait_for_post("priv", "posts/priv/second.mp4", {"PUBLISH_COMPLETE", "FAILED"})
    assert {first["status"], second["status"]} == {"PUBLISH_COMPLETE"}
    waited = [p for p in (first, second) if "WAITING_QUOTA" in [h["status"] for h in p["history"]]]
    assert len(waited) == 1
    init_times = sorted(
        next(h["at"] for h in p["history"] if h["status"] == "INITIALIZING") for p in (first, second)
    )
    assert init_times[1] - init_times[0] >= 86_400 - 5  # never two within 24 h


def test_a_duplicate_s3_event_starts_nothing_new(system: EmbeddedSystem) -> None:
    clip = video(label="dup")
    requests.put(f"{system.api_url}/accounts/pub/preferences", json=PREFS, timeout=30).raise_for_status()
    _drop(system, "posts/pub/dup.mp4", clip)
    post = system.wait_for_post("pub", "posts/pub/dup.mp4", {"PUBLISH_COMPLETE", "FAILED"})
    assert post["status"] == "PUBLISH_COMPLETE", (post.get("fail_reason"), post.get("fail_detail"))
    # The same notification again (SQS delivers at least once).
    s3_event = {
        "Records": [
            {
                "eventName": "ObjectCreated:Put",
                "s3": {
                    "bucket": {"name": system.rt.bucket},
                    "object": {"key": "posts/pub/dup.mp4", "versionId": post["media"]["origin_version_id"]},
                },
            }
        ]
    }
    system.rt.client("sqs").send_message(
        QueueUrl=system.rt.queue_urls["uploads"], MessageBody=json.dumps(s3_event)
    )
    system.rt.pump_queues()
    same = [p for p in system.posts("pub") if p["media"].get("origin_key") == "posts/pub/dup.mp4"]
    assert len(same) == 1
    posted = requests.get(f"{system.sandbox_url}/_sandbox/posts", timeout=10).json()
    digest = hashlib.sha256(clip).hexdigest()
    assert sum(1 for p in posted["posts"] if p.get("sha256") == digest) == 1


def test_a_bad_manifest_is_a_recorded_failure_and_nothing_reaches_tiktok(system: EmbeddedSystem) -> None:
    before = tiktok_calls(system)
    _drop(
        system, "posts/pub/bad.json", {"video": "media/x.mp4", "privacy_level": "EVERYONE", "colour": "red"}
    )
    post = system.wait_for_post("pub", "posts/pub/bad.json", {"FAILED"})
    assert post["fail_reason"] == "invalid_manifest"
    assert "privacy_level" in post["fail_detail"] and "colour: is not a manifest field" in post["fail_detail"]
    assert tiktok_calls(system) == before


def test_media_tiktok_would_reject_fails_before_init(system: EmbeddedSystem) -> None:
    """With repair turned off (repaired otherwise: tests/integration/test_repair_workflow.py)."""
    before = tiktok_calls(system).get("/v2/post/publish/video/init/", 0)
    _drop(system, "posts/pub/media/slow.mp4", video(fps=15, label="15 fps"))
    _drop(system, "posts/pub/slow.json", {"video": "media/slow.mp4", **PREFS, "repair": False})
    post = system.wait_for_post("pub", "posts/pub/slow.json", {"FAILED", "PUBLISH_COMPLETE"})
    assert post["status"] == "FAILED" and post["fail_reason"] == "frame_rate_check_failed"
    assert "15.00 fps" in post["fail_detail"]
    assert tiktok_calls(system).get("/v2/post/publish/video/init/", 0) == before


def test_tiktok_faults_are_survived(system: EmbeddedSystem) -> None:
    system.sandbox_control(
        "faults",
        {
            "status_429_burst": {"/v2/post/publish/creator_info/query/": 2},
            "drop_connection_mid_put": 1,
            "error_rate": {"/upload/": 0.3},
        },
    )
    try:
        clip = video_of_size(11 * MIB)
        _drop(system, "posts/pub/media/faulty.mp4", clip)
        _drop(system, "posts/pub/faulty.json", {"video": "media/faulty.mp4", **PREFS})
        post = system.wait_for_post(
            "pub", "posts/pub/faulty.json", {"PUBLISH_COMPLETE", "FAILED"}, timeout=120
        )
    finally:
        requests.delete(f"{system.sandbox_url}/_sandbox/faults", timeout=10)
    assert post["status"] == "PUBLISH_COMPLETE", (
        post.get("fail_reason"),
        post.get("fail_detail"),
        post["history"],
    )
    assert system.sandbox_post(post["publish_id"])["sha256"] == hashlib.sha256(clip).hexdigest()


@pytest.mark.parametrize("quirks", [[], ["final_chunk_repeat_404"]], ids=["416-documented", "404-field"])
def test_a_lost_answer_to_the_final_chunk_publishes_exactly_once(
    system: EmbeddedSystem, quirks: list[str]
) -> None:
    """TikTok stores the final chunk but its answer is lost; the chunk goes again and TikTok answers 416
    (documented) or 404 (reported): either way the post is published once, without a second init."""
    name = f"lost-final-{len(quirks)}"
    clip = video(label=name)
    before = tiktok_calls(system)
    system.sandbox_control("quirks", {"quirks": quirks})
    system.sandbox_control("faults", {"drop_connection_after_put": 1})
    try:
        _drop(system, f"posts/pub/media/{name}.mp4", clip)
        _drop(system, f"posts/pub/{name}.json", {"video": f"media/{name}.mp4", **PREFS})
        post = system.wait_for_post("pub", f"posts/pub/{name}.json", {"PUBLISH_COMPLETE", "FAILED"})
    finally:
        requests.delete(f"{system.sandbox_url}/_sandbox/faults", timeout=10)
        system.sandbox_control("quirks", {"quirks": []})
    assert post["status"] == "PUBLISH_COMPLETE", (post.get("fail_reason"), post["history"])
    inits = tiktok_calls(system)["/v2/post/publish/video/init/"] - before.get(
        "/v2/post/publish/video/init/", 0
    )
    assert inits == 1
    posts = requests.get(f"{system.sandbox_url}/_sandbox/posts", timeout=10).json()["posts"]
    assert [p["sha256"] for p in posts].count(hashlib.sha256(clip).hexdigest()) == 1
    if quirks:
        assert any("TikTok holds all" in h["note"] for h in post["history"])


@pytest.mark.parametrize(
    ("privacy", "failures", "end"),
    [
        ("SELF_ONLY", ["internal"], "PUBLISH_COMPLETE"),  # followed by polling
        ("PUBLIC_TO_EVERYONE", ["internal"], "PUBLISH_COMPLETE"),  # followed by webhook
        ("SELF_ONLY", ["internal"] * 4, "FAILED"),  # three retries, then TikTok's reason
    ],
    ids=["polled", "webhook", "retries-spent"],
)
def test_tiktoks_internal_failure_is_retried_with_a_new_init(
    system: EmbeddedSystem, privacy: str, failures: list[str], end: str
) -> None:
    name = f"internal-{privacy.lower()}-{len(failures)}"
    before = tiktok_calls(system)
    system.sandbox_control("faults", {"fail_next_posts": failures})
    try:
        _drop(system, f"posts/pub/media/{name}.mp4", video(label=name))
        manifest = {"video": f"media/{name}.mp4", **PREFS, "privacy_level": privacy}
        _drop(system, f"posts/pub/{name}.json", manifest)
        post = system.wait_for_post(
            "pub", f"posts/pub/{name}.json", {"PUBLISH_COMPLETE", "FAILED"}, timeout=120
        )
    finally:
        requests.delete(f"{system.sandbox_url}/_sandbox/faults", timeout=10)
    assert post["status"] == end, (post.get("fail_reason"), post["history"])
    inits = tiktok_calls(system)["/v2/post/publish/video/init/"] - before.get(
        "/v2/post/publish/video/init/", 0
    )
    retries = [h for h in post["history"] if "it says to retry" in h["note"]]
    if end == "PUBLISH_COMPLETE":
        assert inits == 2 and len(retries) == 1
        assert (
            len(post["abandoned_publish_ids"]) == 1
            and post["publish_id"] not in post["abandoned_publish_ids"]
        )
        published = [
            p
            for p in requests.get(f"{system.sandbox_url}/_sandbox/posts", timeout=10).json()["posts"]
            if p["publish_id"] in (post["publish_id"], *post["abandoned_publish_ids"])
        ]
        assert sorted(p["status"] for p in published) == ["FAILED", "PUBLISH_COMPLETE"]  # exactly one post
    else:
        assert inits == 4 and len(retries) == 3
        assert (
            post["fail_reason"] == "internal"
            and "TikTok's guidance is to post it again" in post["fail_detail"]
        )


def test_a_revoked_account_fails_its_posts_clearly(system: EmbeddedSystem) -> None:
    assert system.connect("sandbox_unaudited", alias="leaving").status_code == 200
    system.sandbox_control("creators/sandbox_unaudited/deauthorize", {"reason": 1})
    for _ in range(100):
        account = system.api_get("/accounts/leaving")
        if account["status"] == "disconnected":
            break
        time.sleep(0.1)
    assert account["status"] == "disconnected" and "disconnected the app" in account["status_reason"]
    system.put_object("posts/leaving/after.json", json.dumps({"video": "clip.mp4", **PREFS}).encode())
    post = system.wait_for_post("leaving", "posts/leaving/after.json", {"FAILED"})
    assert post["fail_reason"] == "reauth_required"


def test_a_public_post_becomes_publicly_available_through_tiktoks_webhooks(system: EmbeddedSystem) -> None:
    _drop(system, "posts/pub/media/public.mp4", video(label="public"))
    manifest = {
        "video": "media/public.mp4",
        "mode": "direct",
        "privacy_level": "PUBLIC_TO_EVERYONE",
        "allow_comment": True,
    }
    _drop(system, "posts/pub/public.json", manifest)
    post = system.wait_for_post("pub", "posts/pub/public.json", {"PUBLISH_COMPLETE", "FAILED"})
    assert post["status"] == "PUBLISH_COMPLETE", (post.get("fail_reason"), post.get("fail_detail"))
    for _ in range(100):  # moderation, then post.publish.publicly_available (signed, over HTTP)
        post = system.api_get(f"/posts/{post['post_id']}")
        if post.get("publicly_available"):
            break
        time.sleep(0.1)
    assert post.get("publicly_available") is True and post["tiktok_post_ids"]
    received = system.sandbox_post(post["publish_id"])
    assert received["post_info"]["disable_comment"] is False
    assert received["post_info"]["disable_duet"] is True  # not asked for: stays off


def test_an_init_whose_answer_was_lost_keeps_the_daily_cap(system: EmbeddedSystem) -> None:
    """TikTok created (and counted) the post but the answer never came back: the upload init is asked
    again, in a slot of its own, which with a cap of one means the next day."""
    open_id = "open-lost-answer"
    system.sandbox_control("creators", {"username": "lost_answer", "nickname": "Lost", "open_id": open_id})
    assert system.connect("lost_answer", alias="lost").status_code == 200
    answer = requests.put(
        f"{system.api_url}/accounts/lost/preferences", timeout=30, json={**PREFS, "daily_post_cap": 1}
    )
    assert answer.status_code == 200, answer.text
    system.sandbox_control("faults", {"drop_connection_after_init": 1})
    clip = video(label="lost-answer")
    system.put_object("posts/lost/clip.mp4", clip)
    post = system.wait_for_post("lost", "posts/lost/clip.mp4", {"PUBLISH_COMPLETE", "FAILED"}, timeout=120)
    assert post["status"] == "PUBLISH_COMPLETE", (post.get("fail_reason"), post.get("fail_detail"))
    assert post["unanswered_inits"] == 1
    statuses = [h["status"] for h in post["history"]]
    assert statuses[statuses.index("INITIALIZING") :].count("WAITING_QUOTA") == 1  # waited for a slot

    tiktok = requests.get(f"{system.sandbox_url}/_sandbox/posts", timeout=10).json()["posts"]
    inits = sorted((p for p in tiktok if p["open_id"] == open_id), key=lambda p: p["created_at"])
    assert len(inits) == 2
    assert inits[1]["created_at"] - inits[0]["created_at"] >= 86_400  # never two within 24 h
    assert inits[0]["status"] != "PUBLISH_COMPLETE"  # the lost one never received a byte
    assert inits[1]["publish_id"] == post["publish_id"]
    assert system.sandbox_post(post["publish_id"])["sha256"] == hashlib.sha256(clip).hexdigest()
