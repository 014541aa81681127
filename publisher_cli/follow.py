"""Following a post: finding the one a manifest started, then every change until it ends.

What changed between two reads of `GET /posts/{id}` becomes a list of `Change`s (new history entries, the
upload's progress, the review link, the public link), which the caller shows as it likes.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from publisher_cli.api_client import ApiError, ApiUnreachable
from publisher_cli.errors import CliError

if TYPE_CHECKING:
    from publisher_cli.api_client import ApiClient

SUCCEEDED = frozenset({"PUBLISH_COMPLETE", "SEND_TO_USER_INBOX"})
ENDED = SUCCEEDED | {"FAILED", "CANCELLED"}
FIRST_POLL, LONGEST_POLL = 0.5, 5.0  # quick while things happen, slower while a post waits
FIND_TIMEOUT = 120.0
TRANSIENT_FAILURES_TOLERATED = 5


@dataclass(frozen=True)
class StatusChange:
    at: int
    status: str
    note: str


@dataclass(frozen=True)
class UploadProgress:
    """The post's media going to TikTok, chunk by chunk (`upload` on the post)."""

    sent: int
    total: int
    chunks: int
    chunk_size: int
    complete: bool

    @property
    def sending_chunk(self) -> int:
        return min(self.sent // max(self.chunk_size, 1) + 1, max(self.chunks, 1))


@dataclass(frozen=True)
class ReviewLink:
    url: str


@dataclass(frozen=True)
class PublicLink:
    url: str


Change = StatusChange | UploadProgress | ReviewLink | PublicLink


def public_links(post: dict[str, Any]) -> list[str]:
    """Where the published post can be seen: TikTok's share URL when the post has one, else a link built
    from its TikTok post ids and the creator's username."""
    share_url = post.get("share_url")
    if share_url:
        return [str(share_url)]
    ids = [str(i) for i in post.get("tiktok_post_ids") or []]
    if not ids and post.get("video_id"):
        ids = [str(post["video_id"])]
    username = ((post.get("prepared") or {}).get("creator") or {}).get("username")
    kind = "photo" if post.get("kind") == "photo" else "video"
    owner = f"@{username}" if username else "@"
    return [f"https://www.tiktok.com/{owner}/{kind}/{i}" for i in ids]


def _upload_of(post: dict[str, Any]) -> UploadProgress | None:
    upload = post.get("upload")
    if not isinstance(upload, dict) or not upload.get("total"):
        return None
    total = int(upload["total"])
    return UploadProgress(
        sent=total if upload.get("complete") else int(upload.get("offset") or 0),
        total=total,
        chunks=int(upload.get("chunks") or 1),
        chunk_size=int(upload.get("chunk_size") or total),
        complete=bool(upload.get("complete")),
    )


@dataclass
class Seen:
    """What has been shown of a post so far."""

    history: int = 0
    uploading: bool = False  # the last status shown is UPLOADING: the upload's progress is news
    upload: UploadProgress | None = None
    review_url: str = ""
    links: set[str] = field(default_factory=set)

    def news(self, post: dict[str, Any]) -> list[Change]:
        out: list[Change] = []
        upload = _upload_of(post)
        for entry in (post.get("history") or [])[self.history :]:
            out += self._upload_news(upload)  # the chunks sent before the status that ended the upload
            out.append(
                StatusChange(
                    int(entry.get("at") or 0), str(entry.get("status")), str(entry.get("note") or "")
                )
            )
            self.history += 1
            self.uploading = entry.get("status") == "UPLOADING"
        out += self._upload_news(upload)
        review_url = str(post.get("review_url") or "")
        if post.get("status") == "AWAITING_REVIEW" and review_url and review_url != self.review_url:
            out.append(ReviewLink(review_url))
            self.review_url = review_url
        for link in public_links(post):
            if link not in self.links:
                out.append(PublicLink(link))
                self.links.add(link)
        return out

    def _upload_news(self, upload: UploadProgress | None) -> list[Change]:
        if not self.uploading or upload is None or upload == self.upload:
            return []
        if upload.sent == 0 and not upload.complete:
            return []  # nothing acknowledged yet
        self.upload = upload
        return [upload]


@dataclass(frozen=True)
class Outcome:
    succeeded: bool
    summary: str


def outcome(post: dict[str, Any]) -> Outcome:
    status = post.get("status")
    if status == "PUBLISH_COMPLETE":
        return Outcome(True, "published")
    if status == "SEND_TO_USER_INBOX":
        return Outcome(True, "sent to the creator's TikTok inbox: they finish the post in the TikTok app")
    if status == "FAILED":
        reason = post.get("fail_reason") or "failed"
        detail = post.get("fail_detail") or ""
        return Outcome(False, f"{reason}: {detail}" if detail else str(reason))
    if status == "CANCELLED":
        notes = [h.get("note") for h in post.get("history") or [] if h.get("status") == "CANCELLED"]
        return Outcome(False, f"cancelled: {notes[-1]}" if notes and notes[-1] else "cancelled")
    return Outcome(False, f"still {status}")


class Follower:
    def __init__(
        self,
        api: ApiClient,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.api = api
        self.clock = clock
        self.sleep = sleep

    def _read(self, read: Callable[[], Any], failures: list[int]) -> Any:
        """One read; a throttled, failing or unreachable API is asked again a few times before giving up."""
        try:
            answer = read()
        except (ApiError, ApiUnreachable) as exc:
            if not getattr(exc, "transient", False) or failures[0] >= TRANSIENT_FAILURES_TOLERATED:
                raise
            failures[0] += 1
            return None
        failures[0] = 0
        return answer

    def find(
        self, account: str, origin_key: str, version_id: str | None = None, timeout: float = FIND_TIMEOUT
    ) -> dict[str, Any]:
        """The post the object `origin_key` (that version of it, when known) started, once it exists."""
        deadline = self.clock() + timeout
        failures = [0]
        while True:
            answer = self._read(lambda: self.api.get("/posts", account=account), failures)
            for post in (answer or {}).get("posts", []):
                media = post.get("media") or {}
                if media.get("origin_key") == origin_key and (
                    version_id is None or media.get("origin_version_id") in (None, version_id)
                ):
                    return dict(post)
            if self.clock() > deadline:
                raise CliError(
                    f"no post appeared for s3 object {origin_key} within {timeout:.0f} s: is the stack's "
                    "intake (S3 notification, queue, start_post function) working?"
                )
            self.sleep(FIRST_POLL)

    def follow(
        self,
        post: dict[str, Any],
        show: Callable[[Change], None],
        *,
        seen: Seen | None = None,
        timeout: float | None = None,
    ) -> dict[str, Any]:
        """Show every change of `post` until it ends (or `timeout` seconds pass); the last record read."""
        seen = seen or Seen()
        deadline = None if timeout is None else self.clock() + timeout
        pause = FIRST_POLL
        failures = [0]
        post_id = post["post_id"]
        while True:
            changes = seen.news(post)
            for change in changes:
                show(change)
            if post.get("status") in ENDED:
                return post
            if deadline is not None and self.clock() > deadline:
                raise CliError(
                    f"post {post['post_id']} is still {post.get('status')} after {timeout:.0f} s; it goes on "
                    f"without you: `tiktok-publisher show {post['post_id']}`"
                )
            pause = FIRST_POLL if changes else min(pause * 1.5, LONGEST_POLL)
            self.sleep(pause)
            post = self._read(lambda: self.api.get(f"/posts/{post_id}"), failures) or post
