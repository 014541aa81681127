"""What the management API does with accounts: show them (no tokens), save preferences, disconnect."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

from functions.accounts.scopes import connect_url, wanted_scopes
from functions.ports import (
    HasAccessTokens,
    HasAccounts,
    HasClock,
    HasQuota,
    HasSettings,
    HasTikTok,
    HasTokens,
)
from functions.posting.errors import ReauthRequiredError, TransientStepError
from functions.posting.manifest import ManifestError, PostManifest, parse_manifest
from functions.posting.quota import quota_left
from functions.tiktok.errors import TikTokError

if TYPE_CHECKING:
    from functions.store.accounts import Account


class ManagementPorts(
    HasClock, HasSettings, HasAccounts, HasTokens, HasQuota, HasTikTok, HasAccessTokens, Protocol
):
    """The ports this module's functions use."""


PREFERENCE_FIELDS = frozenset(PostManifest.model_fields) - {
    "video",
    "photos",
    "account",
    "publish_at",
    "client_token",
}
MAX_DAILY_CAP = 15 * 4  # TikTok's cap varies by creator ("around 15"); an override stays within reason


def account_view(w: ManagementPorts, account: Account) -> dict[str, Any]:
    view = account.to_dict()
    view["quota"] = quota_left(
        w.quota, account_id=account.account_id, daily_cap=account.daily_post_cap, now=w.now()
    )
    missing = [s for s in wanted_scopes(w.settings) if s not in account.scopes]
    if missing:  # connected before these were asked for, or the creator unticked them: posting still works
        view["missing_scopes"] = missing
        view["upgrade_url"] = connect_url(w.settings, account.account_id)
    return view


def save_preferences(w: ManagementPorts, account: Account, body: dict[str, Any]) -> Account:
    """Preferences are the manifest settings a bare video is posted with; validated as such."""
    cap = body.pop("daily_post_cap", None)
    unknown = sorted(set(body) - PREFERENCE_FIELDS)
    if unknown:
        raise ManifestError([f"{name}: is not a posting preference" for name in unknown])
    parse_manifest({**body, "video": "posts/x/preview.mp4"})  # the same rules as a manifest
    if cap is not None:
        if isinstance(cap, bool) or not isinstance(cap, int) or not 1 <= cap <= MAX_DAILY_CAP:
            raise ManifestError([f"daily_post_cap: must be a whole number from 1 to {MAX_DAILY_CAP}"])
        w.accounts.set_daily_post_cap(account.account_id, cap, w.now())
    w.accounts.set_preferences(account.account_id, body, w.now())
    return w.accounts.get(account.account_id) or account


def disconnect(w: ManagementPorts, account: Account, reason: str) -> Account:
    """Revoke at TikTok with a valid access token (refreshed first if it expired), so that the app leaves
    the creator's authorized apps; delete the tokens; mark the account, saying whether TikTok confirmed."""
    stored = w.tokens.load(account.account_id)
    if stored is not None:
        confirmed = _revoke(w, account.account_id, stored.access_token)
        w.tokens.delete(account.account_id)
        reason += (
            "; TikTok confirmed the revocation" if confirmed else "; TikTok could not confirm the revocation"
        )
    w.accounts.set_status(account.account_id, "disconnected", reason, w.now())
    return w.accounts.get(account.account_id) or account


def _revoke(w: ManagementPorts, account_id: str, stored_token: str) -> bool:
    """True when TikTok answered the revocation. An expired access token cannot revoke, so it is refreshed
    first; an account that can no longer refresh (reauth required) tries the stored one."""
    try:
        token = w.access_tokens.for_account(account_id)
    except (ReauthRequiredError, TransientStepError):
        token = stored_token
    try:
        w.tiktok.revoke(token)
    except TikTokError:
        return False
    return True
