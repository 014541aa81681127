"""The quota ledgers a post and each TikTok call must hold (docs/data-model.md, "slot ledgers").

- posts: Direct Post posts per creator per rolling 24 h (the account's daily_post_cap, 15 by default);
- inbox: pending inbox shares per creator per 24 h (5), released when the creator finishes the draft;
- users: creators who posted through an unaudited app in 24 h (5), one slot per account;
- rate:<endpoint>: requests per access token per sliding minute (init 6, creator_info 20, status 30).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from functions.store.quota import Full, Reserved, SlotLedger, ledger_key

DAY = 86_400
MINUTE = 60
INBOX_CAP = 5
UNAUDITED_USERS_CAP = 5
RATE_LIMITS = {"init": 6, "creator_info": 20, "status": 30, "video_list": 600, "video_query": 600}


@dataclass(frozen=True)
class QuotaDecision:
    reserved: bool
    retry_at: int | None = None  # when the earliest needed slot frees, if not reserved
    blocking: str = ""  # which ledger is full


def posts_ledger(account_id: str) -> str:
    return ledger_key("posts", account_id)


def inbox_ledger(account_id: str) -> str:
    return ledger_key("inbox", account_id)


USERS_LEDGER = ledger_key("users", "app")
# TikTok counts a post from its init; our clock has whole seconds and TikTok's may run a little ahead.
INIT_MARGIN_SECONDS = 120


def slot_holder(post: Mapping[str, Any]) -> str:
    """Who holds the post's slot. A direct post's slot is for one init TikTok may count: after an init
    the post could not use (unanswered and asked again, or its upload URL lapsed), the next attempt
    holds a slot of its own, and the spent one stays taken for the 24 hours TikTok counts it."""
    post_id = str(post["post_id"])
    if post.get("mode") == "inbox":  # pending shares count what reached the inbox: one per post
        return post_id
    spent = len(post.get("abandoned_publish_ids") or []) + int(post.get("unanswered_inits") or 0)
    return f"{post_id}#{spent}" if spent else post_id


def reserve_post(
    ledger: SlotLedger,
    *,
    account_id: str,
    holder: str,
    inbox: bool,
    daily_cap: int,
    unaudited: bool,
    now: int,
    for_init: bool = False,
) -> QuotaDecision:
    """Take every slot this post needs, or none: a post waits with nothing held.

    `for_init`: TikTok is about to be asked, so the slots must be live from now until 24 hours after
    the init TikTok may count; a slot held since the reservation is extended, and one that lapsed while
    the post waited (TikTok refusing "not now" for hours) must be taken again or the post waits."""
    window = DAY + INIT_MARGIN_SECONDS if for_init else DAY
    taken: list[str] = []
    needs: list[tuple[str, int, str, bool]] = []
    if unaudited:
        needs.append((USERS_LEDGER, UNAUDITED_USERS_CAP, account_id, True))
    if inbox:
        needs.append((inbox_ledger(account_id), INBOX_CAP, holder, for_init))
    else:
        needs.append((posts_ledger(account_id), daily_cap, holder, for_init))
    for key, capacity, who, renew in needs:
        result: Reserved | Full = ledger.reserve(
            key,
            capacity=capacity,
            window_seconds=window,
            holder=who,
            now=now,
            renew=renew,
        )
        if isinstance(result, Full):
            for done in taken:
                if done != USERS_LEDGER:  # a user slot is shared by the account's other posts
                    ledger.release(done, holder, now)
            return QuotaDecision(False, max(result.earliest_free_at, now + 1), key.split("#", 1)[0])
        taken.append(key)
    return QuotaDecision(True)


def hold_from_init(ledger: SlotLedger, *, account_id: str, holder: str, inbox: bool, now: int) -> None:
    """Move the post's slot so its 24 hours run from the init TikTok counts, not from the reservation."""
    key = inbox_ledger(account_id) if inbox else posts_ledger(account_id)
    ledger.hold_until(key, holder, now + DAY + INIT_MARGIN_SECONDS, now)


def release_inbox(ledger: SlotLedger, *, account_id: str, post_id: str, now: int) -> bool:
    return ledger.release(inbox_ledger(account_id), post_id, now)


def release_post(ledger: SlotLedger, *, account_id: str, holder: str, now: int) -> bool:
    """Give back a daily-cap slot no init TikTok may count has used (the post was rejected before)."""
    return ledger.release(posts_ledger(account_id), holder, now)


def quota_left(ledger: SlotLedger, *, account_id: str, daily_cap: int, now: int) -> dict[str, int | None]:
    used, next_free = ledger.usage(posts_ledger(account_id), now, daily_cap)
    pending, inbox_next = ledger.usage(inbox_ledger(account_id), now, INBOX_CAP)
    return {
        "direct_posts_left": max(daily_cap - used, 0),
        "direct_posts_next_free_at": next_free if used >= daily_cap else None,
        "inbox_shares_left": max(INBOX_CAP - pending, 0),
        "inbox_next_free_at": inbox_next if pending >= INBOX_CAP else None,
    }
