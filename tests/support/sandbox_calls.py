"""What the TikTok sandbox was asked, for tests that count our calls to TikTok."""

from __future__ import annotations

import requests

from local.embedded import EmbeddedSystem


def tiktok_calls(system: EmbeddedSystem) -> dict[str, int]:
    """Calls per path so far, every token's together (OAuth calls count under the client key)."""
    calls = requests.get(f"{system.sandbox_url}/_sandbox/calls", timeout=10).json()
    totals: dict[str, int] = {}
    for paths in calls["by_token"].values():
        for path, count in paths.items():
            totals[path] = totals.get(path, 0) + count
    return totals
