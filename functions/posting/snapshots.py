"""A public post's numbers over time: views, likes, comments and shares at each configured age.

A snapshot reads the video with `/v2/video/query/`; a run takes every snapshot of the same account due
within the next few minutes in one call (up to 20 videos), so thousands of posts cost a call per 20. Each
snapshot is kept on the post (`metrics` the latest, `metrics_history` all), written to S3 as a JSON line
under `metrics/dt=<day>/` for Athena, and announced (`Post Metrics Updated`). A revoked token, a missing
scope or a video that is no longer public ends the post's snapshots with the reason (`snapshots_ended`).
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Protocol

from functions.ports import (
    CallsTikTok,
    HasEventBus,
    HasMedia,
    HasPosts,
    HasSettings,
)
from functions.posting.after_publish import plan_fields
from functions.posting.record_fields import record_invalid
from functions.posting.record_parts import AfterPublishPlan, PublicLink
from functions.tiktok.display import MAX_COUNT, STATS_SCOPE, creator_stats, query_videos
from functions.tiktok.errors import TikTokError, TikTokReauthError

if TYPE_CHECKING:
    from functions.posting.step_results import SnapshotResult
    from functions.store.schedules import Schedules
    from functions.tiktok.display import Video


class SnapshotsPorts(CallsTikTok, HasSettings, HasPosts, HasMedia, HasEventBus, Protocol):
    """The ports this module's functions use."""


BATCH_WINDOW = 300  # snapshots due this soon are taken with the one that fired
WAIT_FOR_LINK = 600  # a snapshot due while the link is still searched for waits this long
METRICS_PREFIX = "metrics/"


def take_snapshots(w: SnapshotsPorts, post_id: str, due_at: int, schedules: Schedules) -> SnapshotResult:
    post = w.posts.get(post_id)
    plan = AfterPublishPlan.found_in(post) if post is not None else None
    if post is None or plan is None or due_at not in plan.snapshots_due:
        return {"post_id": post_id, "taken": 0}  # taken with another post's run, or ended
    link = PublicLink.found_in(post)
    state = link.state if link else None
    if state == "searching":
        at = w.now() + WAIT_FOR_LINK
        schedules.once(
            schedules.name("snap", post_id, str(due_at), str(at)),
            at,
            {"task": "snapshot", "post_id": post_id, "value": due_at},
        )
        return {"post_id": post_id, "taken": 0, "waits_for": "link"}
    if state != "found":
        _end(w, post, f"no public video to read: {link.why if link else 'no link search was planned'}")
        return {"post_id": post_id, "taken": 0}
    batch = _due_with(w, post)
    account_id = post["account_id"]
    try:
        token = w.access_tokens.for_account(account_id)
        w.rate_budget.take(account_id, "video_query")
        videos = {v.id: v for v in query_videos(w.tiktok, token, [str(p["video_id"]) for p in batch])}
    except TikTokReauthError as exc:
        for p in batch:
            _end(w, p, f"the account must be connected again: {exc.reason}")
        return {"post_id": post_id, "taken": 0}
    except TikTokError as exc:
        if exc.retryable:
            raise  # the scheduler tries again
        for p in batch:
            _end(w, p, f"TikTok refused to read the video: {exc.code}: {exc.reason}")
        return {"post_id": post_id, "taken": 0}
    lines = [_record(w, p, videos[str(p["video_id"])]) for p in batch if str(p["video_id"]) in videos]
    for p in batch:
        if str(p["video_id"]) not in videos:
            _end(w, p, "TikTok no longer lists the video: deleted, made private or taken down")
    _write_lines(w, lines)
    _refresh_stats(w, account_id, token)
    return {"post_id": post_id, "taken": len(lines)}


def _due_with(w: SnapshotsPorts, post: dict[str, Any]) -> list[dict[str, Any]]:
    """The post and the account's other posts with a snapshot due within BATCH_WINDOW (up to 20 in all)."""
    horizon = w.now() + BATCH_WINDOW
    batch = [post]
    for other in w.posts.snapshots_due_by(post["account_id"], horizon, limit=MAX_COUNT + 1):
        if len(batch) == MAX_COUNT:
            break
        if other["post_id"] != post["post_id"] and other.get("video_id"):
            batch.append(other)
    return batch


def _record(w: SnapshotsPorts, post: dict[str, Any], video: Video) -> dict[str, Any]:
    now = w.now()
    plan = _plan_of(post)
    due = [d for d in plan.snapshots_due if d > now + BATCH_WINDOW]
    age = now - (plan.completed_at or now)
    snapshot = {"at": now, "age_seconds": age, **video.numbers()}
    history = [*(post.get("metrics_history") or []), snapshot]
    fields = {"metrics": snapshot, "metrics_history": history, **plan_fields(plan.due(due))}
    w.posts.update_fields(post["post_id"], fields, now)
    line = {"post_id": post["post_id"], "account_id": post["account_id"], "video_id": video.id, **snapshot}
    w.event_bus.publish("Post Metrics Updated", line)
    return line


def _end(w: SnapshotsPorts, post: dict[str, Any], why: str) -> None:
    plan = _plan_of(post).due([])
    w.posts.update_fields(post["post_id"], {**plan_fields(plan), "snapshots_ended": why}, w.now())


def _plan_of(post: dict[str, Any]) -> AfterPublishPlan:
    """The plan of a post with snapshots due: it has one, or its record was written otherwise."""
    plan = AfterPublishPlan.found_in(post)
    if plan is None:
        raise record_invalid("after_publish", "the plan of a published post", None)
    return plan


def _write_lines(w: SnapshotsPorts, lines: list[dict[str, Any]]) -> None:
    """One object per run, JSON lines, partitioned by day (Athena: `dt` as a partition column)."""
    if not lines:
        return
    day = datetime.fromtimestamp(w.now(), UTC).strftime("%Y-%m-%d")
    key = f"{METRICS_PREFIX}dt={day}/{w.now()}-{uuid.uuid4().hex[:12]}.jsonl"
    body = "".join(json.dumps(line, sort_keys=True) + "\n" for line in lines)
    w.media.put_text(w.settings.require("media_bucket"), key, body, "application/x-ndjson")


def _refresh_stats(w: SnapshotsPorts, account_id: str, token: str) -> None:
    """The creator's counts, kept on the account while its posts are followed (`user.info.stats`)."""
    account = w.accounts.get(account_id)
    if account is None or STATS_SCOPE not in account.scopes:
        return
    try:
        stats = creator_stats(w.tiktok, token)
    except TikTokError:
        return  # the counts are a bonus: a refusal leaves the last ones
    w.accounts.set_stats(account_id, {**stats, "at": w.now()}, w.now())
