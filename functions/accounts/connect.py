"""The OAuth connect flow: a single-use state bound to the browser, then the callback that stores the account.

`start` makes the state (>=128 random bits) and the cookie value that binds it to this browser; only their
sha256 digests are stored, for ten minutes. `finish` consumes the state with one conditional delete, so an
unknown, reused, expired or foreign callback stores nothing and says why.

Both return results (ConnectStart or Connected, else NotConnected); the oauth handler answers them with
redirects and pages.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, Literal

from functions.accounts.scopes import POSTING_SCOPES
from functions.store.accounts import Account, AccountStore
from functions.tiktok.errors import OAuthError, TikTokError, UnknownOutcomeError

if TYPE_CHECKING:
    from functions.store.oauth_state import OAuthStateStore
    from functions.store.tokens import TokenStore
    from functions.tiktok.client import TikTokClient
    from functions.tiktok.models import CreatorInfo

# Posting needs these (functions/accounts/scopes.py); the Display scopes asked for besides are optional:
# a creator who unticks them posts all the same, and the account says what it lacks.
REQUIRED_SCOPES = POSTING_SCOPES
# creator_info's "this creator cannot post now" answers: the connection stands, posting waits.
CANNOT_POST_NOW = frozenset(
    {
        "spam_risk_too_many_posts",
        "spam_risk_too_many_pending_share",
        "spam_risk_user_banned_from_posting",
        "reached_active_user_cap",
    }
)
STATE_TTL_SECONDS = 600
COOKIE_NAME = "tp_oauth"
_ALIAS = re.compile(r"[a-z0-9._-]{1,64}")


# refused: the request cannot connect (bad alias, state or answer); tiktok: TikTok failed or refused while
# connecting; name_taken: the account name belongs to another TikTok account.
Cause = Literal["refused", "tiktok", "name_taken"]


@dataclass(frozen=True)
class NotConnected:
    """The connection cannot complete; `message` is shown to the person in the browser. `alias`: the name
    the attempt was for, when known, so that starting again keeps it."""

    message: str
    cause: Cause = "refused"
    alias: str | None = None


@dataclass(frozen=True)
class ConnectStart:
    authorize_url: str
    cookie_value: str


@dataclass(frozen=True)
class Connected:
    account: Account


class ConnectError(Exception):
    """Ends a connection attempt early; `start` and `finish` return it as NotConnected."""

    def __init__(self, message: str, *, cause: Cause = "refused") -> None:
        super().__init__(message)
        self.result = NotConnected(message, cause)


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def account_id_from(username: str, open_id: str) -> str:
    """A usable account id from the TikTok username (lower-cased, unsupported characters dropped)."""
    cleaned = re.sub(r"[^a-z0-9._-]", "", username.lower())[:64]
    return cleaned or "tt-" + _digest(open_id)[:16]


class ConnectFlow:
    def __init__(
        self,
        *,
        client: TikTokClient,
        states: OAuthStateStore,
        accounts: AccountStore,
        tokens: TokenStore,
        redirect_uri: str,
        scopes: tuple[str, ...] = POSTING_SCOPES,
    ) -> None:
        self._scopes = scopes
        self._client = client
        self._states = states
        self._accounts = accounts
        self._tokens = tokens
        self._redirect_uri = redirect_uri

    def start(
        self, *, alias: str | None, now: int, another_account: bool = False
    ) -> ConnectStart | NotConnected:
        """`another_account`: the creator connects a second TikTok account from this browser, so TikTok must
        show its account chooser instead of reusing the signed-in one (`disable_auto_auth=1`)."""
        if alias is not None and not _ALIAS.fullmatch(alias):
            return NotConnected("alias must be 1-64 characters of a-z, 0-9, '.', '_' or '-'")
        state = secrets.token_urlsafe(32)  # 256 bits
        cookie = secrets.token_urlsafe(32)
        self._states.create(
            state_hash=_digest(state),
            cookie_hash=_digest(cookie),
            alias=alias,
            now=now,
            ttl_seconds=STATE_TTL_SECONDS,
        )
        url = self._client.authorize_url(
            redirect_uri=self._redirect_uri,
            scopes=self._scopes,
            state=state,
            disable_auto_auth=1 if another_account else None,
        )
        return ConnectStart(authorize_url=url, cookie_value=cookie)

    def finish(self, *, params: dict[str, str], cookie: str | None, now: int) -> Connected | NotConnected:
        state = params.get("state", "")
        if not state:
            return NotConnected("The link has no state: start again from the connect page.")
        record = self._states.consume(_digest(state), now)
        if record is None:
            return NotConnected(
                "This sign-in link is unknown, was already used or has expired: start again from the connect page."
            )
        alias = record.get("alias")
        try:
            return Connected(self._finish(record=record, params=params, cookie=cookie, now=now))
        except ConnectError as exc:
            return replace(exc.result, alias=alias if isinstance(alias, str) else None)

    def _finish(
        self, *, record: dict[str, Any], params: dict[str, str], cookie: str | None, now: int
    ) -> Account:
        if not cookie or not hmac.compare_digest(_digest(cookie), str(record["cookie_hash"])):
            raise ConnectError(
                "This sign-in was started in another browser (its cookie is missing): start again from the "
                "connect page in this browser."
            )
        if params.get("error"):
            if params["error"] == "access_denied":
                raise ConnectError("You declined the connection on TikTok, so nothing was connected.")
            raise ConnectError(f"TikTok did not connect the account: {params['error']}.")
        granted = {s.strip() for s in params.get("scopes", "").split(",") if s.strip()}
        missing = [s for s in REQUIRED_SCOPES if s not in granted]
        if missing:
            raise ConnectError(
                f"TikTok did not grant {', '.join(missing)}, which posting needs: connect again and allow "
                "every permission asked for."
            )
        code = params.get("code", "")
        if not code:
            raise ConnectError("TikTok's answer carries no authorization code: start again.")
        return self._store(code=code, alias=record.get("alias"), now=now)

    def _store(self, *, code: str, alias: str | None, now: int) -> Account:
        try:
            tokens = self._client.exchange_code(code=code, redirect_uri=self._redirect_uri)
        except UnknownOutcomeError:
            raise ConnectError("TikTok did not answer in time: start again.", cause="tiktok") from None
        except TikTokError as exc:
            if isinstance(exc, OAuthError) and exc.code == "invalid_grant":
                # The callback's code is wrong, expired or spent: the request's fault, cured by a new sign-in.
                said = f" (TikTok: {exc.description.rstrip('.')})" if exc.description else ""
                raise ConnectError(
                    f"TikTok did not accept this sign-in's authorization code{said}, so nothing was "
                    "connected: start connecting again."
                ) from None
            raise ConnectError(f"TikTok refused the sign-in: {exc.reason}", cause="tiktok") from None
        access = tokens.access_token.get_secret_value()
        try:
            user = self._client.user_info(access)
        except TikTokError as exc:
            raise ConnectError(
                f"TikTok did not share the account's details: {exc.reason}", cause="tiktok"
            ) from None
        # The single-use code is spent: from here on the connection is kept whatever creator_info says.
        creator: CreatorInfo | None = None
        paused = ""
        try:
            creator = self._client.creator_info(access)
        except TikTokError as exc:
            if exc.code not in CANNOT_POST_NOW:
                raise ConnectError(
                    f"TikTok did not share the account's details: {exc.reason}", cause="tiktok"
                ) from None
            paused = f"{exc.code}: {exc.reason}"
        username = (creator.creator_username if creator else "") or str(user.get("username") or "")
        nickname = creator.creator_nickname if creator else ""
        display_name = nickname or str(user.get("display_name") or username)
        # One account per TikTok user: a reconnect keeps its name, so quotas are never counted twice.
        same_creator = self._accounts.find_by_open_id(tokens.open_id)
        if same_creator is not None:
            account_id = same_creator.account_id
        else:
            account_id = alias or account_id_from(username, tokens.open_id)
            taken = self._accounts.get(account_id)
            if taken is not None and taken.open_id != tokens.open_id:
                raise ConnectError(
                    f"The name {account_id!r} already belongs to another connected TikTok account: connect "
                    "with another alias (/connect?alias=...).",
                    cause="name_taken",
                )
        self._tokens.save(
            account_id,
            access_token=access,
            refresh_token=tokens.refresh_token.get_secret_value(),
            open_id=tokens.open_id,
            scopes=list(tokens.scopes),
            access_expires_at=tokens.access_expires_at,
            refresh_expires_at=tokens.refresh_expires_at,
            now=now,
        )
        account = Account(
            account_id=account_id,
            open_id=tokens.open_id,
            username=username,
            display_name=display_name,
            scopes=list(tokens.scopes),
            status="connected",
            access_expires_at=tokens.access_expires_at,
            refresh_expires_at=tokens.refresh_expires_at,
            preferences=dict(same_creator.preferences) if same_creator else {},
            daily_post_cap=same_creator.daily_post_cap if same_creator else 15,
            created_at=same_creator.created_at if same_creator and same_creator.created_at else now,
            updated_at=now,
            posting_paused=paused,
        )
        self._accounts.put(account)
        return account
