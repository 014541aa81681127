"""After publishing: where a public post is (its TikTok video id and share_url), found without guessing.

Once a post reaches PUBLISH_COMPLETE (`on_published`, from Finish or from the webhook that reports an inbox
draft posted), the work is planned on the post (`after_publish`) and scheduled (EventBridge Scheduler):

- the link: from `publicaly_available_post_id` when TikTok sent it (asked for at once), otherwise searched
  in the creator's public videos (`video.list`) a minute, ten minutes, an hour and six hours after publishing
  (functions/posting/public_video.py decides; TikTok lists a video only once moderation has passed);
- the numbers at each of the configured ages (functions/posting/snapshots.py).

A private post is never listed by TikTok: its record says so at once instead of searching. An account
connected without `video.list` says which scope it lacks and how to add it. Every outcome is recorded on
the post (`public_link`), never retried forever.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

from functions.accounts.scopes import VIDEO_LIST_SCOPE
from functions.ports import (
    CallsTikTok,
    HasEventBus,
    HasPosts,
    HasSchedules,
    HasSettings,
)
from functions.posting.public_video import BEFORE_INIT_SECONDS, match_public_video
from functions.posting.record_parts import AfterPublishPlan, PublicLink, caption_of
from functions.tiktok.errors import TikTokError, TikTokReauthError

if TYPE_CHECKING:
    from functions.posting.step_results import LinkSearchResult
    from functions.store.schedules import Schedules
    from functions.tiktok.display import Video


class AfterPublishPorts(CallsTikTok, HasSettings, HasPosts, HasEventBus, HasSchedules, Protocol):
    """The ports this module's functions use."""


LINK_SEARCH_DELAYS = (60, 600, 3600, 6 * 3600)
SEARCH_PAGES = 3  # newest first: the post is among the latest few dozen videos
PUBLIC = "PUBLIC_TO_EVERYONE"
CLAIM_MARGIN_SECONDS = 3600


def link_state(state: str, why: str, **details: Any) -> dict[str, Any]:
    return {"state": state, "why": why, **details}


def plan_fields(plan: AfterPublishPlan) -> dict[str, Any]:
    """The post's after-publishing plan, and the time of its next snapshot as the key of the sparse index
    that finds an account's due snapshots (absent once none is left)."""
    due = plan.snapshots_due
    return {"after_publish": plan.to_record(), "next_snapshot_at": min(due) if due else None}


def _public_expected(post: dict[str, Any]) -> bool:
    settings = post.get("settings") or {}
    if post.get("publicly_available"):
        return True
    # An inbox draft's privacy is the creator's choice in the app: it may well be public.
    return settings.get("mode") == "inbox" or settings.get("privacy_level") == PUBLIC


def on_published(w: AfterPublishPorts, post: dict[str, Any], schedules: Schedules) -> None:
    """Plan the link search and the snapshots of a post TikTok reports published; once per post."""
    if post.get("status") != "PUBLISH_COMPLETE" or post.get("after_publish"):
        return
    post_id, now = post["post_id"], w.now()
    account = w.accounts.get(post["account_id"])
    if not _public_expected(post):
        why = "TikTok lists only public videos: a private post has no public link and no public numbers"
        _record(w, post_id, {**plan_fields(AfterPublishPlan(now)), "public_link": link_state("private", why)})
        return
    if not w.settings.display_scopes or account is None or VIDEO_LIST_SCOPE not in account.scopes:
        why = (
            f"the account was connected without TikTok's {VIDEO_LIST_SCOPE} scope: connect it again "
            "(GET /accounts/{id} shows the link) to see the post's link and numbers"
        )
        _record(
            w,
            post_id,
            {**plan_fields(AfterPublishPlan(now)), "public_link": link_state("scope_missing", why)},
        )
        return
    completed_at = completed_time(post)
    due = [completed_at + age for age in w.settings.snapshot_ages]
    plan = AfterPublishPlan(planned_at=now, completed_at=completed_at, snapshots_due=tuple(due))
    _record(w, post_id, {**plan_fields(plan), "public_link": link_state("searching", "looking for it")})
    # TikTok named the public video: it is listed already, so it is asked for at once.
    first = now + (1 if post.get("tiktok_post_ids") else LINK_SEARCH_DELAYS[0])
    schedules.once(schedules.name("link", post_id, "0"), first, _event("link", post_id, 0))
    for at in due:
        schedules.once(schedules.name("snap", post_id, str(at)), at, _event("snapshot", post_id, at))


def after_published(w: AfterPublishPorts, post_id: str) -> None:
    """`on_published` for the steps that report a post published; the post is published whatever happens
    here, so a failure to plan is recorded on it, never raised into the step."""
    post = w.posts.get(post_id)
    if post is None:
        return
    try:
        on_published(w, post, w.schedules)
    except Exception as exc:  # the post is published: this must not fail the step that reported it
        why = f"the work after publishing could not be planned: {type(exc).__name__}: {exc}"
        _record(w, post_id, {"public_link": link_state("unavailable", why)})


def _event(task: str, post_id: str, value: int) -> dict[str, Any]:
    return {"task": task, "post_id": post_id, "value": value}


