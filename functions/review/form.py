"""The review form of a waiting post: fresh creator_info, the exact media to preview, and the rules that
decide what the creator may choose now (functions.review.choices)."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any, Protocol

from functions.ports import (
    HasAccessTokens,
    HasAccounts,
    HasClock,
    HasMedia,
    HasMediaSigningKey,
    HasQuota,
    HasSettings,
    HasSleep,
    HasTikTok,
)
from functions.posting.errors import QuotaWaitError, ReauthRequiredError, TransientStepError
from functions.posting.init import media_url
from functions.posting.prepared import Prepared
from functions.posting.rate_budget import RateBudget
from functions.posting.record_parts import PostMedia
from functions.review.choices import Choices, Problem, ReviewContext, blockers
from functions.review.results import FormPage, FormReason, Opened, Preview, Shown
from functions.tiktok.errors import TikTokError, TikTokQuotaError, TikTokReauthError
from functions.tiktok.models import CreatorInfo


class FormPorts(
    HasClock,
    HasSleep,
    HasSettings,
    HasAccounts,
    HasQuota,
    HasMedia,
    HasTikTok,
    HasAccessTokens,
    HasMediaSigningKey,
    Protocol,
):
    """The ports this module's functions use."""


PREVIEW_URL_SECONDS = 3600  # the page's media URLs; opening the page again makes new ones
CREATOR_INFO_MAX_WAIT = 3.0  # a page does not wait long for TikTok's per-minute budget


class Unavailable(Exception):
    """TikTok cannot confirm now that the account can post; `message` says so to the creator."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def fresh_creator_info(w: FormPorts, account_id: str) -> CreatorInfo:
    """creator_info now (never a stored copy), within the account's per-minute budget; Unavailable with a
    sentence for the creator when TikTok cannot say or says this account cannot post now."""
    budget = RateBudget(
        w.quota, clock=lambda: float(w.now()), sleep=w.sleep, max_inline_wait=CREATOR_INFO_MAX_WAIT
    )
    try:
        token = w.access_tokens.for_account(account_id)
        budget.take(account_id, "creator_info")
        return w.tiktok.creator_info(token)
    except ReauthRequiredError as exc:
        raise Unavailable(f"The TikTok account must be connected again ({exc.detail}).") from None
    except TikTokReauthError as exc:
        w.accounts.set_status(account_id, "reauth_required", exc.reason, w.now())
        raise Unavailable(f"The TikTok account must be connected again: {exc.reason}") from None
    except TikTokQuotaError as exc:
        raise Unavailable(f"TikTok says this account cannot post right now: {exc.reason}") from None
    except (TransientStepError, QuotaWaitError) as exc:
        raise Unavailable(f"TikTok could not be asked about this account just now ({exc}).") from None
    except TikTokError as exc:
        raise Unavailable(f"TikTok did not confirm that this account can post: {exc.reason}") from None


def _duration(post: Mapping[str, Any]) -> float | None:
    prepared = Prepared.found_in(post)
    return prepared.video.duration_seconds if prepared and prepared.video else None


def review_context(w: FormPorts, opened: Opened) -> ReviewContext:
    """What the rules are checked against now; Unavailable when TikTok cannot say."""
    creator = fresh_creator_info(w, str(opened.post["account_id"]))
    return ReviewContext(
        kind=opened.kind,
        creator=creator,
        app_status=w.settings.app_status,
        duration_seconds=_duration(opened.post),
    )


def _preview(w: FormPorts, opened: Opened) -> Preview:
    post = opened.post
    prepared = Prepared.found_in(post)
    bucket = PostMedia.of(post).bucket if prepared else ""
    items = prepared.media if prepared else ()
    urls = [_preview_url(w, bucket, item.key, item.version_id) for item in items]
    return Preview(kind=opened.kind, urls=urls, duration_seconds=_duration(post))


def _preview_url(w: FormPorts, bucket: str, key: str, version_id: str | None) -> str:
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


def _known_creator(w: FormPorts, opened: Opened) -> ReviewContext:
    """The account as Prepare saw it, for a page that cannot ask TikTok now (it still names the account)."""
    known = Prepared.found_in(opened.post)
    creator = CreatorInfo(
        creator_username=known.creator_username if known else "",
        creator_nickname=known.creator_nickname if known else "",
    )
    return ReviewContext(kind=opened.kind, creator=creator, app_status=w.settings.app_status)


def shown_form(
    w: FormPorts,
    opened: Opened,
    choices: Choices,
    problems_found: Sequence[Problem],
    reason: FormReason,
    *,
    context: ReviewContext | None = None,
    unavailable: str = "",
) -> Shown:
    """The form with these choices and problems; creator_info is asked now unless `context` has it or
    `unavailable` says TikTok could not be asked."""
    if context is None and not unavailable:
        try:
            context = review_context(w, opened)
        except Unavailable as exc:
            unavailable = exc.message
    if context is None:
        context = _known_creator(w, opened)
        found_blockers = [Problem("creator", unavailable)]
        reason = "unavailable"
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
        facts=_facts(opened.post),
    )
    return Shown(page, reason)
