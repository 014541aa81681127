"""A post's status, its rank and which statuses are final: the one definition every layer reads.

A status only moves to a higher rank (or the same rank where a step says so) and never away from a
terminal one (functions/store/posts.py applies this in its conditional writes; docs/data-model.md).
"""

from __future__ import annotations

from enum import StrEnum


class PostStatus(StrEnum):
    RECEIVED = "RECEIVED"
    AWAITING_REVIEW = "AWAITING_REVIEW"
    SCHEDULED = "SCHEDULED"
    WAITING_QUOTA = "WAITING_QUOTA"
    INITIALIZING = "INITIALIZING"
    UPLOADING = "UPLOADING"
    PROCESSING = "PROCESSING"
    SEND_TO_USER_INBOX = "SEND_TO_USER_INBOX"
    PUBLISH_COMPLETE = "PUBLISH_COMPLETE"
    FAILED = "FAILED"
    CANCELLED = "CANCELLED"


STATUS_RANK: dict[PostStatus, int] = {
    PostStatus.RECEIVED: 0,
    PostStatus.AWAITING_REVIEW: 10,
    PostStatus.SCHEDULED: 15,
    PostStatus.WAITING_QUOTA: 20,
    PostStatus.INITIALIZING: 30,
    PostStatus.UPLOADING: 40,
    PostStatus.PROCESSING: 50,
    PostStatus.SEND_TO_USER_INBOX: 60,
    PostStatus.PUBLISH_COMPLETE: 100,
    PostStatus.FAILED: 100,
    PostStatus.CANCELLED: 100,
}
TERMINAL: frozenset[PostStatus] = frozenset(
    {PostStatus.PUBLISH_COMPLETE, PostStatus.FAILED, PostStatus.CANCELLED}
)
UNSUCCESSFUL: frozenset[PostStatus] = frozenset({PostStatus.FAILED, PostStatus.CANCELLED})


def status_rank(status: str) -> int:
    try:
        return STATUS_RANK[PostStatus(status)]
    except ValueError:
        raise ValueError(f"unknown post status {status!r}; known: {', '.join(PostStatus)}") from None


def is_terminal(status: object) -> bool:
    return status in TERMINAL
