"""The C accelerator of ``milestone()`` behaves exactly as the pure-Python method.

Both run side by side on the same random calls; what they return, raise, queue and count
must be the same (event ids and times aside, which are unique by design). CI sets
``CS_SDK_REQUIRE_SPEEDUPS=1`` so that an extension that failed to build fails the run instead
of silently skipping these tests.
"""

from __future__ import annotations

import datetime as dt
import decimal
import enum
import gc
import math
import tracemalloc
import uuid
import weakref
from collections.abc import Iterator, Mapping
from typing import Any

import pytest
from _accelerator import needs_accelerator
from _differential import Pair, comparable, nothing, outcome, plain, race_with_meddler, wire
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from opentelemetry.sdk.trace import TracerProvider

import cs_sdk
from cs_sdk import _accelerated, _shapes
from cs_sdk._record import QUEUED_BODY, QUEUED_CONTEXT, QUEUED_FIELDS, QueuedEvent, record_of

pytestmark = needs_accelerator


def test_the_accelerator_is_built_where_ci_requires_it() -> None:
    assert _accelerated.AVAILABLE


@pytest.fixture
def pair() -> Iterator[Pair]:
    made = Pair()
    yield made
    made.close()


class Color(str, enum.Enum):
    RED = "red"


class Plan(enum.Enum):
    TEAM = "team"
    SEATS = 5


EXAMPLE_UUID = uuid.UUID("12345678-1234-5678-1234-567812345678")
# The values _values.py converts (and a few it cannot), as applications pass them.
converted_values = st.sampled_from(
    [
        dt.datetime(2026, 1, 2, 3, 4, 5, 600_000, tzinfo=dt.timezone.utc),
        dt.datetime(2026, 1, 2, 3, 4, 5),
        dt.date(2026, 1, 2),
        dt.time(3, 4, 5),
        decimal.Decimal("12.50"),
        decimal.Decimal("1E+3"),
        EXAMPLE_UUID,
        Plan.TEAM,
        Plan.SEATS,
        {3, 1, 2},
        frozenset({"b", "a"}),
        {1, "a"},  # cannot be ordered: the key is dropped
        b"\x00\xff",
        bytearray(b"ab"),
        b"x" * 65_537,  # too long: the event is invalid
        object(),  # cannot be converted: the key is dropped
    ]
)


class FrozenMapping(Mapping[str, Any]):
    def __init__(self, data: dict[str, Any]) -> None:
        self._data = data

    def __getitem__(self, key: str) -> Any:
        return self._data[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)


