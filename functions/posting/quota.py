"""The quota ledgers a post and each TikTok call must hold (docs/data-model.md, "slot ledgers").

- posts: Direct Post posts per creator per rolling 24 h (the account's daily_post_cap, 15 by default);
- inbox: pending inbox shares per creator per 24 h (5), released when the creator finishes the draft;
- users: creators who posted through an unaudited app in 24 h (5), one slot per account;
- rate:<endpoint>: requests per access token per sliding minute (init 6, creator_info 20, status 30).
"""

from __future__ import annotations

from dataclasses import dataclass

from functions.store.quota import Full, Reserved, SlotLedger, ledger_key

DAY = 86_400
MINUTE = 60
INBOX_CAP = 5
UNAUDITED_USERS_CAP = 5
RATE_LIMITS = {"init": 6, "creator_info": 20, "status": 30}


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


def reserve_post(
    ledger: SlotLedger,
    *,
    account_id: str,
    post_id: str,
    inbox: bool,
    daily_cap: int,
    unaudited: bool,
    now: int,
) -> QuotaDecision:
    """Take every slot this post needs, or none: a post waits with nothing held."""
    taken: list[str] = []
    needs: list[tuple[str, int, int, str, bool]] = []
    if unaudited:
        needs.append((USERS_LEDGER, UNAUDITED_USERS_CAP, DAY, account_id, True))
    if inbox:
        needs.append((inbox_ledger(account_id), INBOX_CAP, DAY, post_id, False))
    else:
        needs.append((posts_ledger(account_id), daily_cap, DAY, post_id, False))
    for key, capacity, window, holder, one_per_holder in needs:
        result: Reserved | Full = ledger.reserve(
            key,
            capacity=capacity,
            window_seconds=window,
            holder=holder,
            now=now,
            one_per_holder=one_per_holder,
        )
        if isinstance(result, Full):
            for done in taken:
                if done != USERS_LEDGER:  # a user slot is shared by the account's other posts
                    ledger.release(done, post_id, now)
            return QuotaDecision(False, max(result.earliest_free_at, now + 1), key.split("#", 1)[0])
        taken.append(key)
    return QuotaDecision(True)


# TikTok counts a post from its init; our clock has whole seconds and TikTok's may run a little ahead.
INIT_MARGIN_SECONDS = 120


def hold_from_init(ledger: SlotLedger, *, account_id: str, post_id: str, inbox: bool, now: int) -> None:
    """Move the post's slot so its 24 hours run from the init TikTok counts, not from the reservation."""
    key = inbox_ledger(account_id) if inbox else posts_ledger(account_id)
    ledger.hold_until(key, post_id, now + DAY + INIT_MARGIN_SECONDS, now)


def release_inbox(ledger: SlotLedger, *, account_id: str, post_id: str, now: int) -> bool:
    return ledger.release(inbox_ledger(account_id), post_id, now)


def release_post(ledger: SlotLedger, *, account_id: str, post_id: str, now: int) -> bool:
    """Give back a daily-cap slot of a post that never reached TikTok (rejected before init)."""
    return ledger.release(posts_ledger(account_id), post_id, now)


def quota_left(ledger: SlotLedger, *, account_id: str, daily_cap: int, now: int) -> dict[str, int | None]:
    used, next_free = ledger.usage(posts_ledger(account_id), now, daily_cap)
    pending, inbox_next = ledger.usage(inbox_ledger(account_id), now, INBOX_CAP)
    return {
        "direct_posts_left": max(daily_cap - used, 0),
        "direct_posts_next_free_at": next_free if used >= daily_cap else None,
        "inbox_shares_left": max(INBOX_CAP - pending, 0),
        "inbox_next_free_at": inbox_next if pending >= INBOX_CAP else None,
    }
