"""HTTP for the connect flow: the cookie that binds a sign-in to its browser, and each result of
functions.accounts.connect answered with a redirect to TikTok or a page."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.shared.cookies import Cookie, SameSite

from functions.accounts.connect import COOKIE_NAME, STATE_TTL_SECONDS
from functions.pages import headers, render

if TYPE_CHECKING:
    from functions.accounts.connect import Connected, ConnectStart, NotConnected

STATUS_OF_CAUSE = {"refused": 400, "tiktok": 502, "name_taken": 409}


def _cookie(value: str, max_age: int) -> Cookie:
    return Cookie(
        COOKIE_NAME,
        value,
        path="/",
        secure=True,
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


def to_tiktok(start: ConnectStart) -> Response[str]:
    """To TikTok's consent page, with the cookie that binds the sign-in to this browser."""
    return Response(
        status_code=302,
        headers={**headers(), "Location": start.authorize_url},
        body="",
        cookies=[_cookie(start.cookie_value, STATE_TTL_SECONDS)],
    )


def connected(result: Connected) -> Response[str]:
    account = result.account
    page = render(
        "connect/connected.html",
        display_name=account.display_name,
        username=account.username,
        account_id=account.account_id,
        posting_paused=account.posting_paused,
    )
    return _page(200, page, cleared=True)


def not_connected(result: NotConnected, *, cleared: bool = False) -> Response[str]:
    """Why nothing was connected; `cleared`: the callback's answer, which also ends its cookie."""
    page = render("connect/not_connected.html", message=result.message)
    return _page(STATUS_OF_CAUSE[result.cause], page, cleared=cleared)


def _page(status: int, body: str, *, cleared: bool) -> Response[str]:
    cookies = [_cookie("", 0)] if cleared else []
    return Response(status_code=status, headers=headers(), body=body, cookies=cookies)
