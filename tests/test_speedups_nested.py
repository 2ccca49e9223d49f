"""The C accelerator on the shapes applications really send: nested property values (lists,
tuples, dicts, in any mix), outcomes, feedback and typed events.

As in test_speedups.py, the C client and the pure-Python client run the same random calls;
what they return, raise, queue, count and put on the wire (OTLP protobuf, both writers, and
JSON) must be the same. Invalid values included: the C path hands them to Python, so strict
mode raises the same error and production mode drops and counts the same.
"""

from __future__ import annotations

import datetime as dt
import decimal
import enum
import math
import uuid
from collections.abc import Iterator, Mapping
from typing import Any

from _accelerator import needs_accelerator
from _differential import Pair, comparable, nothing, outcome, race_with_meddler, wire
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from opentelemetry.sdk.trace import TracerProvider
from pydantic import BaseModel

import cs_sdk

pytestmark = needs_accelerator


class Color(str, enum.Enum):
    RED = "red"


class Level(enum.IntEnum):
    HIGH = 3


class FrozenMapping(Mapping[str, Any]):
    def __init__(self, data: dict[str, Any]) -> None:
        self._data = data

    def __getitem__(self, key: str) -> Any:
        return self._data[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)


class Tags(list):  # type: ignore[type-arg]
    """A list subclass: sent as a list, by the Python validator."""


leaves = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**63), 2**63 - 1),
    st.sampled_from([2**63, -(2**63) - 1, 10**30]),  # beyond int64: invalid
    st.floats(),  # NaN and infinities: invalid
    st.text(max_size=5),
    st.sampled_from(["", "\ud800", "é", "日本語", " ", "x" * 65_536, "x" * 65_537]),
    st.sampled_from([b"", b"\x00\xff", b"x" * 65_537, bytearray(b"ab"), memoryview(b"m")]),
    st.sampled_from(
        [
            Color.RED,
            Level.HIGH,
            dt.date(2026, 1, 2),
            dt.datetime(2026, 1, 2, 3, 4, tzinfo=dt.timezone.utc),
            decimal.Decimal("12.50"),
            uuid.UUID(int=7),
            {3, 1, 2},
            {1, "a"},  # cannot be ordered: the key is dropped
            frozenset({"b"}),
        ]
    ),
    st.builds(object),  # cannot be converted: the key is dropped
)
keys = st.one_of(
    st.sampled_from(["plan", "n", "tags", "filters"]),
    st.text(max_size=3),
    st.sampled_from(["k" * 256, "k" * 257, 7, Color.RED]),
)


