"""The HTML consent page a creator sees at /v2/auth/authorize/, and the error page for requests that
cannot be redirected (unknown client, unregistered redirect URI)."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from local.sandbox.creators import Creator

_STYLE = (
    "body{font-family:sans-serif;max-width:34rem;margin:2rem auto;color:#161823}"
    "fieldset{margin:1rem 0;border:1px solid #ddd;border-radius:6px}"
    "label{display:block;margin:.3rem 0}button{margin-right:.5rem;padding:.4rem 1rem}"
)

SCOPE_TEXT = {
    "user.info.basic": "Read your profile info (avatar, display name)",
    "user.info.profile": "Read your profile details (username, bio, verified status)",
    "user.info.stats": "Read your statistics (likes, followers, following, videos)",
    "video.list": "Read your public videos",
    "video.upload": "Share content to your TikTok account as a draft",
    "video.publish": "Directly post content to your TikTok account",
}


def consent_page(
    *, client_key: str, hidden: dict[str, str], scopes: Sequence[str], creators: Sequence[Creator]
) -> str:
    hidden_inputs = "".join(
        f'<input type="hidden" name="{escape(name)}" value="{escape(value)}">'
        for name, value in hidden.items()
    )
    creator_inputs = "".join(
        f'<label><input type="radio" name="creator" value="{escape(c.username)}" required> '
        f"@{escape(c.username)} ({escape(c.nickname)}, {'private' if c.private else 'public'} account)</label>"
        for c in creators
    )
    scope_inputs = "".join(
        f'<label><input type="checkbox" name="granted" value="{escape(s)}" checked> '
        f"{escape(SCOPE_TEXT.get(s, s))} <code>{escape(s)}</code></label>"
        for s in scopes
    )
    return (
        "<!doctype html><html lang=en><head><meta charset=utf-8>"
        f"<title>Authorize {escape(client_key)} - TikTok sandbox</title><style>{_STYLE}</style></head><body>"
        f"<h1>{escape(client_key)} would like to access your TikTok account</h1>"
        '<form method="post" action="/v2/auth/authorize/">'
        f"{hidden_inputs}"
        f"<fieldset><legend>Log in as</legend>{creator_inputs}</fieldset>"
        f"<fieldset><legend>Allow access to</legend>{scope_inputs}</fieldset>"
        '<button type="submit" name="decision" value="allow">Authorize</button>'
        '<button type="submit" name="decision" value="deny" formnovalidate>Cancel</button>'
        "</form></body></html>"
    )


def error_page(message: str) -> str:
    return (
        "<!doctype html><html lang=en><head><meta charset=utf-8><title>TikTok sandbox: authorization error"
        f"</title><style>{_STYLE}</style></head><body><h1>Something went wrong</h1>"
        f'<p id="error">{escape(message)}</p></body></html>'
    )
