"""Login Kit (docs/reference/tiktok-api.md §1): the consent page, the token endpoint and revoke.

OAuth answers are flat JSON, never the v2 envelope. Refresh tokens rotate strictly (§0): every
refresh returns a new one and the old one stops working; a rotated token inherits the expiry of the
first, so `refresh_expires_in` is the remaining lifetime.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlencode

from local.sandbox import lifecycle
from local.sandbox.authorize_page import SCOPE_TEXT, consent_page, error_page
from local.sandbox.errors import OAuthError, oauth_error_body
from local.sandbox.ids import new_auth_code, new_token
from local.sandbox.state import AccessToken, AuthCode, Grant, RefreshToken
from local.sandbox.wire import Request, Response, json_response

if TYPE_CHECKING:
    from local.sandbox.app import SandboxApp

KNOWN_SCOPES = frozenset(SCOPE_TEXT)
FORM_TYPE = "application/x-www-form-urlencoded"
_HEX64 = re.compile(r"[0-9a-f]{64}")
_VERIFIER = re.compile(r"[A-Za-z0-9\-._~]{43,128}")
# authorization.removed reasons (§6.3).
REASON_DEVELOPER_REVOKED = 5

BEARER = "Bearer"  # the token kind TikTok names


def html(status: int, page: str) -> Response:
    return Response(status, page.encode(), "text/html; charset=UTF-8")


def redirect(location: str) -> Response:
    return Response(302, b"", "text/plain; charset=UTF-8", [("Location", location)])


def _with_query(uri: str, params: dict[str, str]) -> str:
    # Registered redirect URIs are static (no query), so the parameters always start a new query.
    return f"{uri}?{urlencode(params)}"


def redirect_uri_registered(app: SandboxApp, uri: str) -> bool:
    for registered in app.config.redirect_uris:
        if uri == registered:
            return True
        if ":*" in registered:
            # Desktop apps may register a wildcard port (§1.1): http://127.0.0.1:*/callback/
            before, after = registered.split(":*", 1)
            if re.fullmatch(re.escape(before) + r":\d{1,5}" + re.escape(after), uri):
                return True
    return False


@dataclass
class AuthorizeParams:
    client_key: str
    redirect_uri: str
    state: str
    scopes: tuple[str, ...]
    code_challenge: str | None
    code_challenge_method: str | None

    def hidden(self) -> dict[str, str]:
        fields = {
            "client_key": self.client_key,
            "redirect_uri": self.redirect_uri,
            "state": self.state,
            "scope": ",".join(self.scopes),
            "response_type": "code",
            # Tells the POST that the scope boxes were shown, so "none ticked" means none.
            "scope_choice": "explicit",
        }
        if self.code_challenge is not None:
            fields["code_challenge"] = self.code_challenge
            fields["code_challenge_method"] = self.code_challenge_method or ""
        return fields


def _single(params: dict[str, list[str]], name: str) -> str | None:
    values = params.get(name)
    return values[-1] if values else None


def _check_authorize(app: SandboxApp, params: dict[str, list[str]]) -> AuthorizeParams | Response:
    """Validate the authorize parameters. Problems with the client or redirect URI show an error page
    (redirecting would hand the answer to an unverified site); the rest redirect with `error`."""
    client_key = _single(params, "client_key") or ""
    if client_key != app.config.client_key:
        return html(400, error_page("client_key is missing or unknown."))
    redirect_uri = _single(params, "redirect_uri") or ""
    if not redirect_uri_registered(app, redirect_uri):
        return html(400, error_page("redirect_uri is missing or does not match a registered redirect URI."))
    state = _single(params, "state") or ""

    def fail(error: str, description: str) -> Response:
        answer = {"error": error, "error_description": description}
        if state:
            answer["state"] = state
        return redirect(_with_query(redirect_uri, answer))

    if _single(params, "response_type") != "code":
        return fail("unsupported_response_type", "response_type must be code.")
    raw_scope = _single(params, "scope") or ""
    # Scopes are comma separated (§1.1); a space-separated list is one unknown scope.
    scopes = tuple(dict.fromkeys(s.strip() for s in raw_scope.split(",") if s.strip()))
    if not scopes or any(s not in KNOWN_SCOPES for s in scopes):
        return fail("invalid_scope", "scope is missing or names an unknown scope.")
    challenge = _single(params, "code_challenge")
    method = _single(params, "code_challenge_method")
    # TikTok's PKCE challenge is the hex SHA-256 of the verifier, S256 only (§1.2).
    pkce_sent = challenge is not None or method is not None
    if pkce_sent and (method != "S256" or challenge is None or not _HEX64.fullmatch(challenge)):
        return fail("invalid_request", "Code verifier or code challenge is invalid.")
    return AuthorizeParams(client_key, redirect_uri, state, scopes, challenge, method)


def authorize_get(app: SandboxApp, req: Request) -> Response:
    checked = _check_authorize(app, req.query)
    if isinstance(checked, Response):
        return checked
    with app.state.lock:
        creators = list(app.state.creators.values())
    page = consent_page(
        client_key=checked.client_key, hidden=checked.hidden(), scopes=checked.scopes, creators=creators
    )
    return html(200, page)


def authorize_post(app: SandboxApp, req: Request) -> Response:  # noqa: PLR0911 - one answer per outcome
    if req.media_type() != FORM_TYPE:
        return html(400, error_page("The consent form must be posted as application/x-www-form-urlencoded."))
    try:
        form = parse_qs(req.body.decode("utf-8"), keep_blank_values=True)
    except (UnicodeDecodeError, ValueError):
        return html(400, error_page("The consent form could not be read."))
    checked = _check_authorize(app, form)
    if isinstance(checked, Response):
        return checked
    base = {"state": checked.state} if checked.state else {}
    decision = _single(form, "decision")
    if decision == "deny":
        answer = {"error": "access_denied", "error_description": "The user denied the request.", **base}
        return redirect(_with_query(checked.redirect_uri, answer))
    if decision != "allow":
        return html(400, error_page("decision must be allow or deny."))
    username = _single(form, "creator") or ""
    with app.state.lock:
        creator = app.state.creators.get(username)
    if creator is None:
        return html(400, error_page(f"There is no sandbox creator named {username!r}."))
    # Users may approve only some of the requested scopes (§1.5).
    if _single(form, "scope_choice") == "explicit" or "granted" in form:
        ticked = set(form.get("granted", []))
        granted = tuple(s for s in checked.scopes if s in ticked)
    else:
        granted = checked.scopes
    if not granted:
        answer = {"error": "access_denied", "error_description": "No scope was granted.", **base}
        return redirect(_with_query(checked.redirect_uri, answer))
    code = new_auth_code()
    with app.state.lock:
        app.state.codes[code] = AuthCode(
            code=code,
            client_key=checked.client_key,
            open_id=creator.open_id,
            scopes=granted,
            redirect_uri=checked.redirect_uri,
            expires_at=app.clock.now() + app.config.auth_code_ttl,
            code_challenge=checked.code_challenge,
        )
    answer = {"code": code, "scopes": ",".join(granted), **base}
    return redirect(_with_query(checked.redirect_uri, answer))


def _read_form(req: Request) -> dict[str, str]:
    if req.media_type() != FORM_TYPE:
        raise OAuthError("invalid_request", "Content-Type must be application/x-www-form-urlencoded.")
    try:
        parsed = parse_qs(req.body.decode("utf-8"), keep_blank_values=True)
    except (UnicodeDecodeError, ValueError):
        raise OAuthError("invalid_request", "The request body could not be parsed.") from None
    repeated = sorted(name for name, values in parsed.items() if len(values) > 1)
    if repeated:
        raise OAuthError("invalid_request", f"Parameter repeated: {', '.join(repeated)}.")
    return {name: values[0] for name, values in parsed.items()}


def _check_client(app: SandboxApp, form: dict[str, str]) -> None:
    key, secret = form.get("client_key"), form.get("client_secret")
    if not key or not secret:
        raise OAuthError("invalid_request", "client_key and client_secret are required.")
    key_ok = hmac.compare_digest(key.encode(), app.config.client_key.encode())
    secret_ok = hmac.compare_digest(secret.encode(), app.config.client_secret.encode())
    if not (key_ok and secret_ok):
        raise OAuthError("invalid_client", "Client key or secret is invalid.", status=401)


def issue_tokens(app: SandboxApp, grant: Grant, now: float) -> dict[str, Any]:
    """A new access + refresh token pair for `grant`; the caller holds the state lock."""
    access = AccessToken(
        new_token("act."), grant.grant_id, grant.open_id, grant.scopes, now + app.config.access_token_ttl
    )
    refresh = RefreshToken(new_token("rft."), grant.grant_id, grant.open_id, grant.refresh_expires_at)
    app.state.access_tokens[access.token] = access
    app.state.refresh_tokens[refresh.token] = refresh
    return {
        "access_token": access.token,
        "expires_in": app.config.access_token_ttl,
        "open_id": grant.open_id,
        "refresh_token": refresh.token,
        "refresh_expires_in": max(0, int(grant.refresh_expires_at - now)),
        "scope": ",".join(grant.scopes),
        "token_type": BEARER,
    }


def new_grant(app: SandboxApp, open_id: str, scopes: tuple[str, ...], now: float) -> Grant:
    grant = Grant(secrets.token_hex(8), open_id, scopes, now + app.config.refresh_token_ttl)
    app.state.grants[grant.grant_id] = grant
    return grant


def token(app: SandboxApp, req: Request) -> Response:
    try:
        form = _read_form(req)
        _check_client(app, form)
        grant_type = form.get("grant_type")
        if not grant_type:
            raise OAuthError("invalid_request", "grant_type is required.")
        if grant_type == "authorization_code":
            answer = _exchange_code(app, form)
        elif grant_type == "refresh_token":
            answer = _refresh(app, form)
        else:
            raise OAuthError("unsupported_grant_type", f"grant_type {grant_type!r} is not supported.")
    except OAuthError as err:
        return json_response(err.status, oauth_error_body(err))
    return json_response(200, answer, [("Cache-Control", "no-store")])


def _exchange_code(app: SandboxApp, form: dict[str, str]) -> dict[str, Any]:
    code, redirect_uri = form.get("code"), form.get("redirect_uri")
    if not code:
        raise OAuthError("invalid_request", "code is required.")
    if not redirect_uri:
        raise OAuthError("invalid_request", "redirect_uri is required.")
    now = app.clock.now()
    with app.state.lock:
        record = app.state.codes.get(code)
        if (
            record is None
            or record.used
            or record.expires_at <= now
            or record.client_key != form["client_key"]
        ):
            raise OAuthError("invalid_grant", "Authorization code is expired, used or invalid.")
        if record.redirect_uri != redirect_uri:
            raise OAuthError("invalid_grant", "redirect_uri does not match the one used to get the code.")
        if record.code_challenge is not None:
            verifier = form.get("code_verifier", "")
            digest = hashlib.sha256(verifier.encode()).hexdigest()
            if not _VERIFIER.fullmatch(verifier) or not hmac.compare_digest(digest, record.code_challenge):
                raise OAuthError("invalid_request", "Code verifier or code challenge is invalid.")
        record.used = True
        grant = new_grant(app, record.open_id, record.scopes, now)
        return issue_tokens(app, grant, now)


def _refresh(app: SandboxApp, form: dict[str, str]) -> dict[str, Any]:
    presented = form.get("refresh_token")
    if not presented:
        raise OAuthError("invalid_request", "refresh_token is required.")
    now = app.clock.now()
    with app.state.lock:
        record = app.state.refresh_tokens.get(presented)
        grant = app.state.grants.get(record.grant_id) if record else None
        if record is None or grant is None or grant.revoked or record.rotated or record.expires_at <= now:
            raise OAuthError("invalid_grant", "Refresh token is invalid or expired.")
        record.rotated = True
        return issue_tokens(app, grant, now)


def revoke(app: SandboxApp, req: Request) -> Response:
    try:
        form = _read_form(req)
        _check_client(app, form)
        presented = form.get("token")
        if not presented:
            raise OAuthError("invalid_request", "token is required.")
    except OAuthError as err:
        return json_response(err.status, oauth_error_body(err))
    with app.state.lock:
        record = app.state.access_tokens.get(presented)
        grant = app.state.grants.get(record.grant_id) if record else None
        live = grant is not None and not grant.revoked
    # RFC 7009: revoking an unknown or already revoked token is not an error, so a retried revoke
    # after a lost answer succeeds.
    if record is not None and live:
        lifecycle.remove_authorization(app, record.open_id, REASON_DEVELOPER_REVOKED)
    return json_response(200, {})
