"""HTTP for the connect flow: the cookie that binds a sign-in to its browser, and each result of
functions.accounts.connect answered with a redirect to TikTok or a page."""

from __future__ import annotations

import ipaddress
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.shared.cookies import Cookie, SameSite

from functions.accounts.connect import COOKIE_NAME, STATE_TTL_SECONDS
from functions.pages import headers, render

if TYPE_CHECKING:
    from functions.accounts.connect import Connected, ConnectStart, NotConnected

STATUS_OF_CAUSE = {"refused": 400, "tiktok": 502, "name_taken": 409}


def secure_cookie(redirect_uri: str) -> bool:
    """Whether the state cookie is Secure: always, unless the stack answers over plain http on this machine
    (a local run), where HTTP clients that keep the cookie rules (requests, curl) would drop a Secure
    cookie and the callback could not tell the browser. Only this machine reaches a loopback address."""
    try:
        parts = urlsplit(redirect_uri)
        host = parts.hostname or ""
    except ValueError:
        return True
    if parts.scheme != "http":
        return True
    if host == "localhost":
        return False
    try:
        return not ipaddress.ip_address(host).is_loopback
    except ValueError:
        return True


def _cookie(value: str, max_age: int, *, secure: bool) -> Cookie:
    return Cookie(
        COOKIE_NAME,
        value,
        path="/",
        secure=secure,
        http_only=True,
        max_age=max_age,
        same_site=SameSite.LAX_MODE,
    )


def cookie_from(cookies: list[str]) -> str | None:
    for item in cookies:
        name, _, value = item.strip().partition("=")
        if name == COOKIE_NAME and value:
            return value
    return None


def to_tiktok(start: ConnectStart, *, secure: bool) -> Response[str]:
    """To TikTok's consent page, with the cookie that binds the sign-in to this browser."""
    return Response(
        status_code=302,
        headers={**headers(), "Location": start.authorize_url},
        body="",
        cookies=[_cookie(start.cookie_value, STATE_TTL_SECONDS, secure=secure)],
    )


def connected(result: Connected, *, secure: bool) -> Response[str]:
    account = result.account
    page = render(
        "connect/connected.html",
        display_name=account.display_name,
        username=account.username,
        account_id=account.account_id,
        posting_paused=account.posting_paused,
    )
    return _page(200, page, cleared=True, secure=secure)


def not_connected(result: NotConnected, *, cleared: bool = False, secure: bool = True) -> Response[str]:
    """Why nothing was connected, with a link that starts again for the same alias; `cleared`: the
    callback's answer, which also ends its cookie."""
    page = render("connect/not_connected.html", message=result.message, alias=result.alias)
    return _page(STATUS_OF_CAUSE[result.cause], page, cleared=cleared, secure=secure)


def _page(status: int, body: str, *, cleared: bool, secure: bool) -> Response[str]:
    # Cleared with the attributes it was set with: a browser ignores a Secure Set-Cookie over plain http.
    cookies = [_cookie("", 0, secure=secure)] if cleared else []
    return Response(status_code=status, headers=headers(), body=body, cookies=cookies)
