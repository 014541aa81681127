"""The demo's video after publishing: it is posted public, so TikTok names it (publicaly_available_post_id)
and the after-publish function reads its share_url at once. The first snapshot of its numbers is due an
hour after publishing (EventBridge Scheduler, run by the local runtime on the demo's virtual clock): the
demo moves that clock past the hour, waits for both and says them (docs/after-publishing.md)."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

import requests

from functions.settings import Settings

if TYPE_CHECKING:
    from local.embedded import EmbeddedSystem
    from local.progress import Progress

PRIVACY = "PUBLIC_TO_EVERYONE"


def link_and_first_snapshot(
    system: EmbeddedSystem, progress: Progress, post_id: str, timeout: float = 30.0
) -> bool:
    """Wait for the post's share_url and first snapshot and say them; False (with why) when they never come."""
    first = min(Settings.from_env_dict(system.env).snapshot_ages)
    progress.say(f"video: moving the clock {first // 60} minutes ahead, to its first snapshot")
    system.clock.advance(first + 1)
    deadline = time.monotonic() + timeout
    view: dict[str, Any] = {}
    while time.monotonic() < deadline:
        view = requests.get(f"{system.api_url}/posts/{post_id}/metrics", timeout=30).json()
        if view.get("share_url") and view.get("latest"):
            latest = view["latest"]
            counts = ", ".join(
                f"{latest.get(name, 0)} {word}"
                for name, word in (
                    ("view_count", "views"),
                    ("like_count", "likes"),
                    ("comment_count", "comments"),
                    ("share_count", "shares"),
                )
            )
            progress.say(f"video: public at {view['share_url']}")
            progress.say(f"video: first snapshot, {latest.get('age_seconds')} s after publishing: {counts}")
            return True
        time.sleep(0.2)
    link = view.get("public_link") or {}
    progress.say(
        f"video: no public link and first snapshot within {timeout:.0f} s "
        f"(link: {link.get('state', 'none')}: {link.get('why', '')})"
    )
    return False
