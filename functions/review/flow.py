"""The review of one post: the link issued when the workflow parks the post, the page shown for it, and the
creator's decision, which resumes (Post) or ends (Discard) the waiting workflow exactly once.

The workflow's task token stays on the post record. A decision is one conditional write from
AWAITING_REVIEW (to SCHEDULED with the creator's choices as the post's final settings, or to CANCELLED)
that also clears the token; only the request that wins it answers the token. A replayed or doubled
request finds the post no longer awaiting review and is shown where the post is instead.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from functions.post_status import PostStatus, status_rank
from functions.posting.errors import (
    PostRejectedError,
    QuotaWaitError,
    ReauthRequiredError,
    TransientStepError,
)
from functions.posting.init import media_url
from functions.posting.manifest import PostManifest, publish_at_text
from functions.posting.outcome import failure_of
from functions.posting.rate_budget import RateBudget
from functions.posting.records import public_view
from functions.review.choices import (
    PRIVACY_LABELS,
    Choices,
    Kind,
    Problem,
    ReviewContext,
    approved_settings,
    blockers,
    declaration,
    parse_form,
    problems,
)
from functions.review.links import MIN_KEY_BYTES, LinkError, ReviewLink, sign, url_of, verify
from functions.review.page import FormPage, Preview, form_page, message_page, status_page
from functions.store.secrets import review_link_key
from functions.tiktok.errors import TikTokError, TikTokQuotaError, TikTokReauthError
from functions.tiktok.models import CreatorInfo, PrivacyLevel

if TYPE_CHECKING:
    from functions.wiring import Wiring

AWAITING = PostStatus.AWAITING_REVIEW
PREVIEW_URL_SECONDS = 3600  # the page's media URLs; opening the page again makes new ones
CREATOR_INFO_MAX_WAIT = 3.0  # a page does not wait long for TikTok's per-minute budget
EVENT_AWAITING_REVIEW = "Post Awaiting Review"
MAX_FORM_BYTES = 64 * 1024
TOKEN_CLEARED = dict.fromkeys(("task_token",))  # a decision uses the task token up, in the same write


def _key(w: Wiring) -> bytes:
    return review_link_key(w.settings.require("review_link_key_arn"), MIN_KEY_BYTES)


# ------------------------------------------------------------------------------- the workflow's step


def register_review(w: Wiring, post_id: str, task_token: str) -> None:
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
        review = dict(post.get("review") or {})
        if status == AWAITING and review.get("url"):
            if w.posts.update_fields(post_id, {"task_token": task_token}, now, expected_status=AWAITING):
                return
            continue
        link = sign(_key(w), post_id, now + w.settings.review_expiry_seconds)
        review.update(
            url=url_of(w.settings.require("review_base_url"), link), expires_at=link.expires_at, issued_at=now
        )
        reason = str(review.get("reason") or "the post needs the creator's review")
        if w.posts.transition(
            post_id,
            AWAITING,
            now=now,
            note=f"waits for review: {reason}",
            fields={"task_token": task_token, "review": review},
        ):
            _announce(w, post_id)
            return
    raise PostRejectedError("post_changing", f"post {post_id} kept changing while its review was registered")


def _announce(w: Wiring, post_id: str) -> None:
    post = w.posts.get(post_id)
    if post is None:
        return
    w.event_bus.publish(EVENT_AWAITING_REVIEW, public_view(post))
    w.metrics_count("PostAwaitingReview")


def _answer(w: Wiring, token: str, *, failure: tuple[str, str] | None = None) -> bool:
    """Answer the workflow's task token; False when the wait had already ended (the link expired)."""
    if failure is None:
        return w.workflow.succeed(token, {"reviewed": True})
    return w.workflow.fail(token, error=failure[0], cause=failure[1])


# --------------------------------------------------------------------------------------------- answers


@dataclass(frozen=True)
class Answer:
    """An HTTP answer of the review page."""

    status: int
    body: str = ""
    headers: Mapping[str, str] = field(default_factory=dict)


def _page(status: int, rendered: tuple[str, dict[str, str]]) -> Answer:
    return Answer(status, rendered[0], rendered[1])


def _see_status(post: Mapping[str, Any], flag: str) -> Answer:
    url = str((post.get("review") or {}).get("url") or "")
    return Answer(303, "", {"Location": f"{url}?{flag}=1", "Cache-Control": "no-store"})


@dataclass(frozen=True)
class Opened:
    link: ReviewLink
    post: dict[str, Any]

    @property
    def waiting(self) -> bool:
        return self.post.get("status") == AWAITING and bool(self.post.get("task_token"))

    @property
    def kind(self) -> Kind:
        return "photo" if self.post.get("kind") == "photo" else "video"


class Refused(Exception):
    def __init__(self, answer: Answer) -> None:
        super().__init__(answer.status)
        self.answer = answer