scalar_values = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**63), 2**63 - 1),
    st.sampled_from([2**63, -(2**63) - 1]),
    st.floats(),
    st.text(max_size=6),
    st.sampled_from(["", "x" * 65_536, "x" * 65_537, Color.RED]),
)
property_values = st.one_of(
    scalar_values,
    st.lists(st.one_of(scalar_values, converted_values), max_size=2),
    st.builds(object),
    st.just({"n": 1}),
    converted_values,
    st.dictionaries(st.sampled_from(["a", "b"]), converted_values, max_size=2),
)
keys = st.one_of(
    st.sampled_from(["plan", "pages", "ratio"]),
    st.text(max_size=4),
    st.sampled_from(["k" * 256, "k" * 257, 7, Color.RED]),
)
flat = st.dictionaries(st.sampled_from(["plan", "pages", "ratio", "ok"]), scalar_values, max_size=4)
properties = st.one_of(
    st.none(),
    flat,
    flat.map(FrozenMapping),
    st.dictionaries(keys, property_values, max_size=4),
    st.sampled_from([[1, 2], "not a dict", {f"k{i}": i for i in range(257)}]),
)
names = st.one_of(
    st.sampled_from(["report_created", "", "n" * 256, "n" * 257, 42, None, Color.RED]),
    st.text(max_size=5),
)
ids = st.one_of(
    st.none(),
    st.sampled_from(["u1", "", 7, 7.5, Color.RED, True, EXAMPLE_UUID, b"u1", "x" * 256, "x" * 257]),
    st.text(max_size=3),
)
timestamps = st.one_of(
    st.none(),
    st.just(1_700_000_000.5),
    st.just(dt.datetime(2026, 1, 2, tzinfo=dt.timezone.utc)),
    st.just(1.7e12),
)
scopes = st.one_of(st.none(), st.fixed_dictionaries({"user_id": ids, "session_id": ids}))


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    name=names,
    user_id=ids,
    account_id=ids,
    session_id=ids,
    props=properties,
    timestamp=timestamps,
    scope=scopes,
    opted_out=st.booleans(),
    strict=st.booleans(),
    in_span=st.booleans(),
)
@example(  # in a span, a packed value of 0 where the plain form keeps the trace id (CI, 3.10)
    name="report_created",
    user_id=None,
    account_id=None,
    session_id=None,
    props={"plan": None, "pages": None, "ratio": False},
    timestamp=None,
    scope=None,
    opted_out=False,
    strict=False,
    in_span=True,
)
def test_c_and_python_return_raise_queue_and_count_the_same(
    name: Any,
    user_id: Any,
    account_id: Any,
    session_id: Any,
    props: Any,
    timestamp: Any,
    scope: dict[str, Any] | None,
    opted_out: bool,
    strict: bool,
    in_span: bool,
) -> None:
    _shapes.clear()
    pair = Pair(strict=strict)
    kwargs = {
        "user_id": user_id,
        "account_id": account_id,
        "session_id": session_id,
        "properties": props,
        "timestamp": timestamp,
    }
    tracer = TracerProvider().get_tracer("test")
    try:
        with (
            cs_sdk.identify(**scope) if scope else nothing(),
            tracer.start_as_current_span("request") if in_span else nothing(),
        ):
            results = []
            for client in (pair.fast, pair.slow):
                if opted_out:
                    client.opt_out("u1")
                results.append(outcome(lambda c=client: c.milestone(name, **kwargs)))
        fast_queue, slow_queue = (p.events for p in pair.pipelines)
        assert results[0] == results[1]
        assert [comparable(q) for q in fast_queue] == [comparable(q) for q in slow_queue]
        assert [wire(q) for q in fast_queue] == [wire(q) for q in slow_queue]
        if in_span and fast_queue:  # the span's trace id carried (through the worker's rule)
            assert record_of(fast_queue[0]).trace_id != 0
        fast_stats, slow_stats = pair.fast.stats(), pair.slow.stats()
        assert fast_stats["recorded"] == slow_stats["recorded"]
        assert fast_stats["dropped"] == slow_stats["dropped"]
        assert fast_stats["properties_dropped"] == slow_stats["properties_dropped"]
    finally:
        pair.close()


def test_a_typical_milestone_is_queued_as_the_python_method_queues_it(pair: Pair) -> None:
    props = {"plan": "team", "pages": 3, "ratio": 0.25, "first": True, "note": None}
    with cs_sdk.identify(user_id="u1", account_id="acme", session_id="s9"):
        fast_id = pair.fast.milestone("report_created", properties=props)
        slow_id = pair.slow.milestone("report_created", properties=props)
    fast, slow = (p.events[0] for p in pair.pipelines)
    assert comparable(fast) == comparable(slow)
    assert record_of(fast).event_id == fast_id and slow[0] == slow_id
    # Packed (_record.py): the time and the sequence number in one stamp, the keys in the
    # shared layout with the id's prefix, the context in one slot, the values in slots 1,
    # 8-11 and after the fields; rebuilt by the worker.
    stamp = fast[0]
    assert type(stamp) is int and fast_id == f"{pair.fast._id_high:016x}{stamp % 2**64:016x}"
    assert fast[QUEUED_BODY] == (f"{pair.fast._id_high:016x}", *props)
    assert fast[QUEUED_CONTEXT] == ("acme", "s9", 0, 0, 0)
    assert (fast[1], *fast[8:12], *fast[QUEUED_FIELDS:]) == tuple(props.values())
    assert plain(fast)[4] == props and plain(fast)[4] is not props  # a copy
    assert fast[6] == "u1"
    assert fast[12] == slow[12]  # the estimated bytes
    assert abs((stamp >> 64) - slow[1]) < 10**9 and record_of(fast).time_unix_nano == stamp >> 64


