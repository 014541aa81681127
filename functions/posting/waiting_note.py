"""Why a post waits before it reached the quota ledger: TikTok's creator_info said "not now" (the daily cap
the creator filled from other apps, say) and the state machine retries Prepare over hours. The post keeps
its status, RECEIVED, so its history says what it waits for, once per reason."""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from functions.ports import HasClock, HasPosts
from functions.post_status import PostStatus

if TYPE_CHECKING:
    from functions.posting.errors import QuotaWaitError


class WaitingNotePorts(HasClock, HasPosts, Protocol):
    """The ports this module's functions use."""


def waiting_note(exc: QuotaWaitError) -> str:
    return f"waiting: TikTok says the creator cannot post now ({exc}); asked again in growing intervals"


def note_waiting(w: WaitingNotePorts, post_id: str, exc: QuotaWaitError) -> None:
    post = w.posts.get(post_id)
    if post is None or post.get("status") != PostStatus.RECEIVED:
        return
    note = waiting_note(exc)
    history = post.get("history") or []
    if history and history[-1].get("note") == note:
        return  # said already: one entry per reason, not one per retry
    w.posts.transition(
        post_id,
        PostStatus.RECEIVED,
        now=w.now(),
        note=note,
        allow_same_rank=True,
        from_status=PostStatus.RECEIVED,
    )
