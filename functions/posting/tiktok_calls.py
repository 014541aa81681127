"""One TikTok read for an account: a fresh token, a slot in the request budget, and TikTok's errors mapped
to what the workflow does with them (retry, wait for quota, ask for reauthorisation, or fail clearly)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, TypeVar

from functions import metrics
from functions.posting.errors import (
    PostRejectedError,
    QuotaWaitError,
    ReauthRequiredError,
    TransientStepError,
)
from functions.tiktok.errors import (
    TikTokError,
    TikTokQuotaError,
    TikTokReauthError,
    TikTokRetryableError,
    UnknownOutcomeError,
)

if TYPE_CHECKING:
    from functions.ports import CallsTikTok
    from functions.tiktok.client import TikTokClient


T = TypeVar("T")


def tiktok_call(w: CallsTikTok, account_id: str, endpoint: str, call: Callable[[TikTokClient, str], T]) -> T:
    token = w.access_tokens.for_account(account_id)
    w.rate_budget.take(account_id, endpoint)
    try:
        return call(w.tiktok, token)
    except TikTokError as exc:
        metrics.tiktok_error(exc.code)
        raise step_error(w, account_id, endpoint, exc) from None
    except UnknownOutcomeError as exc:
        metrics.tiktok_error("unknown_outcome")
        raise TransientStepError(f"{endpoint}: {exc}") from None


def step_error(w: CallsTikTok, account_id: str, endpoint: str, exc: TikTokError) -> Exception:
    """What the workflow does with TikTok's answer: ask for reauthorisation, wait, retry, or fail clearly."""
    if isinstance(exc, TikTokReauthError):
        w.accounts.set_status(account_id, "reauth_required", exc.reason, w.now())
        return ReauthRequiredError(account_id, exc.reason)
    if isinstance(exc, TikTokQuotaError):
        return QuotaWaitError(exc.code, exc.reason)
    if isinstance(exc, TikTokRetryableError):
        return TransientStepError(f"{endpoint}: {exc}")
    return PostRejectedError(exc.code, exc.reason)