def test_ids_are_unique_and_carry_the_clients_prefix(pair: Pair) -> None:
    made = {pair.fast.milestone("m") for _ in range(1000)}
    assert len(made) == 1000
    assert {event_id[:16] for event_id in made} == {f"{pair.fast._id_high:016x}"}
    pair.fast._reseed_ids()  # as after a fork
    assert pair.fast.milestone("m")[:16] == f"{pair.fast._id_high:016x}"  # type: ignore[index]


def test_a_full_queue_returns_none_and_a_raising_pipeline_counts_an_internal_error(
    pair: Pair,
) -> None:
    for pipeline in pair.pipelines:
        pipeline.accept = lambda queued: False
    assert pair.fast.milestone("m") is None
    for pipeline in pair.pipelines:

        def broken(queued: QueuedEvent) -> bool:
            raise RuntimeError("boom")

        pipeline.accept = broken
    assert pair.fast.milestone("m") is None
    assert pair.slow.milestone("m") is None
    assert pair.fast.stats()["dropped"] == pair.slow.stats()["dropped"]
    assert pair.fast.stats()["dropped"]["internal_error"] == 1


def test_keyboard_interrupt_in_the_pipeline_is_not_swallowed(pair: Pair) -> None:
    def interrupted(queued: QueuedEvent) -> bool:
        raise KeyboardInterrupt

    pair.pipelines[0].accept = interrupted
    with pytest.raises(KeyboardInterrupt):
        pair.fast.milestone("m")


def test_wrong_arguments_raise_the_same_type_error(pair: Pair) -> None:
    for call in (
        lambda c: c.milestone(),
        lambda c: c.milestone("m", "u1"),
        lambda c: c.milestone("m", colour="red"),
    ):
        with pytest.raises(TypeError) as fast:
            call(pair.fast)
        with pytest.raises(TypeError) as slow:
            call(pair.slow)
        assert str(fast.value) == str(slow.value)


def test_capture_and_opt_out_are_seen_by_the_c_path_at_once(pair: Pair) -> None:
    from cs_sdk.testing import capture

    with capture(pair.fast) as events:
        pair.fast.milestone("captured", user_id="u2")
    assert events.names() == ["captured"]
    pair.fast.opt_out("u2")
    assert pair.fast.milestone("m", user_id="u2") is None
    assert pair.fast.stats()["dropped"]["opted_out"] == 1


def test_keywords_in_any_order_from_call_sites_taking_turns(pair: Pair) -> None:
    """Each call site's keyword names are remembered with where they go: two sites naming the
    same keywords in other orders, and names built at run time, land where they belong."""
    for i in range(3):
        pair.fast.milestone("a", user_id=f"u{i}", account_id="acme")
        pair.fast.milestone("b", account_id="acme", user_id=f"u{i}")
        pair.fast.milestone("c", **{"account_" + "id": "acme", "user_" + "id": f"u{i}"})
        pair.fast.outcome("d", unit="usd", value=1.0, user_id=f"u{i}")
        pair.fast.outcome("e", user_id=f"u{i}", value=2.0, unit="eur")
    records = [record_of(queued) for queued in pair.pipelines[0].events]
    assert [(r.name, r.user_id, r.account_id) for r in records if r.name in "abc"] == [
        (name, f"u{i}", "acme") for i in range(3) for name in "abc"
    ]
    assert [(r.name, r.attributes) for r in records if r.name in "de"] == [
        expected
        for _ in range(3)
        for expected in (
            ("d", {"cs.outcome.value": 1.0, "cs.outcome.unit": "usd"}),
            ("e", {"cs.outcome.value": 2.0, "cs.outcome.unit": "eur"}),
        )
    ]


