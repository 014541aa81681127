"""Plain values <-> DynamoDB attribute values."""

from __future__ import annotations

import json
import math
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from functions.store.dynamo_values import from_attr, from_item, to_attr, to_item

json_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**30), max_value=10**30)
    # Whole floats read back as ints; beyond 2**53 DynamoDB's decimal numbers cannot say which int.
    | st.floats(allow_nan=False, allow_infinity=False, min_value=-(2.0**53), max_value=2.0**53)
    | st.text(max_size=20)
)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=20,
)


@given(json_values)
def test_json_values_round_trip(value: Any) -> None:
    back = from_attr(to_attr(value))
    assert back == value
    json.dumps(back)  # plain JSON-able: no Decimal on the way out


def test_numbers_come_out_as_int_when_whole_else_float() -> None:
    assert from_attr({"N": "42"}) == 42
    assert isinstance(from_attr({"N": "42"}), int)
    assert isinstance(from_attr({"N": "1E+2"}), int)
    assert from_attr({"N": "29.97"}) == 29.97
    assert isinstance(from_attr({"N": "29.97"}), float)
    assert to_attr(Decimal("1.50")) == {"N": "1.50"}
    assert to_attr(0.1) == {"N": "0.1"}
    assert to_attr(30.0) == {"N": "30"}
    assert to_attr(1e300) == {"N": "1e+300"}


def test_bytes_sets_and_nested_items() -> None:
    assert from_attr(to_attr(b"\x00\xff")) == b"\x00\xff"
    assert from_attr({"SS": ["b", "a"]}) == ["a", "b"]
    assert from_attr({"NS": ["2", "1.5"]}) == [1.5, 2]
    assert from_attr({"BS": [b"x"]}) == [b"x"]
    item = {"a": {"b": [1, "x", None, True]}, "t": (1, 2)}
    assert from_item(to_item(item)) == {"a": {"b": [1, "x", None, True]}, "t": [1, 2]}
    assert to_attr(True) == {"BOOL": True}  # a bool is not stored as the number 1


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf, Decimal("NaN"), Decimal("Infinity")])
def test_non_finite_numbers_are_refused(value: Any) -> None:
    with pytest.raises(TypeError, match="cannot store the number"):
        to_attr(value)


@pytest.mark.parametrize("value", [{1, 2}, object(), 3j])
def test_unsupported_types_are_refused(value: Any) -> None:
    with pytest.raises(TypeError, match="cannot store a value of type"):
        to_attr(value)


def test_attribute_names_must_be_strings() -> None:
    with pytest.raises(TypeError, match="attribute names must be strings"):
        to_item({1: "x"})


def test_unknown_attribute_type_is_an_error() -> None:
    with pytest.raises(TypeError, match="unknown DynamoDB attribute type"):
        from_attr({"Q": "x"})
