"""Review links: `<api>/review/<post_id>.<expires_at>.<signature>`.

The signature is HMAC-SHA256, keyed by the deployment's review-link key (Secrets Manager), over a label
naming this one purpose, the post id and the expiry. So a link works for one post, until one time, and
only as a review link; changing any part of it breaks the signature. It carries no TikTok token and no
workflow task token: the task token stays on the post record, and the key never leaves the functions.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from dataclasses import dataclass

PURPOSE = b"tiktok-publisher review link v1"
_TOKEN = re.compile(r"^([A-Za-z0-9_-]{1,64})\.([0-9]{1,12})\.([A-Za-z0-9_-]{43})$")
MIN_KEY_BYTES = 32


class LinkError(ValueError):
    """A review link that cannot be used; `expired` tells an expired link from a wrong one."""

    def __init__(self, message: str, *, expired: bool = False, post_id: str | None = None) -> None:
        super().__init__(message)
        self.expired = expired
        self.post_id = post_id


@dataclass(frozen=True)
class ReviewLink:
    post_id: str
    expires_at: int
    token: str


def _signature(key: bytes, post_id: str, expires_at: int) -> str:
    if len(key) < MIN_KEY_BYTES:
        raise ValueError(f"the review-link key must have at least {MIN_KEY_BYTES} bytes")
    message = b"\n".join((PURPOSE, post_id.encode(), str(expires_at).encode()))
    digest = hmac.new(key, message, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def sign(key: bytes, post_id: str, expires_at: int) -> ReviewLink:
    if not re.fullmatch(r"[A-Za-z0-9_-]{1,64}", post_id):
        raise ValueError("a post id for a review link is 1-64 characters of A-Z, a-z, 0-9, '_' or '-'")
    token = f"{post_id}.{expires_at}.{_signature(key, post_id, expires_at)}"
    return ReviewLink(post_id=post_id, expires_at=expires_at, token=token)


def verify(key: bytes, token: str, now: int) -> ReviewLink:
    """The link's post and expiry; LinkError when it is malformed, forged or expired (checked in that
    order: an expired link is reported as expired only when its signature is genuine)."""
    found = _TOKEN.fullmatch(token or "")
    if found is None:
        raise LinkError("this review link is not valid")
    post_id, expires_text, signature = found.groups()
    expires_at = int(expires_text)
    if not hmac.compare_digest(signature, _signature(key, post_id, expires_at)):
        raise LinkError("this review link is not valid")
    if now >= expires_at:
        raise LinkError("this review link has expired", expired=True, post_id=post_id)
    return ReviewLink(post_id=post_id, expires_at=expires_at, token=token)


def url_of(base_url: str, link: ReviewLink) -> str:
    return f"{base_url.rstrip('/')}/{link.token}"