def test_module_level_milestone_uses_the_accelerated_global_client() -> None:
    client = cs_sdk.init(service_name="t", environ={}, endpoint="http://127.0.0.1:9")
    try:
        assert client._accelerated
        assert cs_sdk.milestone("m", properties={"a": 1}) is not None
    finally:
        cs_sdk.shutdown(timeout=0)


def test_speedups_can_be_turned_off_and_subclasses_keep_their_own_method() -> None:
    class Custom(cs_sdk.Client):
        def milestone(self, name: str, **kwargs: Any) -> str | None:
            return "custom"

    off = cs_sdk.Client(environ={"CS_SDK_SPEEDUPS": "false"}, disabled=False)
    custom = Custom(environ={})
    disabled = cs_sdk.Client(environ={}, disabled=True)
    try:
        assert not off._accelerated
        assert not custom._accelerated and custom.milestone("m") == "custom"
        assert not disabled._accelerated and disabled.milestone("m") is None
    finally:
        for client in (off, custom, disabled):
            client.shutdown(0)


def test_a_discarded_client_is_collected_despite_its_accelerated_method() -> None:
    client = Pair().fast
    ref = weakref.ref(client)
    client.shutdown(0)
    del client
    gc.collect()
    assert ref() is None


def test_recording_does_not_leak_memory(pair: Pair) -> None:
    pipeline = pair.pipelines[0]
    pipeline.submit = lambda queued: True  # type: ignore[method-assign]
    pair.fast._swap_pipeline(pipeline)  # type: ignore[arg-type]
    props = {"plan": "team", "pages": 3, "ratio": math.pi, "note": "x" * 100}
    with cs_sdk.identify(user_id="u1"):
        for _ in range(1000):
            pair.fast.milestone("m", properties=props)
        gc.collect()
        tracemalloc.start()
        before = tracemalloc.get_traced_memory()[0]
        for _ in range(20_000):
            pair.fast.milestone("m", properties=props)
            pair.fast.milestone("m", properties={"bad": math.nan})  # the slow path too
        gc.collect()
        grown = tracemalloc.get_traced_memory()[0] - before
        tracemalloc.stop()
    assert grown < 64 * 1024  # a leak of one object per call would be >= 640 KB


def test_the_c_path_reads_opentelemetrys_context_variable_directly() -> None:
    from opentelemetry import context as otel_context

    from cs_sdk._spans import otel_context_var

    var = otel_context_var()
    assert var is not None  # the default runtime context: no Python call per event
    assert var.get() is otel_context.get_current()


def test_speedups_off_keeps_the_protobuf_writer_in_python_too() -> None:
    on = cs_sdk.Client(environ={}, endpoint="http://127.0.0.1:9")
    off = cs_sdk.Client(environ={}, endpoint="http://127.0.0.1:9", speedups=False)
    try:
        assert on._pipeline._encoder._writer._flat is not None  # type: ignore[attr-defined]
        assert off._pipeline._encoder._writer._flat is None  # type: ignore[attr-defined]
    finally:
        on.shutdown(0)
        off.shutdown(0)


def test_concurrent_recording_while_the_client_changes_under_it() -> None:
    """Threads record through the C path while another swaps the pipeline, opts users out
    and in, and collects garbage: nothing crashes, and every call is accounted for."""
    pair = Pair()
    client = pair.fast
    calls_per_thread = 20_000

    def record(index: int) -> object:
        return client.milestone("m", user_id=f"u{index % 7}", properties={"i": index, "s": "x"})

    results = race_with_meddler(client, record, calls_per_thread)
    stats = client.stats()
    assert len(results) == 3
    assert stats["recorded"] == sum(results)
    assert stats["recorded"] + stats["dropped"]["opted_out"] == 3 * calls_per_thread
    pair.close()
