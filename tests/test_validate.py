"""Property validation: the generated per-shape checkers agree with the general validator."""

from __future__ import annotations

import enum
import math
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cs_sdk import InvalidEventError, _shapes
from cs_sdk._validate import (
    FLOAT_BYTES,
    INT_BYTES,
    MAX_STRING_LENGTH,
    STR_BYTES,
    check_properties_sized,
    dict_bytes,
    str_bytes,
)


@pytest.fixture(autouse=True)
def _no_shapes() -> Iterator[None]:
    _shapes.clear()
    yield
    _shapes.clear()


def outcome(properties: dict[Any, Any]) -> tuple[Any, ...]:
    try:
        body, size = check_properties_sized(properties)
    except InvalidEventError as error:
        return ("invalid", error.field, error.rule)
    return ("valid", body, size, [type(v) for v in (body or {}).values()])


def general(properties: dict[Any, Any]) -> tuple[Any, ...]:
    saved = dict(_shapes._checks)
    _shapes._checks.clear()
    try:
        return outcome(properties)
    finally:
        _shapes._checks.update(saved)


scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**63), 2**63 - 1),
    st.sampled_from([2**63, -(2**63) - 1, 2**70]),
    st.floats(),  # NaN and infinities included
    st.text(max_size=8),
    st.sampled_from(["", "x" * MAX_STRING_LENGTH, "x" * (MAX_STRING_LENGTH + 1)]),
)
values = st.one_of(scalars, st.lists(scalars, max_size=2), st.builds(object))
KEYS = ("plan", "pages", "ratio", "first", "note")


@settings(max_examples=300, deadline=None)
@given(
    first=st.tuples(*[scalars] * len(KEYS)),
    second=st.tuples(*[values] * len(KEYS)),
)
def test_a_seen_shape_is_checked_exactly_as_the_general_validator_would(
    first: tuple[Any, ...], second: tuple[Any, ...]
) -> None:
    _shapes.clear()
    for _ in range(2):  # the second sighting of a valid flat shape generates its checker
        outcome(dict(zip(KEYS, first, strict=True)))
    properties = dict(zip(KEYS, second, strict=True))
    assert outcome(properties) == general(properties)


def test_a_shape_seen_twice_gets_a_checker_and_gives_the_same_copy_and_size() -> None:
    properties = {"plan": "team", "pages": 3, "ratio": 0.5, "first": True, "none": None}
    results = [check_properties_sized(properties) for _ in range(3)]
    assert _shapes.shape_check(tuple(properties)) is not None
    # The table of 5 keys, a str, an int and a float (True and None: singletons).
    size = dict_bytes(5) + STR_BYTES + len("team") + INT_BYTES + FLOAT_BYTES
    expected = ({**properties}, size)
    assert results == [expected] * 3
    assert results[2][0] is not properties  # still a copy


def test_strings_too_long_together_fall_back_to_the_per_string_rule() -> None:
    half = "x" * (MAX_STRING_LENGTH // 2 + 1)  # each within the rule, their sum is not
    shape = {"a": "s", "b": "s"}
    check_properties_sized(shape)
    check_properties_sized(shape)
    body, size = check_properties_sized({"a": half, "b": half})
    assert body == {"a": half, "b": half}
    assert size == dict_bytes(2) + 2 * (STR_BYTES + len(half))


def test_a_wider_string_counts_the_bytes_python_stores_it_in() -> None:
    shape = {"comment": "ascii", "n": 1}
    for _ in range(3):  # a checker for the shape: a wide string still goes by its width
        check_properties_sized(shape)
    for text, width in (("café", 1), ("€uro", 2), ("🙂 ok", 4)):
        body, size = check_properties_sized({"comment": text, "n": 1})
        assert body == {"comment": text, "n": 1}
        assert size == dict_bytes(2) + str_bytes(text) + INT_BYTES
        assert str_bytes(text) > STR_BYTES + len(text) * width


def test_non_finite_floats_and_big_ints_are_still_invalid_once_the_shape_is_known() -> None:
    for _ in range(2):
        check_properties_sized({"x": 1.0, "n": 1})
    for bad, field in (
        ({"x": math.nan, "n": 1}, "properties.x"),
        ({"x": 1.0, "n": 2**64}, "properties.n"),
    ):
        with pytest.raises(InvalidEventError) as error:
            check_properties_sized(bad)
        assert error.value.field == field


class Color(str, enum.Enum):
    RED = "red"


def test_str_subclass_keys_and_values_are_sent_as_plain_strings() -> None:
    body, _ = check_properties_sized({Color.RED: Color.RED})
    assert body == {"red": "red"}
    assert [type(k) for k in body] == [str] and [type(v) for v in body.values()] == [str]


def test_shapes_are_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_shapes, "MAX_SHAPES", 3)
    for n in range(10):
        for _ in range(2):
            check_properties_sized({f"key{n}": n})
    assert len(_shapes._checks) == 3