def open_link(w: Wiring, token: str) -> Opened:
    """The post a review link names, or Refused with the page to show (invalid 404, expired 410)."""
    try:
        link = verify(_key(w), token, w.now())
    except LinkError as exc:
        if exc.expired:
            raise Refused(
                _page(
                    410,
                    message_page(
                        "This review link has expired",
                        "The post was not published. To publish it, post it again: a new review link will "
                        "be issued.",
                    ),
                )
            ) from None
        raise _invalid() from None
    post = w.posts.get(link.post_id)
    review = (post or {}).get("review") or {}
    if post is None or int(review.get("expires_at", -1)) != link.expires_at:
        raise _invalid()  # a deleted post, or a link of an earlier review of it
    return Opened(link=link, post=post)


def _invalid() -> Refused:
    return Refused(
        _page(
            404,
            message_page(
                "This review link is not valid", "Check that you opened the whole link you received."
            ),
        )
    )


def show(w: Wiring, opened: Opened, *, flags: Sequence[str] = ()) -> Answer:
    """GET: the form with fresh creator_info while the post waits for review; its live status after."""
    if not opened.waiting:
        # The status line below says where the post is now (it may be published already); the note only
        # acknowledges the decision just made. A discard needs none: its status says it all.
        note = "Thank you: your choices are saved." if "posted" in flags else ""
        return _page(200, status_page(opened.post, note=note))
    settings = opened.post.get("settings") or {}
    initial = Choices(
        caption=settings.get("caption"), title=settings.get("title"), description=settings.get("description")
    )
    return _form(w, opened, initial, (), 200)


def submit(w: Wiring, opened: Opened, body: bytes) -> Answer:
    """POST: Discard, or Post after every rule is checked again against fresh creator_info."""
    if not opened.waiting:
        return _see_status(opened.post, "decided")
    fields, shape = _form_fields(body)
    action = fields.get("action", [])
    if action == ["discard"]:
        return _discard(w, opened)
    choices, problems_found = parse_form(fields, opened.kind)
    problems_found = shape + problems_found
    if action != ["post"]:
        problems_found.append(Problem("form", "Choose Post or Discard."))
    return _post(w, opened, choices, problems_found)


def _form_fields(body: bytes) -> tuple[dict[str, list[str]], list[Problem]]:
    from urllib.parse import parse_qs  # noqa: PLC0415 - only POST needs it

    if len(body) > MAX_FORM_BYTES:
        return {}, [Problem("form", f"The form is larger than {MAX_FORM_BYTES} bytes.")]
    try:
        text = body.decode("utf-8")
        parsed = parse_qs(text, keep_blank_values=True, strict_parsing=bool(text), max_num_fields=50)
    except (UnicodeDecodeError, ValueError):
        return {}, [Problem("form", "The form could not be read.")]
    return parsed, []


def _discard(w: Wiring, opened: Opened) -> Answer:
    post, now = opened.post, w.now()
    review = {**(post.get("review") or {}), "decision": {"decision": "discarded", "decided_at": now}}
    if w.posts.transition(
        post["post_id"],
        "CANCELLED",
        now=now,
        note="discarded on the review page",
        fields={"review": review, **TOKEN_CLEARED},
        from_status=AWAITING,
    ):
        _answer(w, str(post["task_token"]), failure=("PostCancelled", "discarded on the review page"))
        w.metrics_count("PostDiscarded")
    return _see_status(post, "discarded")


def _post(w: Wiring, opened: Opened, choices: Choices, problems_found: list[Problem]) -> Answer:
    post = opened.post
    try:
        context = _context(w, opened)
    except _Unavailable as exc:
        return _form(w, opened, choices, problems_found, 503, unavailable=exc.message)
    problems_found += problems(choices, context)
    settings: dict[str, Any] = {}
    if not problems_found:
        settings = approved_settings(post.get("settings") or {}, choices, opened.kind)
        try:
            PostManifest.model_validate(settings)
        except ValidationError as exc:  # the rules above should have caught it: never post what fails
            problems_found.append(Problem("form", f"The post is not valid: {exc.errors()[0]['msg']}"))
    if problems_found:
        return _form(w, opened, choices, problems_found, 422, context=context)

    now = w.now()
    level = PrivacyLevel(choices.privacy_level)
    prepared = {
        **(post.get("prepared") or {}),
        "disable_comment": not choices.allow_comment,
        "disable_duet": not choices.allow_duet,
        "disable_stitch": not choices.allow_stitch,
        "notes": [],
    }
    review = {
        **(post.get("review") or {}),
        "decision": {
            "decision": "approved",
            "decided_at": now,
            "declaration": declaration(choices),
            "privacy_level": level.value,
            "creator": context.creator.creator_username,
        },
    }
    publish_at = publish_at_text(PostManifest.model_validate(settings), now)
    note = f"approved on the review page for {PRIVACY_LABELS[level]}" + (
        f"; waits until {publish_at}" if publish_at else ""
    )
    won = w.posts.transition(
        post["post_id"],
        "SCHEDULED",
        now=now,
        note=note,
        fields={"settings": settings, "prepared": prepared, "review": review, **TOKEN_CLEARED},
        from_status=AWAITING,
    )
    # When the wait had ended (the link expired a moment ago), the workflow records the failure itself.
    if won and _answer(w, str(post["task_token"])):
        w.metrics_count("PostApproved")
    return _see_status(post, "posted")


