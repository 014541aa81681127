"""What the review flow finds and decides, as values: the review handler turns each into an HTTP answer
(status code, headers, a rendered page or a redirect). Nothing here knows HTTP or HTML."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from functions.post_status import PostStatus
from functions.posting.record_parts import ReviewState
from functions.review.choices import Choices, Kind, Problem

if TYPE_CHECKING:
    from functions.review.links import ReviewLink
    from functions.tiktok.models import CreatorInfo, PrivacyLevel

# open: the form as the link opens it; refused: a submission that broke a rule, shown again with its
# problems; unavailable: TikTok could not confirm that the account can post, so Post is disabled.
FormReason = Literal["open", "refused", "unavailable"]
# posted and discarded: this request decided; decided: an earlier one had.
Outcome = Literal["posted", "discarded", "decided"]


@dataclass(frozen=True)
class Preview:
    kind: Kind
    urls: Sequence[str]
    duration_seconds: float | None = None


@dataclass(frozen=True)
class FormPage:
    """Everything the review form shows."""

    preview: Preview
    creator: CreatorInfo
    options: Sequence[PrivacyLevel]
    expires_at: int
    choices: Choices = field(default_factory=Choices)
    blockers: Sequence[Problem] = ()
    problems: Sequence[Problem] = ()
    facts: Sequence[str] = ()

    @property
    def kind(self) -> Kind:
        return self.preview.kind


@dataclass(frozen=True)
class Opened:
    """A valid review link and the post it names, as stored now."""

    link: ReviewLink
    post: dict[str, Any]

    @property
    def waiting(self) -> bool:
        return self.post.get("status") == PostStatus.AWAITING_REVIEW and bool(self.post.get("task_token"))

    @property
    def kind(self) -> Kind:
        return "photo" if self.post.get("kind") == "photo" else "video"

    @property
    def review_url(self) -> str:
        """The link as issued, without the one-time flag of a redirect."""
        return ReviewState.link_of(self.post)


@dataclass(frozen=True)
class Shown:
    """The review form, for a post that waits for review."""

    page: FormPage
    reason: FormReason = "open"


@dataclass(frozen=True)
class Tracked:
    """A post that no longer waits for review: its live status is shown instead of the form."""

    post: Mapping[str, Any]


@dataclass(frozen=True)
class Decided:
    """A submission is over: the browser goes back to the review link, flagged with the outcome."""

    review_url: str
    outcome: Outcome


@dataclass(frozen=True)
class Refused:
    """A link that shows nothing: expired (genuine, but too late) or invalid (forged, malformed, of a
    deleted post or of an earlier review)."""

    expired: bool = False


ReviewResult = Shown | Tracked | Decided | Refused
