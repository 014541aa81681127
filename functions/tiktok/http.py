"""How the client talks HTTP: its headers, whether a failed request can have reached TikTok, and which
answers are worth asking again (functions/tiktok/client.py)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import requests
from urllib3.exceptions import ConnectTimeoutError, MaxRetryError

from functions.tiktok.error_codes import ErrorKind

if TYPE_CHECKING:
    from functions.tiktok.errors import TikTokError

JSON_HEADERS = {"Content-Type": "application/json; charset=UTF-8"}
FORM_HEADERS = {"Content-Type": "application/x-www-form-urlencoded", "Cache-Control": "no-cache"}
USER_AGENT = "tiktok-publisher/0.1"


def never_sent(exc: BaseException) -> bool:
    """True when requests failed before any byte of the request could reach the server.

    Only a failure to connect qualifies (refused, unresolvable, connect timeout). A reset or timeout on an
    open connection may come after the server read the request, so it does not.
    """
    pending: list[BaseException] = [exc]
    seen: set[int] = set()
    while pending:
        current = pending.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, requests.exceptions.ConnectTimeout | ConnectTimeoutError):
            return True  # urllib3's NewConnectionError and NameResolutionError are ConnectTimeoutErrors
        if isinstance(current, MaxRetryError) and current.reason is not None:
            pending.append(current.reason)
        pending.extend(arg for arg in current.args if isinstance(arg, BaseException))
        for linked in (current.__cause__, current.__context__):
            if linked is not None:
                pending.append(linked)
    return False


def describe_failure(exc: BaseException) -> str:
    # The exception's class says enough (timeout, reset); its text may quote the URL, which carries no
    # secret here but is noise in a post's failure reason.
    if isinstance(exc, requests.exceptions.ReadTimeout):
        return "read timeout"
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return "connect timeout"
    if isinstance(exc, requests.exceptions.ConnectionError):
        return "connection error"
    return type(exc).__name__


def json_or_none(response: requests.Response) -> object:
    try:
        return response.json()
    except ValueError:
        return None


def is_2xx(status: int) -> bool:
    return 200 <= status < 300


def worth_retrying(err: TikTokError) -> bool:
    # A rate-limit answer clears within a minute, so a read may wait for it; posting caps take hours.
    return err.kind is ErrorKind.RETRYABLE or err.code == "rate_limit_exceeded" or err.http_status == 429
