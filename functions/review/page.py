"""The review pages, rendered from functions/templates/review: the form, the status of a post no longer
waiting, and a refused link. Each comes with its headers (functions.pages.headers).

The form works without its script: the style sheet shows the disclosure prompts and the declaration that
match what is ticked, and the server checks every rule again and answers with the form and its problems.
The script only keeps Post disabled, with the reason next to it, until the rules hold, and disables the
options the rules exclude.

Images and video come from exactly two kinds of origin, each named in the policy: the operator's own
media (a short-lived URL of the exact object version that will be posted) and the avatar URL TikTok's
creator_info returned on this load.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from functions.pages import headers, origin_of, render
from functions.post_status import TERMINAL, UNSUCCESSFUL
from functions.posting.errors import PostRejectedError
from functions.posting.prepared import Prepared
from functions.posting.record_parts import ReviewState
from functions.review.choices import (
    BRANDED_CONTENT_POLICY_URL,
    BRANDED_NOT_PRIVATE,
    CHOOSE_PRIVACY,
    CONSENT_NEEDED,
    MUSIC_USAGE_URL,
    NEED_DISCLOSURE_CHOICE,
    ONLY_ME_NO_BRANDED,
    PRIVACY_LABELS,
    PROCESSING_NOTICE,
    PROMPT_BRANDED,
    PROMPT_YOUR_BRAND,
    Problem,
)
from functions.tiktok.models import PrivacyLevel

if TYPE_CHECKING:
    from functions.review.results import FormPage

REFRESH_SECONDS = 10
POSTED_NOTE = "Thank you: your choices are saved."
PageAndHeaders = tuple[str, dict[str, str]]

# The sentences the form shows and its script repeats; TikTok requires several word for word (choices).
_TEXTS = {
    "processing_notice": PROCESSING_NOTICE,
    "choose_privacy": CHOOSE_PRIVACY,
    "consent_needed": CONSENT_NEEDED,
    "branded_not_private": BRANDED_NOT_PRIVATE,
    "only_me_no_branded": ONLY_ME_NO_BRANDED,
    "only_me_left": "Branded content can't be private, and Only me is the only audience this account can "
    "post to now",
    "prompt_your_brand": PROMPT_YOUR_BRAND,
    "prompt_branded": PROMPT_BRANDED,
    "need_disclosure_choice": NEED_DISCLOSURE_CHOICE,
}
_URLS = {"music_usage": MUSIC_USAGE_URL, "branded_content_policy": BRANDED_CONTENT_POLICY_URL}


def _utc(ts: int | float | None) -> str:
    if ts is None:
        return "an unknown time"
    return datetime.fromtimestamp(int(ts), UTC).strftime("%Y-%m-%d %H:%M UTC")


# --------------------------------------------------------------------------------------------- the form


@dataclass(frozen=True)
class PrivacyOption:
    value: str
    label: str
    selected: bool
    why_not: str = ""  # hover text where a choice rules this audience out


@dataclass(frozen=True)
class Interaction:
    name: str
    label: str
    checked: bool
    disabled: bool  # the creator turned it off in TikTok


def form_page(page: FormPage) -> PageAndHeaders:
    """(HTML, headers) of the review form."""
    creator = page.creator
    images = [*(page.preview.urls if page.kind == "photo" else ()), creator.creator_avatar_url]
    media = page.preview.urls if page.kind == "video" else ()
    limit = creator.max_video_post_duration_sec if page.kind == "video" else None
    duration = page.preview.duration_seconds
    html = render(
        "review/form.html",
        kind=page.kind,
        creator={
            "avatar_url": creator.creator_avatar_url if origin_of(creator.creator_avatar_url) else "",
            "name": creator.creator_nickname or creator.creator_username or "this TikTok account",
            "username": creator.creator_username,
        },
        blockers=[p.message for p in page.blockers],
        blocked=" ".join(p.message for p in page.blockers),
        problems=page.problems,
        problem_of=_problem_of(page.problems),
        preview=page.preview,
        duration=f"{duration:.1f} seconds" if duration is not None else "unknown length",
        limit=int(limit) if limit else None,
        facts=page.facts,
        choices=page.choices,
        privacy_options=_privacy_options(page),
        interactions=_interactions(page),
        only_me_left=list(page.options) == [PrivacyLevel.SELF_ONLY],
        expires=_utc(page.expires_at),
        texts=_TEXTS,
        urls=_URLS,
    )
    return html, headers(media=media, images=images)


def _problem_of(problems: Sequence[Problem]) -> dict[str, str]:
    """Each field's problems, one sentence after another (shown next to the field)."""
    found: dict[str, list[str]] = {}
    for problem in problems:
        found.setdefault(problem.field, []).append(problem.message)
    return {name: " ".join(messages) for name, messages in found.items()}


