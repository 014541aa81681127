"""The HTML pages: Jinja2 templates under functions/templates, one style sheet, one script, one policy.

Every page is self-contained: no third-party assets, everything escaped. The style sheet and the review
form's script are inlined, each exactly as its file reads, and the Content-Security-Policy allows them by
their SHA-256 (`default-src 'none'`, no 'unsafe-inline'), so nothing else can run or style the page. The
hashes are computed once, at import, from the files shipped with the code.

Images and video come from exactly the origins a page names (`headers(images=..., media=...)`): the
operator's own media bucket or domain, and the avatar URL TikTok's creator_info returned.
"""

from __future__ import annotations

import base64
import hashlib
import html
from collections.abc import Iterable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markupsafe import Markup

TEMPLATES = Path(__file__).resolve().parent / "templates"
_LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})


def _shipped(name: str) -> str:
    # Bytes as they are, without newline translation: the page carries exactly what is hashed.
    return (TEMPLATES / name).read_bytes().decode("utf-8")


def sha256_source(content: bytes) -> str:
    """The CSP source that allows an inline element whose text is `content`."""
    return "'sha256-" + base64.b64encode(hashlib.sha256(content).digest()).decode() + "'"


STYLE = _shipped("style.css")
SCRIPT = _shipped("review.js")
STYLE_SOURCE = sha256_source(STYLE.encode())
SCRIPT_SOURCE = sha256_source(SCRIPT.encode())

BASE_HEADERS = {
    "Content-Type": "text/html; charset=utf-8",
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "X-Robots-Tag": "noindex, nofollow",
}


def origin_of(url: str) -> str | None:
    """The origin a CSP source may name for this URL: https anywhere, http only on loopback (local runs)."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    host = parts.hostname or ""
    if not host or any(c in parts.netloc for c in " ;,'\"") or parts.username or parts.password:
        return None
    if parts.scheme == "https" or (parts.scheme == "http" and host in _LOOPBACK):
        return f"{parts.scheme}://{parts.netloc}"
    return None


def _sources(urls: Iterable[str]) -> str:
    return " ".join(sorted({o for o in map(origin_of, urls) if o})) or "'none'"


def headers(*, media: Iterable[str] = (), images: Iterable[str] = ()) -> dict[str, str]:
    """A page's response headers: the policy allows our style sheet and script and the origins of
    exactly these media and image URLs."""
    policy = [
        "default-src 'none'",
        f"style-src {STYLE_SOURCE}",
        f"script-src {SCRIPT_SOURCE}",
        f"img-src {_sources(images)}",
        f"media-src {_sources(media)}",
        "form-action 'self'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
    ]
    return {**BASE_HEADERS, "Content-Security-Policy": "; ".join(policy)}


def _escaped(value: Any) -> Any:
    """Every value a template prints, escaped as html.escape does (quotes as &quot; and &#x27;), unless it
    is markup already (a macro's output, the inlined files)."""
    if hasattr(value, "__html__"):
        return value
    escaped = html.escape(str(value))  # what Markup wraps below is escaped text
    return Markup(escaped)  # noqa: S704  # nosec B704


def environment() -> Environment:
    """The templates: autoescaped, and a missing variable is an error, never an empty string. Lambda's
    files never change, so templates are not checked for changes once loaded."""
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=True,
        undefined=StrictUndefined,
        finalize=_escaped,
        trim_blocks=True,
        lstrip_blocks=True,
        auto_reload=False,
    )
    # Our own files, inlined verbatim by the templates (`|safe`): the policy allows exactly these bytes.
    env.globals.update(style=STYLE, script=SCRIPT)
    return env


_ENV = environment()


def render(template: str, **context: Any) -> str:
    return _ENV.get_template(template).render(**context)
