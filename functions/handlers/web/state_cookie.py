"""The cookie that binds a sign-in to the browser that started it: its attributes, and reading it back."""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

from aws_lambda_powertools.shared.cookies import Cookie, SameSite

from functions.accounts.connect import COOKIE_NAME


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


def state_cookie(value: str, max_age: int, *, secure: bool) -> Cookie:
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