def containers(children: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.one_of(
        st.lists(children, max_size=3),
        st.lists(children, max_size=3).map(tuple),
        st.lists(children, max_size=2).map(Tags),
        st.dictionaries(keys, children, max_size=3),
        st.dictionaries(st.sampled_from(["a", "b"]), children, max_size=2).map(FrozenMapping),
    )


def nest(value: Any, levels: int) -> Any:
    """`value` inside `levels` containers, alternating lists and dicts."""
    for level in range(levels):
        value = [value] if level % 2 else {"d": value}
    return value


nested = st.recursive(leaves, containers, max_leaves=8)
deep = st.tuples(st.one_of(st.integers(), st.text(max_size=2)), st.integers(0, 10)).map(
    lambda pair: nest(*pair)
)
values = st.one_of(nested, deep, st.just(["a", "b"]), st.just({"plan": "pro", "n": 3}))
properties = st.one_of(
    st.none(),
    st.dictionaries(keys, values, max_size=4),
    st.dictionaries(st.sampled_from(["tags", "filters", "plan"]), values, max_size=3),
    st.just({f"k{i}": [i] for i in range(257)}),  # too many keys
)
# Each argument is valid about half the time, so that whole calls often are (and take the
# C path), and invalid in every way the rest of the time.
ids = st.one_of(
    st.none(), st.just("u1"), st.sampled_from(["", 7, uuid.UUID(int=1), "x" * 257, Color.RED])
)
timestamps = st.one_of(
    st.none(),
    st.floats(0, 2e10),
    st.sampled_from(
        [
            0,
            1_700_000_000,
            1_700_000_000.5,
            -1,
            -0.0,
            math.nan,
            math.inf,
            18_446_744_073,
            18_446_744_074,
            18_446_744_073.709,
            18_446_744_073.709553,
            2**70,
            True,
            "1700000000",
            dt.datetime(2026, 1, 2, tzinfo=dt.timezone.utc),
            dt.datetime(2026, 1, 2),
        ]
    ),
)


def same(pair: Pair, call: Any, scope: dict[str, Any] | None, in_span: bool) -> None:
    """Run `call` on both clients; assert they did the same in every way users can see."""
    tracer = TracerProvider().get_tracer("test")
    with (
        cs_sdk.identify(**scope) if scope else nothing(),
        tracer.start_as_current_span("request") if in_span else nothing(),
    ):
        results = [outcome(lambda c=client: call(c)) for client in (pair.fast, pair.slow)]
    assert results[0] == results[1]
    fast_queue, slow_queue = (p.events for p in pair.pipelines)
    assert [comparable(q) for q in fast_queue] == [comparable(q) for q in slow_queue]
    assert [wire(q) for q in fast_queue] == [wire(q) for q in slow_queue]
    fast, slow = pair.fast.stats(), pair.slow.stats()
    for key in ("recorded", "dropped", "refused", "properties_dropped", "warnings"):
        assert fast[key] == slow[key], key  # type: ignore[literal-required]


scopes = st.one_of(st.none(), st.just({"user_id": "u9", "account_id": "acme"}))
SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(
    kind=st.sampled_from(["milestone", "outcome", "feedback"]),
    props=properties,
    user_id=ids,
    timestamp=timestamps,
    scope=scopes,
    strict=st.booleans(),
    in_span=st.booleans(),
)
def test_nested_properties_are_queued_and_encoded_as_python_does(
    kind: str,
    props: Any,
    user_id: Any,
    timestamp: Any,
    scope: dict[str, Any] | None,
    strict: bool,
    in_span: bool,
) -> None:
    pair = Pair(strict=strict)
    common = {"user_id": user_id, "properties": props, "timestamp": timestamp}
    calls = {
        "milestone": lambda c: c.milestone("report_created", **common),
        "outcome": lambda c: c.outcome("renewal", value=12, unit="usd", **common),
        "feedback": lambda c: c.feedback("nps", score=9, comment="ok", **common),
    }
    try:
        same(pair, calls[kind], scope, in_span)
    finally:
        pair.close()


numbers = st.one_of(
    st.none(),
    st.integers(0, 10),
    st.one_of(
        st.integers(-20, 20),
        st.sampled_from([2**63, 10**400, True, "3", 1.5, math.nan, math.inf, -0.0]),
        st.floats(),
    ),
)
words = st.one_of(
    st.none(), st.just("usd"), st.sampled_from(["", "u" * 256, "u" * 257, 3, Color.RED])
)
comments = st.one_of(
    st.none(),
    st.text(max_size=6),
    st.sampled_from([" ", "\u3000\n", "x" * 65_537, "é" * 65_536, Color.RED, 5, "\ud800"]),
)


@SETTINGS
@given(
    name=st.one_of(st.just("renewal"), st.sampled_from(["expansion.won", "", "Bad", 7])),
    value=numbers,
    unit=words,
    kind=st.one_of(
        st.sampled_from(["nps", "csat", "ces", "rating", "thumbs", "text"]),
        st.sampled_from(["NPS", "", 3, Color.RED]),
    ),
    score=numbers,
    comment=comments,
    area=words,
    prompt_id=st.one_of(st.none(), st.none(), st.just("p1")),
    props=st.one_of(st.none(), st.just({"tags": ("a", "b")})),
    user_id=ids,
    timestamp=timestamps,
    scope=scopes,
    strict=st.booleans(),
    extra=st.one_of(st.none(), st.none(), st.just({"colour": "red"})),
)
def test_outcomes_and_feedback_behave_as_python_does(
    name: Any,
    value: Any,
    unit: Any,
    kind: Any,
    score: Any,
    comment: Any,
    area: Any,
    prompt_id: Any,
    props: Any,
    user_id: Any,
    timestamp: Any,
    scope: dict[str, Any] | None,
    strict: bool,
    extra: dict[str, Any] | None,
) -> None:
    pair = Pair(strict=strict)
    more = extra or {}  # an unknown keyword: the same TypeError
    try:
        same(
            pair,
            lambda c: c.outcome(
                name, value=value, unit=unit, user_id=user_id, properties=props,
                timestamp=timestamp, **more,
            ),
            scope,
            False,
        )  # fmt: skip
        same(
            pair,
            lambda c: c.feedback(
                kind, score=score, comment=comment, area=area, prompt_id=prompt_id,
                user_id=user_id, properties=props, timestamp=timestamp, **more,
            ),
            scope,
            False,
        )  # fmt: skip
    finally:
        pair.close()


class Address(BaseModel):
    city: str


class Signup(cs_sdk.Event, name="test.speedups.signup", version="1.0.0"):
    plan: str
    seats: int
    tags: list[str]
    limits: dict[str, int]
    counts: dict[int, int]
    pair: tuple[int, str]
    address: Address | None
    note: str | None


class Abstract(cs_sdk.Event):
    plan: str


signups = st.builds(
    Signup,
    plan=st.text(max_size=4),
    seats=st.integers(-(2**63), 2**63 - 1),
    tags=st.lists(st.text(max_size=3), max_size=3),
    limits=st.dictionaries(st.text(max_size=2), st.integers(), max_size=2),
    counts=st.dictionaries(st.integers(), st.integers(), max_size=2),
    pair=st.tuples(st.integers(), st.text(max_size=2)),
    address=st.one_of(st.none(), st.builds(Address, city=st.text(max_size=3))),
    note=st.one_of(st.none(), st.text(max_size=3)),
)


@SETTINGS
@given(
    event=st.one_of(
        signups,
        st.just(Abstract(plan="p")),  # not declared: invalid
        st.sampled_from([None, "signup", {"plan": "p"}]),
    ),
    user_id=ids,
    session_id=ids,
    timestamp=timestamps,
    scope=scopes,
    strict=st.booleans(),
    in_span=st.booleans(),
)
def test_typed_events_are_tracked_as_python_tracks_them(
    event: Any,
    user_id: Any,
    session_id: Any,
    timestamp: Any,
    scope: dict[str, Any] | None,
    strict: bool,
    in_span: bool,
) -> None:
    pair = Pair(strict=strict)
    try:
        same(
            pair,
            lambda c: c.track(event, user_id=user_id, session_id=session_id, timestamp=timestamp),
            scope,
            in_span,
        )
    finally:
        pair.close()


def test_the_new_fast_paths_do_not_leak_memory() -> None:
    """Each accelerated call, taken and handed over, 20,000 times: a leak of one object per
    call would grow memory by far more than the bound."""
    import gc
    import tracemalloc

    pair = Pair()
    client = pair.fast
    pipeline = pair.pipelines[0]
    pipeline.submit = lambda queued: True  # type: ignore[method-assign]
    client._swap_pipeline(pipeline)  # type: ignore[arg-type]
    event = Signup(
        plan="p", seats=1, tags=["a"], limits={"x": 1}, counts={1: 2}, pair=(1, "a"),
        address=Address(city="c"), note=None,
    )  # fmt: skip
    calls = [
        lambda: client.milestone("m", properties={"tags": ["a", "b"], "f": {"n": (1, 2.5)}}),
        lambda: client.milestone("m", properties={"bad": [math.nan]}),  # handed over
        lambda: client.milestone("m", timestamp=1_700_000_000.5),
        lambda: client.outcome("renewal", value=3, unit="usd", properties={"t": ["x"]}),
        lambda: client.feedback("nps", score=9, comment="ok", area="reports"),
        lambda: client.feedback("nps", score=99),  # handed over
        lambda: client.track(event, user_id="u1"),
        lambda: client.track(Abstract(plan="p")),  # handed over
    ]
    try:
        with cs_sdk.identify(user_id="u1"):
            for call in calls:
                call()
            gc.collect()
            tracemalloc.start()
            before = tracemalloc.get_traced_memory()[0]
            for _ in range(2_500):
                for call in calls:
                    call()
            gc.collect()
            grown = tracemalloc.get_traced_memory()[0] - before
            tracemalloc.stop()
    finally:
        pair.close()
    assert grown < 64 * 1024  # one object leaked per call would be >= 640 KB


def test_concurrent_recording_of_every_shape_while_the_client_changes_under_it() -> None:
    """Threads record nested properties, outcomes, feedback and typed events through the C
    path while another swaps the pipeline, opts a user out and in, and collects garbage:
    nothing crashes, and every call is accounted for."""
    pair = Pair()
    client = pair.fast
    calls_per_thread = 4_000
    event = Signup(
        plan="p", seats=1, tags=["a"], limits={}, counts={}, pair=(1, "a"), address=None,
        note=None,
    )  # fmt: skip

    def record(index: int) -> object:
        user = f"u{index % 7}"
        shape = index % 4
        if shape == 0:
            return client.milestone("m", user_id=user, properties={"t": [index, "x"]})
        if shape == 1:
            return client.outcome("o", value=index, user_id=user, properties={"d": {"i": 1}})
        if shape == 2:
            return client.feedback("nps", score=index % 11, comment="c", user_id=user)
        return client.track(event, user_id=user)

    accepted = race_with_meddler(client, record, calls_per_thread)
    stats = client.stats()
    pair.close()
    assert len(accepted) == 3
    assert stats["recorded"] == sum(accepted)
    assert stats["recorded"] + stats["dropped"]["opted_out"] == 3 * calls_per_thread
    assert set(stats["debug"]["fallbacks"]) <= {"opted_out"}
