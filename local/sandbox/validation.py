"""Reading request bodies field by field; every mistake becomes TikTok's 400 `invalid_params`."""

from __future__ import annotations

import json
from typing import Any

from local.sandbox.errors import invalid_params

INT32 = (-(2**31), 2**31 - 1)
INT64 = (-(2**63), 2**63 - 1)


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def parse_json_object(body: bytes, *, required: bool = True) -> dict[str, Any]:
    """The request body as a JSON object. An empty body is `{}` when the endpoint takes none."""
    if not body.strip():
        if required:
            raise invalid_params("The request body is empty; a JSON object is required.")
        return {}
    try:
        value = json.loads(body.decode("utf-8"), parse_constant=_reject_constant)
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise invalid_params("The request body is not valid JSON.") from None
    if not isinstance(value, dict):
        raise invalid_params("The request body must be a JSON object.")
    return value


def utf16_len(text: str) -> int:
    """Length in UTF-16 code units, the unit TikTok's caption limits count in (§2.3, §2.5)."""
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def obj(parent: dict[str, Any], key: str, *, required: bool) -> dict[str, Any] | None:
    value = parent.get(key)
    if value is None:
        if required:
            raise invalid_params(f"The field {key} is required.")
        return None
    if not isinstance(value, dict):
        raise invalid_params(f"The field {key} must be an object.")
    return value


def string(parent: dict[str, Any], key: str, *, required: bool, where: str = "") -> str | None:
    value = parent.get(key)
    name = f"{where}.{key}" if where else key
    if value is None:
        if required:
            raise invalid_params(f"The field {name} is required.")
        return None
    if not isinstance(value, str):
        raise invalid_params(f"The field {name} must be a string.")
    return value


def boolean(parent: dict[str, Any], key: str, *, where: str = "") -> bool | None:
    value = parent.get(key)
    if value is None:
        return None
    if not isinstance(value, bool):
        raise invalid_params(f"The field {where + '.' if where else ''}{key} must be a boolean.")
    return value


def integer(
    parent: dict[str, Any], key: str, *, required: bool, where: str = "", bounds: tuple[int, int] = INT64
) -> int | None:
    value = parent.get(key)
    name = f"{where}.{key}" if where else key
    if value is None:
        if required:
            raise invalid_params(f"The field {name} is required.")
        return None
    # JSON true/false are not numbers, and 5.0 is not an int64 either.
    if isinstance(value, bool) or not isinstance(value, int):
        raise invalid_params(f"The field {name} must be an integer.")
    if not bounds[0] <= value <= bounds[1]:
        raise invalid_params(f"The field {name} is out of range.")
    return value


def text(parent: dict[str, Any], key: str, *, limit: int, where: str) -> str | None:
    value = string(parent, key, required=False, where=where)
    if value is not None and utf16_len(value) > limit:
        raise invalid_params(f"The field {where}.{key} is longer than {limit} UTF-16 characters.")
    return value
