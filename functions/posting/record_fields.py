"""Typed reads of a post record's parts: each wrong or missing field fails the post with
`post_record_invalid` naming it by its path (`prepared.video.size`, `media.keys[0]`), never a KeyError
deep in a step."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from functions.posting.errors import PostRejectedError


class RecordFields:
    """Typed reads of one mapping of the record, each error naming the field by its path."""

    def __init__(self, value: object, path: str) -> None:
        if not isinstance(value, Mapping):
            raise record_invalid(path, "an object", value)
        self.data: Mapping[str, Any] = value
        self.path = path

    def _get(self, name: str, kinds: tuple[type, ...], what: str, *, optional: bool = False) -> Any:
        value = self.data.get(name)
        if value is None and optional:
            return None
        # bool is an int to Python; never a number here, and a number is never a flag.
        if not isinstance(value, kinds) or (isinstance(value, bool) and bool not in kinds):
            raise record_invalid(f"{self.path}.{name}", what, value)
        return value

    def text(self, name: str, *, optional: bool = False) -> Any:
        return self._get(name, (str,), "a string", optional=optional)

    def number(self, name: str) -> int:
        return int(self._get(name, (int, float), "a number"))

    def flag(self, name: str) -> bool:
        """False when absent: a post prepared before the flag was recorded has TikTok's default."""
        return bool(self._get(name, (bool,), "true or false", optional=True))

    def mapping(self, name: str) -> dict[str, Any] | None:
        return dict(self._get(name, (dict,), "an object", optional=True) or {}) or None


def record_invalid(path: str, what: str, got: object) -> PostRejectedError:
    shown = "nothing" if got is None else f"{type(got).__name__} {got!r}"[:80]
    return PostRejectedError("post_record_invalid", f"the post record's {path} must be {what}, not {shown}")