def completed_time(post: dict[str, Any]) -> int:
    done = [e["at"] for e in post.get("history", []) if e.get("status") == "PUBLISH_COMPLETE"]
    return int(done[0]) if done else int(post.get("updated_at") or 0)


def init_time(post: dict[str, Any]) -> int:
    started = [e["at"] for e in post.get("history", []) if e.get("status") == "INITIALIZING"]
    return int(started[0]) if started else completed_time(post)


def _record(w: AfterPublishPorts, post_id: str, fields: dict[str, Any]) -> None:
    w.posts.update_fields(post_id, fields, w.now())


def find_link(w: AfterPublishPorts, post_id: str, attempt: int, schedules: Schedules) -> LinkSearchResult:
    """One search for the post's public video; schedules the next attempt while it is not listed."""
    post = w.posts.get(post_id)
    link = PublicLink.found_in(post) if post is not None else None
    if post is None or link is None or link.state != "searching":
        return {"post_id": post_id, "state": "nothing to do"}
    account_id = post["account_id"]
    try:
        token = w.access_tokens.for_account(account_id)
        found = _by_post_id(w, account_id, token, post) or _search(w, account_id, token, post)
    except TikTokReauthError as exc:
        found = link_state("unavailable", f"the account must be connected again: {exc.reason}")
    except TikTokError as exc:
        if exc.retryable:
            raise  # the scheduler tries again
        found = link_state("unavailable", f"TikTok refused the search: {exc.code}: {exc.reason}")
    if found["state"] == "not_listed" and attempt + 1 < len(LINK_SEARCH_DELAYS):
        at = completed_time(post) + LINK_SEARCH_DELAYS[attempt + 1]
        schedules.once(
            schedules.name("link", post_id, str(attempt + 1)),
            max(at, w.now() + 1),
            _event("link", post_id, attempt + 1),
        )
        return {"post_id": post_id, "state": "searching", "attempt": attempt}
    if found["state"] == "not_listed":
        hours = LINK_SEARCH_DELAYS[-1] // 3600
        why = (
            f"not among the creator's public videos {hours} hours after publishing: private, removed, or held"
        )
        found = link_state("not_listed", why)
    fields: dict[str, Any] = {"public_link": found}
    if found["state"] == "found":
        fields.update(video_id=found["video_id"], share_url=found["share_url"])
    _record(w, post_id, fields)
    if found["state"] == "found":
        w.event_bus.publish(
            "Post Link Found", {"post_id": post_id, **{k: fields[k] for k in ("video_id", "share_url")}}
        )
    return {"post_id": post_id, "state": found["state"]}


def _found(video: Video, how: str) -> dict[str, Any]:
    return link_state("found", how, video_id=video.id, share_url=video.share_url)


def _by_post_id(
    w: AfterPublishPorts, account_id: str, token: str, post: dict[str, Any]
) -> dict[str, Any] | None:
    ids = [str(i) for i in post.get("tiktok_post_ids") or []]
    if not ids:
        return None
    from functions.tiktok.display import query_videos  # noqa: PLC0415 - pydantic models: this path only

    w.rate_budget.take(account_id, "video_query")
    videos = query_videos(w.tiktok, token, ids[:20])
    if not videos:
        return link_state("not_listed", "TikTok named the post but does not list it yet")
    return _found(videos[-1], "publicaly_available_post_id")


def _search(w: AfterPublishPorts, account_id: str, token: str, post: dict[str, Any]) -> dict[str, Any]:
    from functions.tiktok.display import list_videos  # noqa: PLC0415 - pydantic models: this path only

    init_at, completed_at = init_time(post), completed_time(post)
    claimed = _claimed(w, account_id, post["post_id"], init_at)
    caption = caption_of(post)
    videos: list[Video] = []
    cursor: int | None = None
    for _ in range(SEARCH_PAGES):
        w.rate_budget.take(account_id, "video_list")
        page = list_videos(w.tiktok, token, cursor=cursor)
        videos.extend(page.videos)
        oldest = min((v.create_time for v in page.videos), default=0)
        if not page.has_more or oldest < init_at - 3600:
            break
        cursor = page.cursor
    match = match_public_video(
        videos, caption=caption, init_at=init_at, completed_at=completed_at, claimed=claimed
    )
    if match.verdict == "found" and match.video is not None:
        return _found(match.video, "video.list: the only public video with its caption and time")
    if match.verdict == "ambiguous":
        why = "several public videos fit its caption and time; none is picked (they may be duplicates)"
        return link_state("ambiguous", why, candidates=list(match.candidates))
    return link_state("not_listed", "not among the creator's public videos (yet)")


def _claimed(w: AfterPublishPorts, account_id: str, post_id: str, init_at: int) -> set[str]:
    """Video ids other posts of the account already own, among those a candidate could be: a video TikTok
    created after `init_at - BEFORE_INIT_SECONDS` belongs to a post published after that (an hour of
    margin for the clocks)."""
    since = init_at - BEFORE_INIT_SECONDS - CLAIM_MARGIN_SECONDS
    return {
        str(p["video_id"])
        for p in w.posts.published_since(account_id, since)
        if p.get("video_id") and p["post_id"] != post_id
    }
