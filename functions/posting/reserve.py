"""ReserveQuota: hold every quota slot the post needs, or name the time the earliest one frees."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Protocol

from functions import metrics
from functions.ports import (
    CallsTikTok,
    HasPosts,
    HasQuota,
    HasSettings,
)
from functions.posting.errors import PostRejectedError, ReauthRequiredError
from functions.posting.quota import QuotaDecision, posts_ledger, reserve_post, slot_holder
from functions.posting.record_parts import TikTokRetry, reserved_at
from functions.posting.shared_cap import hold_posts_made_elsewhere, hold_slots, posts_made_elsewhere
from functions.settings import AppStatus

if TYPE_CHECKING:
    from functions.posting.step_results import ReserveResult
    from functions.store.accounts import Account


class ReservePorts(CallsTikTok, HasSettings, HasPosts, HasQuota, Protocol):
    """The ports this module's functions use."""


# An init this long after the post's slot was taken reads video.list again first (normally it follows
# the reservation within seconds; after TikTok's "not now" it comes 15 minutes or more later).
RECHECK_AFTER_SECONDS = 300


def _z(ts: int) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def take_slots(w: ReservePorts, post: dict[str, Any], now: int, *, for_init: bool = False) -> QuotaDecision:
    """Every slot the post needs (see reserve_post), for a connected account only."""
    account = w.accounts.get(post["account_id"])
    if account is None or account.status != "connected":
        reason = account.status_reason if account else "the account is not connected"
        raise ReauthRequiredError(post["account_id"], reason or "the account is not connected")
    direct = post.get("mode") != "inbox"
    if direct and not for_init:  # the cap is the creator's: what they posted elsewhere counts too
        hold_posts_made_elsewhere(w, account, now)
    elif direct and _look_again_before_init(post, now):
        _give_way_to_posts_made_since(w, account, post, now)
    return reserve_post(
        w.quota,
        account_id=account.account_id,
        holder=slot_holder(post),
        inbox=not direct,
        daily_cap=account.daily_post_cap,
        unaudited=w.settings.app_status is AppStatus.UNAUDITED and direct,
        now=now,
        for_init=for_init,
    )


def _look_again_before_init(post: dict[str, Any], now: int) -> bool:
    """TikTok said "not now" to an earlier init of the post, or it took its slot a while ago: the creator
    may have posted elsewhere since. Only a post no init of which TikTok may have counted can give its slot
    back (one TikTok counted keeps it, as TikTok does)."""
    if post.get("unanswered_inits") or post.get("abandoned_publish_ids"):
        return False
    taken = reserved_at(post)
    return bool(post.get("init_deferred_at")) or (taken is not None and now - taken > RECHECK_AFTER_SECONDS)


def _give_way_to_posts_made_since(w: ReservePorts, account: Account, post: dict[str, Any], now: int) -> None:
    """Read video.list again before the init: a video the creator posted elsewhere since the post took its
    slot that finds the ledger full fills TikTok's cap first, so the post gives its slot to it and waits
    (Init then finds no slot and sends it back to ReserveQuota) instead of being refused by TikTok."""
    videos = posts_made_elsewhere(w, account, now)
    if hold_slots(w, account, videos, now):
        w.quota.release(posts_ledger(account.account_id), slot_holder(post), now)
        hold_slots(w, account, videos, now)


def reserve_quota(w: ReservePorts, post_id: str) -> ReserveResult:
    post = w.posts.get(post_id)
    if post is None:
        raise PostRejectedError("post_missing", f"no post {post_id}")
    now = w.now()
    retry = TikTokRetry.found_in(post)
    not_before = retry.not_before if retry else 0
    if not post.get("publish_id") and now < not_before:  # TikTok's retry waits out its backoff first
        return {"reserved": False, "retry_at": _z(not_before)}
    decision = take_slots(w, post, now)
    if decision.reserved:
        w.posts.update_fields(post_id, {"quota": {"reserved_at": now}}, now)
        return {"reserved": True}
    retry_at = decision.retry_at or now + 60
    note = f"{decision.blocking} quota full: waits until {_z(retry_at)}"
    if post.get("status") == "INITIALIZING":  # back from Init, which found the post's slot lapsed
        w.posts.back_to_waiting_quota(post_id, now=now, note=note, waiting_until=retry_at)
    else:
        w.posts.transition(
            post_id,
            "WAITING_QUOTA",
            now=now,
            allow_same_rank=True,
            note=note,
            fields={"waiting_until": retry_at},
        )
    metrics.count("QuotaWait")
    return {"reserved": False, "retry_at": _z(retry_at)}
