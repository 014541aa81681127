"""TikTokClient: the only code in the Lambdas that calls TikTok's Login Kit and Content Posting API.

Two retry regimes, by what a repeated request can do (docs/decisions.md, "never re-initialise an unknown
outcome"):
- Idempotent reads (creator_info, status fetch, user info, revoke): retried on connection errors,
  timeouts, 429 and 5xx with full-jitter backoff, a bounded number of times, honouring Retry-After.
- Calls with effects (video/photo init, code exchange, token refresh): retried only when the request
  provably never left this machine (connection refused, connect timeout). Once it may have been sent,
  a timeout, a reset or a gateway answer without TikTok's JSON raises UnknownOutcomeError: TikTok may
  have created the post (or consumed the code, or rotated the refresh token), so the caller reconciles.

Every request has connect and read timeouts. Tokens and the client secret are sent only in headers and
form bodies, never in URLs, logs, reprs or error messages.
"""

from __future__ import annotations

import json
import logging
import random
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar
from urllib.parse import quote, urlencode

import requests
from pydantic import ValidationError

from functions.tiktok.answers import envelope_data, parsed, revoke_answer, token_body
from functions.tiktok.errors import (
    TikTokError,
    TikTokRetryableError,
    UnknownOutcomeError,
)
from functions.tiktok.http import (
    FORM_HEADERS,
    JSON_HEADERS,
    USER_AGENT,
    describe_failure,
    never_sent,
    worth_retrying,
)
from functions.tiktok.models import (
    CreatorInfo,
    InitResult,
    MediaSource,
    PhotoPostInfo,
    PhotoPostMode,
    PhotoSourceInfo,
    PublishStatus,
    TokenResponseError,
    TokenSet,
    VideoPostInfo,
    VideoSourceInfo,
)
from functions.tiktok.retry import Backoff, parse_retry_after

_log = logging.getLogger(__name__)

T = TypeVar("T")

AUTHORIZE_PATH = "/v2/auth/authorize/"
# An endpoint path, not a secret (ruff S105 / bandit B105 guess from the name).
TOKEN_PATH = "/v2/oauth/token/"  # noqa: S105  # nosec B105
REVOKE_PATH = "/v2/oauth/revoke/"
USER_INFO_PATH = "/v2/user/info/"
CREATOR_INFO_PATH = "/v2/post/publish/creator_info/query/"
VIDEO_INIT_PATH = "/v2/post/publish/video/init/"
INBOX_VIDEO_INIT_PATH = "/v2/post/publish/inbox/video/init/"
CONTENT_INIT_PATH = "/v2/post/publish/content/init/"
STATUS_PATH = "/v2/post/publish/status/fetch/"
CANCEL_PATH = "/v2/post/publish/cancel/"

# user.info.basic covers these; `username` needs user.info.profile, and asking for a field whose scope
# was not granted fails the whole call with 401 scope_not_authorized, so it is added only when granted.
USER_INFO_BASIC_FIELDS = ("open_id", "union_id", "avatar_url", "display_name")
USER_INFO_PROFILE_FIELDS = ("username",)


def user_info_fields(scopes: Sequence[str]) -> tuple[str, ...]:
    """The user-info fields the granted scopes allow."""
    return USER_INFO_BASIC_FIELDS + (USER_INFO_PROFILE_FIELDS if "user.info.profile" in scopes else ())


