"""Plain Python values <-> DynamoDB attribute values, for the low-level client.

Callers get plain JSON-able values back: numbers come out as int when whole, else float (DynamoDB
returns every number as a decimal string). floats go in as exact decimal strings of their repr.
Written here rather than borrowed from boto3.dynamodb.types so that importing a store does not import
boto3 (cold start), and so floats are accepted without callers converting to Decimal first.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any

Item = dict[str, Any]
_EXACT_FLOAT_INTS = 2**53


def to_attr(value: Any) -> dict[str, Any]:
    """One attribute value. Raises TypeError for a value DynamoDB cannot hold."""
    if isinstance(value, Mapping):
        return {"M": to_item(value)}
    if isinstance(value, list | tuple):
        return {"L": [to_attr(v) for v in value]}
    if value is None:
        return {"NULL": True}
    if isinstance(value, bool):  # before numbers: bool is an int
        return {"BOOL": value}
    if isinstance(value, int | float | Decimal):
        return {"N": _number_text(value)}
    if isinstance(value, str | bytes | bytearray):
        return {"S": value} if isinstance(value, str) else {"B": bytes(value)}
    raise TypeError(f"DynamoDB cannot store a value of type {type(value).__name__}")


def _number_text(value: int | float | Decimal) -> str:
    if isinstance(value, int):
        return str(value)
    if not (math.isfinite(value) if isinstance(value, float) else value.is_finite()):
        raise TypeError(f"DynamoDB cannot store the number {value!r}")
    if isinstance(value, float):
        # A whole float reads back as an int (DynamoDB keeps no float/int distinction), so write
        # its exact integer; beyond 2**53 that could exceed DynamoDB's 38 significant digits.
        return str(int(value)) if value.is_integer() and abs(value) < _EXACT_FLOAT_INTS else repr(value)
    return str(value)


def to_item(values: Mapping[str, Any]) -> Item:
    """A map of attribute values; keys must be strings."""
    item: Item = {}
    for key, value in values.items():
        if not isinstance(key, str):
            raise TypeError(f"attribute names must be strings, not {type(key).__name__}")
        item[key] = to_attr(value)
    return item


def from_attr(attr: Mapping[str, Any]) -> Any:
    """The plain value of one attribute value."""
    (kind, raw), *_ = attr.items()
    try:
        convert = _FROM_KIND[kind]
    except KeyError:
        raise TypeError(f"unknown DynamoDB attribute type {kind!r}") from None
    return convert(raw)


def from_item(item: Mapping[str, Any]) -> Item:
    return {key: from_attr(attr) for key, attr in item.items()}


def _number(raw: str) -> int | float:
    number = Decimal(raw)
    if number == number.to_integral_value():
        return int(number)
    return float(number)


_FROM_KIND: dict[str, Callable[[Any], Any]] = {
    "S": str,
    "N": _number,
    "BOOL": bool,
    "NULL": lambda _: None,
    "M": from_item,
    "L": lambda raw: [from_attr(v) for v in raw],
    "B": bytes,
    "SS": sorted,
    "NS": lambda raw: sorted(_number(v) for v in raw),
    "BS": lambda raw: [bytes(v) for v in raw],
}
