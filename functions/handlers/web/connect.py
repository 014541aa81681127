"""HTTP for the connect flow: each result of functions.accounts.connect answered with a redirect to TikTok
(setting the state cookie) or a page (clearing it)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aws_lambda_powertools.event_handler import Response

from functions.accounts.connect import STATE_TTL_SECONDS
from functions.handlers.web.state_cookie import state_cookie
from functions.pages import headers, render

if TYPE_CHECKING:
    from functions.accounts.connect import Connected, ConnectStart, NotConnected

STATUS_OF_CAUSE = {"refused": 400, "tiktok": 502, "name_taken": 409}


def to_tiktok(start: ConnectStart, *, secure: bool) -> Response[str]:
    """To TikTok's consent page, with the cookie that binds the sign-in to this browser."""
    return Response(
        status_code=302,
        headers={**headers(), "Location": start.authorize_url},
        body="",
        cookies=[state_cookie(start.cookie_value, STATE_TTL_SECONDS, secure=secure)],
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
    cookies = [state_cookie("", 0, secure=secure)] if cleared else []
    return Response(status_code=status, headers=headers(), body=body, cookies=cookies)
