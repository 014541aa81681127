"""Load JSON event fixtures from events/ and adapt them for one test.

`load_event("webhook/post_publish_complete")` reads `events/webhook/post_publish_complete.json`;
keyword overrides replace top-level keys, and `deep` sets nested ones by dotted path.
"""

from __future__ import annotations

import copy
import json
from functools import cache
from pathlib import Path
from typing import Any

EVENTS_DIR = Path(__file__).resolve().parents[2] / "events"


@cache
def _read(name: str) -> dict[str, Any]:
    path = EVENTS_DIR / f"{name}.json"
    if not path.is_file():
        raise FileNotFoundError(f"no event fixture {name!r}: expected {path}")
    data = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(data, dict):
        raise ValueError(f"event fixture {name!r} must hold a JSON object")
    return data


def load_event(name: str, deep: dict[str, Any] | None = None, **overrides: Any) -> dict[str, Any]:
    """A fresh copy of the fixture, with overrides applied (the cached original never changes)."""
    event = copy.deepcopy(_read(name))
    event.update(overrides)
    for dotted, value in (deep or {}).items():
        target = event
        *path, last = dotted.split(".")
        for key in path:
            target = target.setdefault(key, {})
        target[last] = value
    return event


def event_names() -> list[str]:
    """Every fixture under events/, as names for load_event."""
    return sorted(str(p.relative_to(EVENTS_DIR).with_suffix("")) for p in EVENTS_DIR.rglob("*.json"))
