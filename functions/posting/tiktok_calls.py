"""One TikTok read for an account: a fresh token, a slot in the request budget, and TikTok's errors mapped
to what the workflow does with them (retry, wait for quota, ask for reauthorisation, or fail clearly)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from functions.posting.errors import (
    PostRejectedError,
    QuotaWaitError,
    ReauthRequiredError,
    TransientStepError,
)
from functions.tiktok.client import TikTokClient
from functions.tiktok.errors import (
    TikTokError,
    TikTokQuotaError,
    TikTokReauthError,
    TikTokRetryableError,
    UnknownOutcomeError,
)
from functions.wiring import Wiring

T = TypeVar("T")


def tiktok_call(w: Wiring, account_id: str, endpoint: str, call: Callable[[TikTokClient, str], T]) -> T:
    token = w.access_tokens.for_account(account_id)
    w.rate_budget.take(account_id, endpoint)
    try:
        return call(w.tiktok, token)
    except TikTokReauthError as exc:
        w.accounts.set_status(account_id, "reauth_required", exc.reason, w.now())
        raise ReauthRequiredError(account_id, exc.reason) from None
    except TikTokQuotaError as exc:
        raise QuotaWaitError(exc.code, exc.reason) from None
    except (TikTokRetryableError, UnknownOutcomeError) as exc:
        raise TransientStepError(f"{endpoint}: {exc}") from None
    except TikTokError as exc:
        raise PostRejectedError(exc.code, exc.reason) from None
