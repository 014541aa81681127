"""After publishing, end to end (docs/after-publishing.md): the whole stack with EventBridge Scheduler run
by the local runtime on virtual time, against the sandbox's Display API. A public post gets its link (from
TikTok's post id, or found in video.list when TikTok never sends one) and its snapshots at each age, in the
post record, the API, S3 and on EventBridge; a private one says why it has none; and the videos a creator
posts elsewhere take their share of the daily cap before TikTok has to refuse a post."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
import requests

from functions.settings import Env
from local.embedded import EmbeddedSystem
from local.media import video
from local.runtime.lambdas import between_handler_runs

HOUR, DAY = 3600, 86_400
PUBLIC = {"mode": "direct", "privacy_level": "PUBLIC_TO_EVERYONE"}
ENV = {Env.APP_STATUS: "audited"}
CAP = 3  # the sandbox's daily post cap and the account's, small so that a few videos fill it


@pytest.fixture(scope="module")
def system() -> Iterator[EmbeddedSystem]:
    # The events clock: posts in flight together each wait their own time (a jump would move it under both).
    events = "events"
    with EmbeddedSystem(env=dict(ENV), virtual_time=events, sandbox_config={"posts_per_day": CAP}) as running:
        assert running.connect("sandbox_public", alias="pub").status_code == 200
        _capture_events(running)
        yield running


def _capture_events(system: EmbeddedSystem) -> None:
    """Every event the stack announces, copied to a queue the test reads (as a subscriber's rule would)."""
    sqs, events = system.rt.client("sqs"), system.rt.client("events")
    url = sqs.create_queue(QueueName="announced")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    events.put_rule(Name="announced", EventPattern=json.dumps({"source": ["tiktok-publisher"]}))
    events.put_targets(Rule="announced", Targets=[{"Id": "queue", "Arn": arn}])


def _announced(system: EmbeddedSystem, detail_type: str, post_id: str) -> list[dict[str, Any]]:
    sqs = system.rt.client("sqs")
    url = sqs.get_queue_url(QueueName="announced")["QueueUrl"]
    found: list[dict[str, Any]] = getattr(system, "_announced", [])
    while batch := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", []):
        for message in batch:
            found.append(json.loads(message["Body"]))
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    system._announced = found  # type: ignore[attr-defined]
    return [
        e["detail"] for e in found if e["detail-type"] == detail_type and e["detail"]["post_id"] == post_id
    ]


def _until(check: Callable[[], Any], what: str, timeout: float = 30.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.5)  # see _ended
    raise AssertionError(f"never: {what}")


def _ended(system: EmbeddedSystem, origin_key: str, timeout: float = 90.0) -> dict[str, Any]:
    """The post of `origin_key` once it ended. Polled every half second: the events clock moves only after
    a quarter of a second without a handler run, and each read of the API is one."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for post in system.posts("pub"):
            if post["media"].get("origin_key") == origin_key and post["status"] in (
                "PUBLISH_COMPLETE",
                "FAILED",
            ):
                return post
        time.sleep(0.5)
    raise AssertionError(f"the post of {origin_key} never ended")


def _publish(system: EmbeddedSystem, name: str, settings: dict[str, Any]) -> dict[str, Any]:
    system.put_object(f"posts/pub/media/{name}.mp4", video(label=name))
    manifest = {"video": f"media/{name}.mp4", "caption": f"after publishing: {name}", **settings}
    system.put_object(f"posts/pub/{name}.json", json.dumps(manifest).encode())
    post = _ended(system, f"posts/pub/{name}.json")
    assert post["status"] == "PUBLISH_COMPLETE", (post.get("fail_reason"), post.get("fail_detail"))
    return post


def _schedules_of(system: EmbeddedSystem, post_id: str) -> list[str]:
    found = system.rt.client("scheduler").list_schedules()["Schedules"]
    return [str(s["Name"]) for s in found if post_id in s["Name"]]


def _after_the_search(system: EmbeddedSystem, post_id: str) -> dict[str, Any]:
    """The link once its search ended: TikTok lists a video only once it is public, so the first searches,
    a minute and ten minutes after publishing, may not see it yet."""
    for step in (120, 600, 3600):
        system.clock.advance(step)
        try:
            return _link(system, post_id)
        except AssertionError:
            continue
    raise AssertionError(f"the link search never ended: {_metrics(system, post_id)}")


def _refused_inits(system: EmbeddedSystem) -> int:
    statuses = requests.get(f"{system.sandbox_url}/_sandbox/calls", timeout=10).json()["statuses"]
    return sum(
        count
        for path, by in statuses.items()
        if "init" in path
        for code, count in by.items()
        if code != "200"
    )


def _metrics(system: EmbeddedSystem, post_id: str) -> dict[str, Any]:
    return dict(system.api_get(f"/posts/{post_id}/metrics"))


def _link(system: EmbeddedSystem, post_id: str) -> dict[str, Any]:
    def ended() -> dict[str, Any] | None:
        link: dict[str, Any] | None = _metrics(system, post_id)["public_link"]
        return link if link and link["state"] != "searching" else None

    return dict(_until(ended, f"the link search of {post_id} ended", timeout=10))


def _planned(system: EmbeddedSystem, post_id: str) -> dict[str, Any] | None:
    view = _metrics(system, post_id)
    return view if view["public_link"] else None


def _metrics_lines(system: EmbeddedSystem, post_id: str) -> list[dict[str, Any]]:
    s3, bucket = system.rt.client("s3"), system.rt.bucket
    lines: list[dict[str, Any]] = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix="metrics/"):
        for item in page.get("Contents", []):
            body = s3.get_object(Bucket=bucket, Key=item["Key"])["Body"].read().decode()
            lines += [json.loads(line) for line in body.splitlines() if post_id in line]
    return [line for line in lines if line.get("post_id") == post_id]


def test_a_public_post_gets_its_link_and_a_snapshot_at_each_age(system: EmbeddedSystem) -> None:
    post = _publish(system, "public", PUBLIC)
    link = _after_the_search(system, post["post_id"])
    assert link["state"] == "found" and link["why"] == "publicaly_available_post_id", link
    view = _metrics(system, post["post_id"])
    assert view["share_url"] == f"https://www.tiktok.com/@sandbox_public/video/{view['video_id']}"
    assert str(view["video_id"]) in {str(i) for i in system.sandbox_post(post["publish_id"])["post_ids"]}
    (found,) = _announced(system, "Post Link Found", post["post_id"])
    assert found["share_url"] == view["share_url"]
    (published,) = _announced(system, "Post Published", post["post_id"])
    assert published["video_id"] == view["video_id"], "TikTok named the video: announced with the post"

    assert len(view["snapshots_due"]) == 3  # an hour, a day and a week after publishing
    for count, due in enumerate(view["snapshots_due"], start=1):
        system.clock.advance(due + 60 - system.clock.now())
        _until(lambda n=count: len(_metrics(system, post["post_id"])["history"]) >= n, f"snapshot {count}")
    taken = _metrics(system, post["post_id"])["history"]
    assert len(taken) == 3 and _metrics(system, post["post_id"])["snapshots_ended"] is None
    assert not _schedules_of(system, post["post_id"]), "each schedule is deleted once it has run"
    views = [snapshot["view_count"] for snapshot in taken]
    assert views == sorted(views) and views[-1] > 0, "a public video's views only grow"
    assert len(_metrics_lines(system, post["post_id"])) == 3, "one JSON line per snapshot in S3"
    assert len(_announced(system, "Post Metrics Updated", post["post_id"])) == 3


def test_without_tiktoks_post_id_the_link_is_found_among_the_public_videos(system: EmbeddedSystem) -> None:
    system.sandbox_control("quirks", {"quirks": ["no_public_post_id"]})
    try:
        post = _publish(system, "unnamed", PUBLIC)
    finally:
        system.sandbox_control("quirks", {"quirks": []})
    assert not post.get("tiktok_post_ids") and not post.get("video_id")
    link = _after_the_search(system, post["post_id"])
    assert link["state"] == "found" and link["why"].startswith("video.list"), link
    listed = system.sandbox_post(post["publish_id"])["post_ids"]
    assert [str(link["video_id"])] == [str(i) for i in listed]


def test_a_private_post_says_it_has_no_public_link_and_schedules_nothing(system: EmbeddedSystem) -> None:
    post = _publish(system, "private", {**PUBLIC, "privacy_level": "SELF_ONLY"})
    # Finish decides once TikTok's status arrived, a moment after the post shows PUBLISH_COMPLETE.
    view = _until(lambda: _planned(system, post["post_id"]), "the work after publishing was planned")
    assert view["public_link"]["state"] == "private" and view["snapshots_due"] == []
    assert not [
        s for s in system.rt.client("scheduler").list_schedules()["Schedules"] if post["post_id"] in s["Name"]
    ]


def _new_day_capped_at(system: EmbeddedSystem, cap: int) -> None:
    """The earlier tests' posts out of the 24-hour window, and the account's own cap equal to TikTok's."""
    system.clock.advance(2 * DAY)
    preferences = {**PUBLIC, "privacy_level": "SELF_ONLY", "daily_post_cap": cap}
    answer = requests.put(f"{system.api_url}/accounts/pub/preferences", json=preferences, timeout=30)
    assert answer.status_code == 200, answer.text


def _entry(post: dict[str, Any], status: str, after: int = 0) -> dict[str, Any]:
    return dict(next(h for h in post["history"] if h["status"] == status and h["at"] >= after))


def test_a_creator_who_filled_the_cap_from_the_app_gets_a_post_that_waits_and_says_why(
    system: EmbeddedSystem,
) -> None:
    _new_day_capped_at(system, CAP)
    for n in range(CAP):  # private ones too: TikTok counts them, though no app can see them
        video_of_the_app = {
            "title": f"from the app {n}",
            "privacy": "SELF_ONLY" if n else PUBLIC["privacy_level"],
        }
        system.sandbox_control("creators/sandbox_public/videos", video_of_the_app)
    posted_at = system.clock.now()
    refusals_before = _refused_inits(system)

    post = _publish(system, "after-the-app", {"mode": "direct", "privacy_level": "SELF_ONLY"})
    notes = [h["note"] for h in post["history"]]
    waiting = [n for n in notes if n.startswith("waiting: TikTok says the creator cannot post now")]
    assert len(waiting) == 1 and "spam_risk_too_many_posts" in waiting[0], notes
    assert _entry(post, "INITIALIZING")["at"] >= posted_at + DAY, (
        "it went once the app's videos left the 24 h"
    )
    assert _refused_inits(system) == refusals_before, "TikTok never had to refuse an init"


def test_public_videos_posted_elsewhere_hold_slots_of_the_ledger_so_tiktok_never_refuses_an_init(
    system: EmbeddedSystem,
) -> None:
    """Two posts prepared while the cap had room, due together: the app's public videos, seen in video.list
    by Reserve, hold their slots, so the second waits in the ledger instead of being refused by TikTok."""
    _new_day_capped_at(system, CAP)
    for n in range(CAP - 1):
        system.sandbox_control("creators/sandbox_public/videos", {"title": f"public from the app {n}"})
    posted_at = system.clock.now()
    refusals_before = _refused_inits(system)

    at = datetime.fromtimestamp(posted_at + HOUR, UTC).isoformat()
    names = ("due-first", "due-second")
    for name in names:
        system.put_object(f"posts/pub/media/{name}.mp4", video(label=name))
    # Dropped back to back: the events clock waits for both (an idle gap between them would let the
    # first post's wait end before the second is even received).
    for name in names:
        manifest = {
            "video": f"media/{name}.mp4",
            "mode": "direct",
            "privacy_level": "SELF_ONLY",
            "publish_at": at,
        }
        system.put_object(f"posts/pub/{name}.json", json.dumps(manifest).encode())
    posts = [_ended(system, f"posts/pub/{name}.json") for name in names]
    assert [p["status"] for p in posts] == ["PUBLISH_COMPLETE"] * 2, [p.get("fail_detail") for p in posts]
    waited = [p for p in posts if any(h["status"] == "WAITING_QUOTA" for h in p["history"])]
    assert len(waited) == 1, [p["history"] for p in posts]
    went = _entry(waited[0], "INITIALIZING", after=_entry(waited[0], "WAITING_QUOTA")["at"])
    assert went["at"] >= posted_at + DAY, "its slot freed when the app's videos left the 24 hours"
    assert _refused_inits(system) == refusals_before, "TikTok never had to refuse an init"


def _init_answers(system: EmbeddedSystem, status: str) -> int:
    statuses = requests.get(f"{system.sandbox_url}/_sandbox/calls", timeout=10).json()["statuses"]
    return sum(by.get(status, 0) for path, by in statuses.items() if "init" in path)


def test_a_post_told_not_now_gives_its_slot_to_a_video_posted_before_it_asks_again(
    system: EmbeddedSystem,
) -> None:
    """TikTok's 429 sends a post that holds the last slot of the day to wait before its init; meanwhile the
    creator posts from the app. The next init reads video.list again: the new video fills TikTok's cap, so
    the post gives it its slot and waits for one, and TikTok never has to refuse it."""
    _new_day_capped_at(system, CAP)
    earlier = [
        system.sandbox_control("creators/sandbox_public/videos", {"title": f"earlier from the app {n}"})
        for n in range(CAP - 1)
    ]
    refused_before, not_now_before = _init_answers(system, "403"), _init_answers(system, "429")
    faults = f"{system.sandbox_url}/_sandbox/faults"
    requests.post(faults, json={"status_429_burst": {"/v2/post/publish/video/init/": 1}}, timeout=10)
    made: list[int] = []

    def post_from_the_app(_seconds: float) -> None:
        # At the first jump of the clock once TikTok said "not now": the post holds its slot and waits.
        if made or not system.rt.activity.quiet_for(0.0):
            return
        with between_handler_runs():
            if _init_answers(system, "429") > not_now_before:
                answer = system.sandbox_control("creators/sandbox_public/videos", {"title": "meanwhile"})
                made.append(int(answer["create_time"]))

    system.clock.on_advance.append(post_from_the_app)
    try:
        post = _publish(system, "told-not-now", {"mode": "direct", "privacy_level": "SELF_ONLY"})
    finally:
        system.clock.on_advance.remove(post_from_the_app)
        requests.delete(faults, timeout=10)
    assert made, "the creator never posted while the post waited"
    assert _init_answers(system, "403") == refused_before, "TikTok never had to refuse an init"
    first_init = _entry(post, "INITIALIZING")["at"]
    waited = _entry(post, "WAITING_QUOTA", after=first_init)
    went = _entry(post, "INITIALIZING", after=waited["at"])
    first_free = min(int(v["create_time"]) for v in earlier) + DAY
    assert went["at"] >= first_free, "it went once the first earlier video left TikTok's 24 hours"
