"""The review of one post: the link issued when the workflow parks the post, the page shown for it, and the
creator's decision, which resumes (Post) or ends (Discard) the waiting workflow exactly once.

It speaks no HTTP: open_link, show and submit return results (functions.review.results), which the review
handler answers with pages and redirects.

The workflow's task token stays on the post record. A decision is one conditional write from
AWAITING_REVIEW (to SCHEDULED with the creator's choices as the post's final settings, or to CANCELLED)
that also clears the token; only the request that wins it answers the token. A replayed or doubled
request finds the post no longer awaiting review and is shown where the post is instead.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol

from pydantic import ValidationError

from functions import metrics
from functions.ports import (
    HasAccessTokens,
    HasAccounts,
    HasClock,
    HasEventBus,
    HasMedia,
    HasMediaSigningKey,
    HasPosts,
    HasQuota,
    HasSettings,
    HasSleep,
    HasTikTok,
    HasWorkflow,
)
from functions.post_status import PostStatus, status_rank
from functions.posting.errors import PostRejectedError
from functions.posting.manifest import PostManifest, publish_at_text
from functions.posting.outcome import failure_of
from functions.posting.prepared import Prepared
from functions.posting.record_parts import ReviewState
from functions.posting.records import public_view
from functions.review.choices import (
    PRIVACY_LABELS,
    Choices,
    Problem,
    approved_settings,
    declaration,
    parse_form,
    problems,
)
from functions.review.form import Unavailable, review_context, shown_form
from functions.review.links import MIN_KEY_BYTES, LinkError, sign, url_of, verify
from functions.review.results import Decided, Opened, Refused, Shown, Tracked
from functions.store.secrets import review_link_key
from functions.tiktok.models import PrivacyLevel


class FlowPorts(
    HasClock,
    HasSleep,
    HasSettings,
    HasPosts,
    HasAccounts,
    HasQuota,
    HasMedia,
    HasTikTok,
    HasAccessTokens,
    HasWorkflow,
    HasEventBus,
    HasMediaSigningKey,
    Protocol,
):
    """The ports this module's functions use."""


AWAITING = PostStatus.AWAITING_REVIEW
EVENT_AWAITING_REVIEW = "Post Awaiting Review"
TOKEN_CLEARED = dict.fromkeys(("task_token",))  # a decision uses the task token up, in the same write


def _key(w: FlowPorts) -> bytes:
    return review_link_key(w.settings.require("review_link_key_arn"), MIN_KEY_BYTES)


# ------------------------------------------------------------------------------- the workflow's step


def register_review(w: FlowPorts, post_id: str, task_token: str) -> None:
    """AwaitReview: keep the task token on the post, set it AWAITING_REVIEW with a signed review link, and
    announce it. A retried step keeps the link it issued; a post cancelled meanwhile answers at once."""
    for _ in range(5):
        post = w.posts.get(post_id)
        if post is None:
            raise PostRejectedError("post_missing", f"no post {post_id}")
        failure = failure_of(post)
        if failure is not None:
            _answer(w, task_token, failure=failure)
            return
        status = str(post["status"])
        if status_rank(status) > status_rank(AWAITING):
            raise PostRejectedError("review_out_of_order", f"post {post_id} is {status}, past its review")
        now = w.now()
        review = ReviewState.of(post)
        if status == AWAITING and review.url:
            if w.posts.update_fields(post_id, {"task_token": task_token}, now, expected_status=AWAITING):
                return
            continue
        link = sign(_key(w), post_id, now + w.settings.review_expiry_seconds)
        review = review.issued(
            url_of(w.settings.require("review_base_url"), link), expires_at=link.expires_at, now=now
        )
        reason = review.reason or "the post needs the creator's review"
        if w.posts.transition(
            post_id,
            AWAITING,
            now=now,
            note=f"waits for review: {reason}",
            fields={"task_token": task_token, "review": review.to_record()},
        ):
            _announce(w, post_id)
            return
    raise PostRejectedError("post_changing", f"post {post_id} kept changing while its review was registered")


def _announce(w: FlowPorts, post_id: str) -> None:
    post = w.posts.get(post_id)
    if post is None:
        return
    w.event_bus.publish(EVENT_AWAITING_REVIEW, public_view(post))
    metrics.count("PostAwaitingReview")


def _answer(w: FlowPorts, token: str, *, failure: tuple[str, str] | None = None) -> bool:
    """Answer the workflow's task token; False when the wait had already ended (the link expired)."""
    if failure is None:
        return w.workflow.succeed(token, {"reviewed": True})
    return w.workflow.fail(token, error=failure[0], cause=failure[1])


