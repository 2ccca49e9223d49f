"""Property-based: whatever a caller passes, production mode never raises and never mixes
up valid and invalid events."""

from __future__ import annotations

import math
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import cs_sdk
from cs_sdk.testing import capture

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=50),
    st.integers(65_530, 65_540).map(lambda n: "a" * n),  # around the string size limit
    st.binary(max_size=10),
    st.builds(object),
)
values = st.recursive(
    scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.dictionaries(st.text(max_size=10), children, max_size=4),
        st.tuples(children, children),
    ),
    max_leaves=30,
)
names = st.one_of(st.text(max_size=300), st.integers(), st.none(), st.just("ok_name"))
properties = st.one_of(
    st.none(),
    st.dictionaries(st.one_of(st.text(max_size=20), st.integers()), values, max_size=8),
    st.lists(st.integers(), max_size=3),
)


def is_valid_value(value: Any, depth: int = 1) -> bool:
    if value is None or isinstance(value, bool):
        return True
    if isinstance(value, int):
        return -(2**63) <= value < 2**63
    if isinstance(value, float):
        return math.isfinite(value)
    if isinstance(value, str):
        return len(value) <= 65_536
    if isinstance(value, (list, tuple)):
        return depth < 8 and all(is_valid_value(item, depth + 1) for item in value)
    if isinstance(value, dict):
        return depth < 8 and is_valid_mapping(value, depth + 1)
    return False


def is_valid_mapping(value: dict[Any, Any], depth: int = 1) -> bool:
    return all(
        isinstance(key, str) and 0 < len(key) <= 256 and is_valid_value(item, depth)
        for key, item in value.items()
    )


def is_valid(name: Any, props: Any) -> bool:
    name_ok = isinstance(name, str) and 0 < len(name) <= 256
    props_ok = props is None or (isinstance(props, dict) and is_valid_mapping(props))
    return name_ok and props_ok


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(calls=st.lists(st.tuples(names, properties), min_size=1, max_size=6))
def test_no_exception_escapes_and_every_valid_event_arrives(calls: list[tuple[Any, Any]]) -> None:
    with capture() as events:
        results = [cs_sdk.milestone(name, properties=props) for name, props in calls]
        stats = cs_sdk.stats()
    expected_valid = [is_valid(name, props) for name, props in calls]
    assert [result is not None for result in results] == expected_valid
    assert len(events) == sum(expected_valid)
    assert stats["dropped"]["invalid"] == len(calls) - sum(expected_valid)
    assert [event.event_id for event in events] == [r for r in results if r is not None]


@settings(max_examples=200, deadline=None)
@given(
    kind=st.one_of(st.sampled_from(["nps", "csat", "ces", "rating", "thumbs", "text"]), st.text()),
    score=st.one_of(st.none(), st.integers(-5, 15), st.floats(), st.booleans(), st.text()),
    comment=st.one_of(st.none(), st.text(max_size=100), st.integers()),
    user_id=st.one_of(st.none(), st.text(max_size=5), st.integers()),
)
def test_feedback_never_raises_in_production_mode(
    kind: Any, score: Any, comment: Any, user_id: Any
) -> None:
    with capture() as events:
        result = cs_sdk.feedback(kind, score=score, comment=comment, user_id=user_id)
    assert (result is None) == (len(events) == 0)
    if events:
        assert events[0].attributes["cs.feedback.kind"] == kind
