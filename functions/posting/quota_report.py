"""What each of an account's limits has left now, when its next slot frees, and when each waiting post is
expected to go out: read from the same ledgers the workflow reserves in (`GET /accounts/{id}/quota`)."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

from functions.ports import HasClock, HasPosts, HasQuota, HasSettings
from functions.post_status import PostStatus
from functions.posting.quota import (
    DAY,
    INBOX_CAP,
    MINUTE,
    RATE_LIMITS,
    UNAUDITED_USERS_CAP,
    USERS_LEDGER,
    inbox_ledger,
    posts_ledger,
)
from functions.settings import AppStatus
from functions.store.quota import ledger_key

if TYPE_CHECKING:
    from functions.store.accounts import Account


class QuotaReportPorts(HasClock, HasSettings, HasPosts, HasQuota, Protocol):
    """The ports this module's functions use."""


WAITING = (PostStatus.RECEIVED, PostStatus.AWAITING_REVIEW, PostStatus.SCHEDULED, PostStatus.WAITING_QUOTA)


@dataclass(frozen=True)
class Limit:
    name: str
    limit: int
    window_seconds: int
    used: int
    left: int
    next_free_at: int | None  # when the earliest taken slot frees; None when none is taken
    what: str


def _limit(w: QuotaReportPorts, name: str, key: str, *, limit: int, window: int, what: str) -> Limit:
    used, next_free = w.quota.usage(key, w.now(), limit)
    return Limit(name, limit, window, used, max(limit - used, 0), next_free, what)


def limits(w: QuotaReportPorts, account: Account) -> list[Limit]:
    """Every limit the account's posts are held to; the daily cap first."""
    account_id = account.account_id
    found = [
        _limit(w, "direct_posts", posts_ledger(account_id), limit=account.daily_post_cap, window=DAY,
               what="Direct Posts TikTok may count in any 24 hours (the account's daily_post_cap)"),
        _limit(w, "inbox_pending", inbox_ledger(account_id), limit=INBOX_CAP, window=DAY,
               what="drafts sent to the creator's inbox and not finished yet, per 24 hours"),
    ]  # fmt: skip
    if w.settings.app_status is AppStatus.UNAUDITED:
        found.append(
            _limit(w, "unaudited_creators", USERS_LEDGER, limit=UNAUDITED_USERS_CAP, window=DAY,
                   what="creators an unaudited app may post for in 24 hours (the whole app)")
        )  # fmt: skip
    for endpoint, per_minute in RATE_LIMITS.items():
        key = ledger_key(f"rate:{endpoint}", account_id)
        what = f"{endpoint} requests TikTok allows per minute"
        found.append(_limit(w, f"requests:{endpoint}", key, limit=per_minute, window=MINUTE, what=what))
    return found


def _expected_at(post: dict[str, Any], direct_limit: Limit) -> tuple[int | None, str]:
    status = post.get("status")
    publish_at = post.get("settings", {}).get("publish_at")
    if status == PostStatus.SCHEDULED and publish_at:
        at = datetime.fromisoformat(str(publish_at).replace("Z", "+00:00"))
        return int(at.timestamp()), f"scheduled by its author for {publish_at}"
    if status == PostStatus.WAITING_QUOTA:
        return post.get("waiting_until"), "waits for a free slot"
    if status == PostStatus.AWAITING_REVIEW:
        return None, "waits for the creator's decision on the review page"
    if direct_limit.left == 0 and post.get("settings", {}).get("mode") != "inbox":
        return direct_limit.next_free_at, "the daily cap is full: goes out when its next slot frees"
    return None, "goes out as soon as its turn comes"


def quota_report(w: QuotaReportPorts, account: Account) -> dict[str, Any]:
    found = limits(w, account)
    direct = found[0]
    queued = []
    for post in w.posts.list_by_account(account.account_id, limit=200):
        if post.get("status") not in WAITING:
            continue
        expected_at, why = _expected_at(post, direct)
        queued.append(
            {"post_id": post["post_id"], "status": post["status"], "expected_at": expected_at, "why": why}
        )
    return {
        "account_id": account.account_id,
        "at": w.now(),
        "limits": [asdict(limit) for limit in found],
        "queued": queued,
    }
