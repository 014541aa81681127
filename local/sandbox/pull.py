"""PULL_FROM_URL (docs/reference/tiktok-api.md §4): ownership of the URL, then the download itself.

The sandbox fetches with one plain GET, follows no redirect (any 3xx fails the post, as at TikTok),
and gives up after `pull_timeout` sandbox seconds of downloading (wall time scaled by `time_scale`; a jump
of the sandbox clock does not count, since no byte moves during it, and a test that jumps hours while a
large file streams in would otherwise fail a pull TikTok completes). Local media servers speak plain HTTP,
so http:// URLs are accepted when a verified prefix or domain covers them (TikTok itself fetches HTTPS
only).
"""

from __future__ import annotations

import hashlib
import time
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import requests

from local.sandbox import lifecycle
from local.sandbox.media_probe import MAX_PHOTO_BYTES
from local.sandbox.state import FAILED, MediaFile, Post

if TYPE_CHECKING:
    from local.sandbox.app import SandboxApp

BLOCK = 1024 * 1024
MAX_VIDEO_BYTES = 4 * 1024**3


def is_verified(url: str, verified: list[str]) -> bool:
    """A URL prefix (`https://host/path/`) covers URLs that start with exactly it; a bare domain
    (`static.example.com`) covers that host and all its subdomains, on any path (§4.1)."""
    try:
        parts = urlsplit(url)
        host = (parts.hostname or "").lower()
    except ValueError:
        return False
    if parts.scheme not in ("http", "https") or not host:
        return False
    for entry in verified:
        if "://" in entry:
            if url.startswith(entry):
                return True
        else:
            domain = entry.lower()
            if host == domain or host.endswith("." + domain):
                return True
    return False


def start(app: SandboxApp, post: Post) -> None:
    app.submit_pull(lambda: _pull_all(app, post))


def _pull_all(app: SandboxApp, post: Post) -> None:
    limit = MAX_VIDEO_BYTES if post.media_type == "VIDEO" else MAX_PHOTO_BYTES
    reason = "video_pull_failed" if post.media_type == "VIDEO" else "photo_pull_failed"
    deadline = time.monotonic() + app.config.pull_timeout / app.config.time_scale
    with requests.Session() as session:
        session.trust_env = False  # never through a proxy from the environment
        for item in post.files:
            outcome = _pull_one(app, session, post, item, limit=limit, deadline=deadline)
            if outcome == "stopped":
                return
            if outcome:
                with app.state.lock:
                    item.error = outcome
                    if app.state.posts.get(post.publish_id) is post:
                        lifecycle.fail(app, post, reason)
                return
    lifecycle.media_complete(app, post)


def _pull_one(
    app: SandboxApp, session: requests.Session, post: Post, item: MediaFile, *, limit: int, deadline: float
) -> str:
    """Download one URL into `item`; "" when done, "stopped" if the post ended meanwhile, else why it failed."""
    if item.url is None:
        return "no media URL"
    hasher = hashlib.sha256()
    try:
        with session.get(item.url, stream=True, allow_redirects=False, timeout=(5, 30)) as response:
            if response.status_code != 200:
                return f"HTTP {response.status_code} from the media URL"
            with item.path.open("wb") as out:
                # read1: whatever has arrived, up to a block, so downloaded_bytes moves as bytes come in.
                while block := response.raw.read1(BLOCK):
                    with app.state.lock:
                        if post.status == FAILED or app.state.posts.get(post.publish_id) is not post:
                            return "stopped"
                        if time.monotonic() > deadline:
                            return "the download did not finish within the pull timeout"
                        item.size += len(block)
                        post.downloaded_bytes += len(block)
                    out.write(block)
                    hasher.update(block)
                    if item.size > limit:
                        break  # enough to know it is too large; the media check says so
    except (requests.RequestException, OSError) as exc:
        return f"download failed: {type(exc).__name__}"
    item.sha256 = hasher.hexdigest()
    return ""
