"""The small HTML pages of the connect flow: self-contained (no third-party assets), escaped, uncached."""

from __future__ import annotations

from html import escape

# No scripts, no external assets; inline styles only. Every page is sent with these headers.
PAGE_HEADERS = {
    "Content-Type": "text/html; charset=utf-8",
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'",
}

_STYLE = (
    "body{font-family:system-ui,sans-serif;max-width:34rem;margin:3rem auto;padding:0 1rem;color:#161823}"
    "h1{font-size:1.4rem}.ok{color:#0a7d32}.bad{color:#b3261e}code{background:#f1f1f2;padding:0 .2rem}"
)


def _page(title: str, body: str) -> str:
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        f"<title>{escape(title)}</title><style>{_STYLE}</style></head><body>{body}</body></html>"
    )


def connected_page(*, display_name: str, username: str, account_id: str, posting_paused: str = "") -> str:
    paused = (
        f"<p><strong>Posting is paused:</strong> TikTok says this account cannot post now "
        f"({escape(posting_paused)}). Posts you send wait until it can; nothing needs connecting again.</p>"
        if posting_paused
        else ""
    )
    return _page(
        "TikTok account connected",
        f'<h1 class="ok">Connected: {escape(display_name)}</h1>'
        f"<p>TikTok account <strong>@{escape(username)}</strong> is connected as "
        f"<code>{escape(account_id)}</code>.</p>{paused}"
        f"<p>Upload videos or manifests under <code>posts/{escape(account_id)}/</code> to post them.</p>",
    )


def error_page(message: str) -> str:
    return _page(
        "TikTok account not connected",
        f'<h1 class="bad">Not connected</h1><p>{escape(message)}</p><p><a href="/connect">Start again</a></p>',
    )