# ------------------------------------------------------------------------------------------- the page


def open_link(w: FlowPorts, token: str) -> Opened | Refused:
    """The post a review link names, or Refused (expired, or invalid)."""
    try:
        link = verify(_key(w), token, w.now())
    except LinkError as exc:
        return Refused(expired=exc.expired)
    post = w.posts.get(link.post_id)
    try:
        expires_at = ReviewState.of(post).expires_at if post is not None else None
    except PostRejectedError:
        expires_at = None  # a review the record cannot say matches no link
    if post is None or expires_at != link.expires_at:
        return Refused()  # a deleted post, or a link of an earlier review of it
    return Opened(link=link, post=post)


def show(w: FlowPorts, opened: Opened) -> Shown | Tracked:
    """GET: the form with fresh creator_info while the post waits for review; its live status after."""
    if not opened.waiting:
        return Tracked(opened.post)
    settings = opened.post.get("settings") or {}
    initial = Choices(
        caption=settings.get("caption"), title=settings.get("title"), description=settings.get("description")
    )
    return shown_form(w, opened, initial, (), "open")


def submit(
    w: FlowPorts, opened: Opened, fields: Mapping[str, Sequence[str]], unreadable: Sequence[Problem] = ()
) -> Shown | Decided:
    """POST: Discard, or Post after every rule is checked again against fresh creator_info. `fields` is the
    submitted form; `unreadable` what kept it from being read (then `fields` is empty)."""
    if not opened.waiting:
        return Decided(opened.review_url, "decided")
    action = fields.get("action", [])
    if action == ["discard"]:
        return _discard(w, opened)
    choices, problems_found = parse_form(fields, opened.kind)
    problems_found = [*unreadable, *problems_found]
    if action != ["post"]:
        problems_found.append(Problem("form", "Choose Post or Discard."))
    return _post(w, opened, choices, problems_found)


def _discard(w: FlowPorts, opened: Opened) -> Decided:
    post, now = opened.post, w.now()
    review = ReviewState.of(post).decided({"decision": "discarded", "decided_at": now}).to_record()
    if w.posts.transition(
        post["post_id"],
        "CANCELLED",
        now=now,
        note="discarded on the review page",
        fields={"review": review, **TOKEN_CLEARED},
        from_status=AWAITING,
    ):
        _answer(w, str(post["task_token"]), failure=("PostCancelled", "discarded on the review page"))
        metrics.count("PostDiscarded")
    return Decided(opened.review_url, "discarded")


def _post(w: FlowPorts, opened: Opened, choices: Choices, problems_found: list[Problem]) -> Shown | Decided:
    post = opened.post
    try:
        context = review_context(w, opened)
    except Unavailable as exc:
        return shown_form(w, opened, choices, problems_found, "unavailable", unavailable=exc.message)
    problems_found += problems(choices, context)
    settings: dict[str, Any] = {}
    if not problems_found:
        settings = approved_settings(post.get("settings") or {}, choices, opened.kind)
        try:
            PostManifest.model_validate(settings)
        except ValidationError as exc:  # the rules above should have caught it: never post what fails
            problems_found.append(Problem("form", f"The post is not valid: {exc.errors()[0]['msg']}"))
    if problems_found:
        return shown_form(w, opened, choices, problems_found, "refused", context=context)

    now = w.now()
    level = PrivacyLevel(choices.privacy_level)
    prepared = Prepared.of(post).replace(
        disable_comment=not choices.allow_comment,
        disable_duet=not choices.allow_duet,
        disable_stitch=not choices.allow_stitch,
        notes=(),
    )
    decision = {
        "decision": "approved",
        "decided_at": now,
        "declaration": declaration(choices),
        "privacy_level": level.value,
        "creator": context.creator.creator_username,
    }
    review = ReviewState.of(post).decided(decision).to_record()
    publish_at = publish_at_text(PostManifest.model_validate(settings), now)
    note = f"approved on the review page for {PRIVACY_LABELS[level]}" + (
        f"; waits until {publish_at}" if publish_at else ""
    )
    won = w.posts.transition(
        post["post_id"],
        "SCHEDULED",
        now=now,
        note=note,
        fields={"settings": settings, "prepared": prepared.to_record(), "review": review, **TOKEN_CLEARED},
        from_status=AWAITING,
    )
    # When the wait had ended (the link expired a moment ago), the workflow records the failure itself.
    if won and _answer(w, str(post["task_token"])):
        metrics.count("PostApproved")
    return Decided(opened.review_url, "posted")