class TikTokClient:
    def __init__(
        self,
        *,
        client_key: str,
        client_secret: str,
        api_base_url: str = "https://open.tiktokapis.com",
        auth_base_url: str = "https://www.tiktok.com",
        timeout: tuple[float, float] = (3.05, 10),
        session: requests.Session | None = None,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
        backoff: Backoff | None = None,
        rng: random.Random | None = None,
    ) -> None:
        if not client_key or not client_secret:
            raise ValueError("client_key and client_secret are required")
        self._client_key = client_key
        self._client_secret = client_secret
        self._api = api_base_url.rstrip("/")
        self._auth = auth_base_url.rstrip("/")
        self._timeout = timeout
        self._session = session if session is not None else requests.Session()
        self._session.headers.setdefault("User-Agent", USER_AGENT)
        self._clock = clock
        self._sleep = sleep
        self._backoff = backoff or Backoff()
        self._rng = rng or random.SystemRandom()

    def __repr__(self) -> str:
        return f"TikTokClient(client_key={self._client_key!r}, api={self._api!r})"

    # ------------------------------------------------------------------------------------------ OAuth

    def authorize_url(
        self, *, redirect_uri: str, scopes: Sequence[str], state: str, disable_auto_auth: int | None = None
    ) -> str:
        """The Login Kit consent URL: scopes comma-separated, `state` echoed back to the callback."""
        if isinstance(scopes, str):
            raise TypeError("scopes must be a sequence of scope names, not one string")
        cleaned = [s.strip() for s in scopes]
        if not cleaned or any(not s or "," in s or any(c.isspace() for c in s) for s in cleaned):
            raise ValueError("scopes must be non-empty names without commas or spaces")
        if not state:
            raise ValueError("state is required (a single-use CSRF value)")
        if not redirect_uri or "#" in redirect_uri:
            raise ValueError("redirect_uri must be the registered URI, without a fragment")
        params = {
            "client_key": self._client_key,
            "scope": ",".join(dict.fromkeys(cleaned)),
            "redirect_uri": redirect_uri,
            "state": state,
            "response_type": "code",
        }
        if disable_auto_auth is not None:
            params["disable_auto_auth"] = str(int(disable_auto_auth))
        return f"{self._auth}{AUTHORIZE_PATH}?{urlencode(params, quote_via=quote, safe=',')}"

    def exchange_code(self, *, code: str, redirect_uri: str, code_verifier: str | None = None) -> TokenSet:
        """Trade the callback's code for tokens. Never retried once sent: a code works only once."""
        form = {
            "client_key": self._client_key,
            "client_secret": self._client_secret,
            "code": code,
            "grant_type": "authorization_code",
            "redirect_uri": redirect_uri,
        }
        if code_verifier:
            form["code_verifier"] = code_verifier
        body = self._call(
            "exchange_code",
            lambda: self._post_form(TOKEN_PATH, form),
            lambda r: token_body(r, "exchange_code"),
            idempotent=False,
            retry_answers=False,
        )
        return self._token_set(body, "exchange_code")

    def refresh(self, refresh_token: str, *, refresh_expires_at: int | None = None) -> TokenSet:
        """New tokens from a refresh token. TikTok rotates it: store the returned one before any use.

        A timeout after sending raises UnknownOutcomeError: the refresh token sent may now be spent.
        `refresh_expires_at` is kept only if a response ever omitted a new refresh token.
        """
        form = {
            "client_key": self._client_key,
            "client_secret": self._client_secret,
            "grant_type": "refresh_token",
            "refresh_token": refresh_token,
        }
        body = self._call(
            "refresh",
            lambda: self._post_form(TOKEN_PATH, form),
            lambda r: token_body(r, "refresh"),
            idempotent=False,
            retry_answers=True,  # an explicit server_error / temporarily_unavailable answer
        )
        return self._token_set(
            body,
            "refresh",
            fallback_refresh_token=refresh_token,
            fallback_refresh_expires_at=refresh_expires_at,
        )

    def revoke(self, access_token: str) -> None:
        """Revoke the user's access token (the app leaves their authorised apps). Safe to repeat."""
        form = {"client_key": self._client_key, "client_secret": self._client_secret, "token": access_token}
        self._call(
            "revoke",
            lambda: self._post_form(REVOKE_PATH, form),
            revoke_answer,
            idempotent=True,
            retry_answers=True,
        )

    # --------------------------------------------------------------------------------- Display / posting

    def user_info(
        self, access_token: str, *, fields: Sequence[str] = USER_INFO_BASIC_FIELDS
    ) -> dict[str, Any]:
        """The user object of GET /v2/user/info/ with the requested fields (see user_info_fields)."""
        params = {"fields": ",".join(fields)}
        data = self._call(
            "user_info",
            lambda: self._session.get(
                f"{self._api}{USER_INFO_PATH}",
                params=params,
                headers=self._bearer(access_token),
                timeout=self._timeout,
                allow_redirects=False,
            ),
            lambda r: envelope_data(r, "user_info", unknown_on_gateway=False, now=self._clock()),
            idempotent=True,
            retry_answers=True,
        )
        user = data.get("user")
        return dict(user) if isinstance(user, Mapping) else {}

    def creator_info(self, access_token: str) -> CreatorInfo:
        """What this creator may post now. "Can't post now" comes as HTTP 200 with a quota error code."""
        data = self.read("creator_info", CREATOR_INFO_PATH, access_token, None)
        return parsed(CreatorInfo, data, "creator_info")

    def fetch_status(self, access_token: str, publish_id: str) -> PublishStatus:
        data = self.read("fetch_status", STATUS_PATH, access_token, {"publish_id": publish_id})
        return parsed(PublishStatus, data, "fetch_status")

    def cancel(self, access_token: str, publish_id: str) -> None:
        """Best-effort cancel of a PULL_FROM_URL download; repeating it is harmless."""
        self.read("cancel", CANCEL_PATH, access_token, {"publish_id": publish_id})

    def init_video_direct(
        self, access_token: str, post_info: VideoPostInfo, source: VideoSourceInfo
    ) -> InitResult:
        body = {"post_info": post_info.to_api(), "source_info": source.to_api()}
        return self._init("init_video_direct", VIDEO_INIT_PATH, access_token, body, source)

    def init_video_inbox(self, access_token: str, source: VideoSourceInfo) -> InitResult:
        body = {"source_info": source.to_api()}
        return self._init("init_video_inbox", INBOX_VIDEO_INIT_PATH, access_token, body, source)

    def init_photo(
        self,
        access_token: str,
        *,
        mode: PhotoPostMode | str,
        post_info: PhotoPostInfo,
        source: PhotoSourceInfo,
        is_aigc: bool,
    ) -> InitResult:
        post_mode = PhotoPostMode(mode)
        body = {
            "media_type": "PHOTO",
            "post_mode": post_mode.value,
            "post_info": post_info.to_api_for(post_mode),
            "source_info": source.to_api(),
            "is_aigc": bool(is_aigc),  # top level for photos, inside post_info for videos (§2.5)
        }
        return self._init("init_photo", CONTENT_INIT_PATH, access_token, body, None)

    # -------------------------------------------------------------------------------------- internals

    def _bearer(self, access_token: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {access_token}"}

    def _post_json(
        self,
        path: str,
        access_token: str,
        body: Mapping[str, Any] | None,
        params: Mapping[str, str] | None = None,
    ) -> requests.Response:
        payload = json.dumps(body if body is not None else {}, ensure_ascii=False).encode("utf-8")
        return self._session.post(
            f"{self._api}{path}",
            params=dict(params) if params else None,
            data=payload,
            headers={**JSON_HEADERS, **self._bearer(access_token)},
            timeout=self._timeout,
            allow_redirects=False,
        )

    def _post_form(self, path: str, form: Mapping[str, str]) -> requests.Response:
        return self._session.post(
            f"{self._api}{path}",
            data=dict(form),
            headers=FORM_HEADERS,
            timeout=self._timeout,
            allow_redirects=False,
        )

    def read(
        self,
        operation: str,
        path: str,
        access_token: str,
        body: Mapping[str, Any] | None,
        *,
        params: Mapping[str, str] | None = None,
    ) -> dict[str, Any]:
        """`data` of a POST to a v2 endpoint that changes nothing (retried like every read)."""
        return self._call(
            operation,
            lambda: self._post_json(path, access_token, body, params),
            lambda r: envelope_data(r, operation, unknown_on_gateway=False, now=self._clock()),
            idempotent=True,
            retry_answers=True,
        )

    def _init(
        self,
        operation: str,
        path: str,
        access_token: str,
        body: Mapping[str, Any],
        source: VideoSourceInfo | None,
    ) -> InitResult:
        data = self._call(
            operation,
            lambda: self._post_json(path, access_token, body),
            lambda r: envelope_data(r, operation, unknown_on_gateway=True, now=self._clock()),
            idempotent=False,
            retry_answers=False,
        )
        try:
            result = InitResult.model_validate(data)
        except ValidationError:
            # TikTok said "ok" but we cannot read a publish_id: something may exist that we cannot name.
            raise UnknownOutcomeError(operation, "success answer without a publish_id") from None
        if source is not None and source.source is MediaSource.FILE_UPLOAD and not result.upload_url:
            raise UnknownOutcomeError(operation, "FILE_UPLOAD init answered without an upload_url")
        return result

    def _call(
        self,
        operation: str,
        send: Callable[[], requests.Response],
        interpret: Callable[[requests.Response], T],
        *,
        idempotent: bool,
        retry_answers: bool,
    ) -> T:
        """Send with the retry regime of the call; see the module docstring."""
        attempts = self._backoff.max_attempts
        for attempt in range(1, attempts + 1):
            last = attempt == attempts
            try:
                response = send()
            except requests.RequestException as exc:
                unsent = never_sent(exc)
                if not idempotent and not unsent:
                    raise UnknownOutcomeError(operation, describe_failure(exc)) from exc
                if last:
                    raise TikTokRetryableError(
                        "connection_failed" if unsent else "network_error",
                        reason=f"TikTok could not be reached for {operation} ({describe_failure(exc)}).",
                    ) from exc
                self._pause(operation, attempt, None, describe_failure(exc))
                continue
            header_wait = parse_retry_after(response.headers.get("Retry-After"), self._clock())
            try:
                return interpret(response)
            except TikTokError as err:
                if not retry_answers or last or not worth_retrying(err):
                    raise
                if header_wait is not None and header_wait > self._backoff.max_retry_after:
                    raise  # err.retry_after tells the caller how long to wait outside this Lambda
                self._pause(operation, attempt, header_wait, err.code)
        raise AssertionError("unreachable: the last attempt returns or raises")

    def _pause(self, operation: str, attempt: int, header_wait: float | None, why: str) -> None:
        wait = header_wait if header_wait is not None else self._backoff.delay(attempt - 1, self._rng)
        _log.warning(
            "retrying TikTok call",
            extra={"operation": operation, "attempt": attempt, "wait_seconds": round(wait, 3), "cause": why},
        )
        self._sleep(wait)

    def _token_set(
        self,
        body: Mapping[str, Any],
        operation: str,
        *,
        fallback_refresh_token: str | None = None,
        fallback_refresh_expires_at: int | None = None,
    ) -> TokenSet:
        try:
            return TokenSet.from_token_response(
                body,
                now=self._clock(),
                fallback_refresh_token=fallback_refresh_token,
                fallback_refresh_expires_at=fallback_refresh_expires_at,
            )
        except TokenResponseError as exc:
            raise UnknownOutcomeError(operation, str(exc)) from None