def _privacy_options(page: FormPage) -> list[PrivacyOption]:
    chosen = page.choices.privacy_level
    return [
        PrivacyOption(
            value=level.value,
            label=PRIVACY_LABELS[level],
            selected=chosen == level.value,
            why_not=BRANDED_NOT_PRIVATE
            if level is PrivacyLevel.SELF_ONLY and page.choices.branded_content
            else "",
        )
        for level in page.options
    ]


def _interactions(page: FormPage) -> list[Interaction]:
    choices, creator = page.choices, page.creator
    shown = [Interaction("allow_comment", "Comment", choices.allow_comment, creator.comment_disabled)]
    if page.kind == "video":  # photos have comments only
        shown += [
            Interaction("allow_duet", "Duet", choices.allow_duet, creator.duet_disabled),
            Interaction("allow_stitch", "Stitch", choices.allow_stitch, creator.stitch_disabled),
        ]
    return shown


# ------------------------------------------------------------------------------------ status and errors


_STATUS_TEXT: Mapping[str, str] = {
    "RECEIVED": "Received; it is being checked.",
    "AWAITING_REVIEW": "Waiting for your review.",
    "WAITING_QUOTA": "Approved. It waits for a free posting slot (TikTok's daily limits), then goes out.",
    "INITIALIZING": "Approved. It is being sent to TikTok.",
    "UPLOADING": "Approved. The media is being sent to TikTok.",
    "PROCESSING": "TikTok received it and is processing it.",
    "SEND_TO_USER_INBOX": "Sent to your TikTok inbox: open the notification in the TikTok app to finish it.",
    "PUBLISH_COMPLETE": "Published on TikTok.",
}


def status_text(post: Mapping[str, Any]) -> str:
    status = str(post.get("status", ""))
    if status == "SCHEDULED":
        publish_at = (post.get("settings") or {}).get("publish_at")
        if publish_at:
            return f"Approved. It will be sent to TikTok at {publish_at}."
        return "Approved. It is being sent to TikTok."
    if status == "FAILED":
        return (
            f"The post failed: {post.get('fail_detail') or post.get('fail_reason') or 'see the post record'}"
        )
    if status == "CANCELLED":
        if post.get("publish_id"):
            return "The post was cancelled."
        return "The post was discarded. Nothing was sent to TikTok."
    return _STATUS_TEXT.get(status, status)


def status_page(post: Mapping[str, Any], *, note: str = "") -> PageAndHeaders:
    """(HTML, headers) of a post that is no longer waiting for review: where it is, live."""
    status = str(post.get("status", ""))
    try:
        prepared = Prepared.found_in(post)
    except PostRejectedError:  # the post failed for it already; the page names no account then
        prepared = None
    username = prepared.creator_username if prepared else ""
    html = render(
        "review/status.html",
        refresh_seconds=None if status in TERMINAL else REFRESH_SECONDS,
        link=ReviewState.link_of(post),  # without the one-time flag of a redirect
        username=username,
        note=note,
        status_class="ok" if status == "PUBLISH_COMPLETE" else ("bad" if status in UNSUCCESSFUL else ""),
        status_text=status_text(post),
        processing_notice=PROCESSING_NOTICE.replace("After you post, ", ""),
        published=_published_links(post, username),
        history=[
            {"at": _utc(h.get("at")), "status": str(h.get("status", "")), "note": str(h.get("note") or "")}
            for h in post.get("history") or []
        ],
    )
    return html, headers()


def _published_links(post: Mapping[str, Any], username: str) -> list[str]:
    ids = [str(i) for i in post.get("tiktok_post_ids") or [] if str(i).isdigit()]
    if not username:
        return []
    kind = "photo" if post.get("kind") == "photo" else "video"
    return [f"https://www.tiktok.com/@{quote(username)}/{kind}/{i}" for i in ids]


def refused_page(*, expired: bool) -> PageAndHeaders:
    """(HTML, headers) of a review link that shows nothing: expired, or not valid."""
    return render("review/refused.html", expired=expired), headers()