# ------------------------------------------------------------------------------------------- the form


class _Unavailable(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def fresh_creator_info(w: Wiring, account_id: str) -> CreatorInfo:
    """creator_info now (never a stored copy), within the account's per-minute budget; _Unavailable with a
    sentence for the creator when TikTok cannot say or says this account cannot post now."""
    budget = RateBudget(
        w.quota, clock=lambda: float(w.now()), sleep=w.sleep, max_inline_wait=CREATOR_INFO_MAX_WAIT
    )
    try:
        token = w.access_tokens.for_account(account_id)
        budget.take(account_id, "creator_info")
        return w.tiktok.creator_info(token)
    except ReauthRequiredError as exc:
        raise _Unavailable(f"The TikTok account must be connected again ({exc.detail}).") from None
    except TikTokReauthError as exc:
        w.accounts.set_status(account_id, "reauth_required", exc.reason, w.now())
        raise _Unavailable(f"The TikTok account must be connected again: {exc.reason}") from None
    except TikTokQuotaError as exc:
        raise _Unavailable(f"TikTok says this account cannot post right now: {exc.reason}") from None
    except (TransientStepError, QuotaWaitError) as exc:
        raise _Unavailable(f"TikTok could not be asked about this account just now ({exc}).") from None
    except TikTokError as exc:
        raise _Unavailable(f"TikTok did not confirm that this account can post: {exc.reason}") from None


def _duration(post: Mapping[str, Any]) -> float | None:
    video = (post.get("prepared") or {}).get("video") or {}
    value = (video.get("probe") or {}).get("duration_seconds")
    return float(value) if isinstance(value, int | float) else None


def _context(w: Wiring, opened: Opened) -> ReviewContext:
    creator = fresh_creator_info(w, str(opened.post["account_id"]))
    return ReviewContext(
        kind=opened.kind,
        creator=creator,
        app_status=w.settings.app_status,
        duration_seconds=_duration(opened.post),
    )


def _preview(w: Wiring, opened: Opened) -> Preview:
    post = opened.post
    bucket = str((post.get("media") or {}).get("bucket") or "")
    prepared = post.get("prepared") or {}
    items = [prepared["video"]] if opened.kind == "video" else list(prepared.get("photos") or [])
    urls = [_preview_url(w, bucket, str(item["key"]), item.get("version_id")) for item in items]
    return Preview(kind=opened.kind, urls=urls, duration_seconds=_duration(post))


def _preview_url(w: Wiring, bucket: str, key: str, version_id: str | None) -> str:
    """The exact object version, for a short time: through the media domain when there is one (CloudFront,
    signed; the media server in a local run), else an S3 presigned URL."""
    if w.settings.media_base_url:
        return media_url(w, key, version_id)
    return w.media.presign_get(bucket, key, version_id, PREVIEW_URL_SECONDS)


def _facts(post: Mapping[str, Any]) -> list[str]:
    settings = post.get("settings") or {}
    facts = []
    if settings.get("publish_at"):
        facts.append(
            f"Scheduled by its author for {settings['publish_at']}; it goes out then, once you post it."
        )
    if settings.get("is_aigc"):
        facts.append("Its author marked it as AI-generated content: TikTok labels it so.")
    return facts


def _form(
    w: Wiring,
    opened: Opened,
    choices: Choices,
    problems_found: Sequence[Problem],
    status: int,
    *,
    context: ReviewContext | None = None,
    unavailable: str = "",
) -> Answer:
    post = opened.post
    if context is None and not unavailable:
        try:
            context = _context(w, opened)
        except _Unavailable as exc:
            unavailable = exc.message
    if context is None:
        known = (post.get("prepared") or {}).get("creator") or {}
        creator = CreatorInfo(
            creator_username=str(known.get("username") or ""),
            creator_nickname=str(known.get("nickname") or ""),
        )
        context = ReviewContext(kind=opened.kind, creator=creator, app_status=w.settings.app_status)
        found_blockers = [Problem("creator", unavailable)]
        if status == 200:
            status = 503
    else:
        found_blockers = blockers(context)
    # A re-shown form keeps what the creator chose, except the agreement: they agree again to what they post.
    kept = dataclasses.replace(choices, consent=False)
    page = FormPage(
        preview=_preview(w, opened),
        creator=context.creator,
        options=context.options,
        expires_at=opened.link.expires_at,
        choices=kept,
        blockers=found_blockers,
        problems=[p for p in problems_found if p not in found_blockers],
        facts=_facts(post),
    )
    return _page(status, form_page(page))
