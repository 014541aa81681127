"""A valid access token for an account, refreshed before expiry, one refresh at a time.

TikTok rotates refresh tokens: using an old one fails. So a refresh happens only under the account's lease
(a conditional write), the newest tokens are stored before anyone uses them, and every other caller waits
for the lease holder and then reads what it stored. A refresh token TikTok refuses marks the account
`reauth_required` with the reason: its posts fail clearly instead of looping.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, NoReturn

from functions.posting.errors import ReauthRequiredError, TransientStepError
from functions.store.errors import ConflictError
from functions.tiktok.errors import TikTokError, TikTokReauthError, UnknownOutcomeError

if TYPE_CHECKING:
    from functions.store.accounts import AccountStore
    from functions.store.tokens import StoredTokens, TokenStore
    from functions.tiktok.client import TikTokClient

REFRESH_MARGIN_SECONDS = 600  # refresh when less than this is left (access tokens live 2 h)
LEASE_SECONDS = 30
WAIT_STEP_SECONDS = 0.2
MAX_WAIT_SECONDS = 20.0


class AccessTokens:
    def __init__(
        self,
        *,
        tokens: TokenStore,
        accounts: AccountStore,
        client: TikTokClient,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
        margin_seconds: int = REFRESH_MARGIN_SECONDS,
    ) -> None:
        self._tokens = tokens
        self._accounts = accounts
        self._client = client
        self._clock = clock
        self._sleep = sleep
        self._margin = margin_seconds
        self._owner = "refresh-" + secrets.token_hex(8)

    def for_account(self, account_id: str) -> str:
        """The account's access token, valid for at least the margin; refreshed here if needed."""
        stored = self._usable(account_id)
        if self._fresh(stored):
            return stored.access_token
        waited = 0.0
        while True:
            now = int(self._clock())
            if self._tokens.acquire_refresh_lease(account_id, self._owner, now, LEASE_SECONDS):
                return self._refresh_under_lease(account_id)
            # Someone else is refreshing: wait for what they store.
            if waited >= MAX_WAIT_SECONDS:
                raise TransientStepError(
                    f"account {account_id}: a token refresh by another caller is still running"
                )
            self._sleep(WAIT_STEP_SECONDS)
            waited += WAIT_STEP_SECONDS
            stored = self._usable(account_id)
            if self._fresh(stored):
                return stored.access_token

    def _fresh(self, stored: StoredTokens) -> bool:
        return stored.access_expires_at - self._margin > self._clock()

    def _usable(self, account_id: str) -> StoredTokens:
        account = self._accounts.get(account_id)
        if account is None:
            raise ReauthRequiredError(account_id, "no such connected account; connect it at /connect")
        if account.status != "connected":
            reason = account.status_reason or account.status
            raise ReauthRequiredError(
                account_id, f"the account is {account.status} ({reason}); connect it again"
            )
        stored = self._tokens.load(account_id)
        if stored is None:
            raise ReauthRequiredError(account_id, "no tokens are stored; connect it again at /connect")
        return stored

    def _refresh_under_lease(self, account_id: str) -> str:
        try:
            stored = self._usable(account_id)  # read again: the previous holder may have refreshed
            if self._fresh(stored):
                return stored.access_token
            now = int(self._clock())
            if stored.refresh_expires_at <= now:
                self._require_reauth(account_id, "the refresh token expired; connect the account again", now)
            try:
                fresh = self._client.refresh(
                    stored.refresh_token, refresh_expires_at=stored.refresh_expires_at
                )
            except TikTokReauthError as exc:
                self._require_reauth(account_id, f"TikTok refused the refresh token ({exc.code})", now)
            except UnknownOutcomeError:
                # The refresh token may now be spent; the next attempt will tell (TikTok refuses it or not).
                raise TransientStepError(f"account {account_id}: token refresh outcome unknown") from None
            except TikTokError as exc:
                raise TransientStepError(
                    f"account {account_id}: token refresh failed: {exc.reason}"
                ) from None
            try:
                self._tokens.replace_after_refresh(
                    account_id,
                    expected_version=stored.version,
                    owner=self._owner,
                    access_token=fresh.access_token.get_secret_value(),
                    refresh_token=fresh.refresh_token.get_secret_value(),
                    scopes=list(fresh.scopes),
                    access_expires_at=fresh.access_expires_at,
                    refresh_expires_at=fresh.refresh_expires_at,
                    now=now,
                )
            except ConflictError:
                raise TransientStepError(
                    f"account {account_id}: lost the refresh lease while refreshing"
                ) from None
            self._accounts.update_token_expiry(
                account_id, fresh.access_expires_at, fresh.refresh_expires_at, now
            )
            return fresh.access_token.get_secret_value()
        finally:
            self._tokens.release_lease(account_id, self._owner)

    def _require_reauth(self, account_id: str, reason: str, now: int) -> NoReturn:
        self._accounts.set_status(account_id, "reauth_required", reason, now)
        raise ReauthRequiredError(account_id, reason)
