"""The packed queued form (issue 15): the C path queues an event's one top-level dict as key,
value pairs in the queued tuple (``cs_sdk/_record.py``, ``PACKED``), so that an event waiting
in the queue (most of a burst while the collector is down) holds less memory; the worker
rebuilds the dict. What users see must not change: the same records as the pure-Python path
(the reference), every event delivered with its properties once the collector is back, and
less memory per queued event than the plain form, measured in the same test. Nothing here is
timed."""

from __future__ import annotations

import gc
import importlib
import tracemalloc
from collections.abc import Callable
from typing import Any

import pytest
from _accelerator import needs_accelerator
from _books import unbalanced
from _differential import Pair, plain
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import cs_sdk
from bench._event_shapes import shape_calls
from bench._held_worker import pipeline_heap, worker_held
from cs_sdk._record import (
    PACKED,
    QUEUED_FIELDS,
    QueuedEvent,
    _unpack_pairs,
    record_of,
    unpack_pairs,
)
from cs_sdk.collector import LocalCollector

pytestmark = needs_accelerator

PROPERTIES = {"plan": "pro", "rows": 3, "ok": True, "tags": ["a", "b"], "f": {"k": 1.5}}
CALLS: dict[str, Callable[[cs_sdk.Client], object]] = {
    "milestone": lambda client: client.milestone(
        "report_created", user_id="u1", properties=PROPERTIES
    ),
    "feedback": lambda client: client.feedback(
        "nps", user_id="u1", score=9, comment="fine", properties=PROPERTIES
    ),
    "outcome": lambda client: client.outcome(
        "renewal", user_id="u1", value=12.5, unit="usd", properties=PROPERTIES
    ),
    # No properties: nothing to pack, the plain form (feedback's and outcome's attributes
    # stay a dict: built for the event, packing them would cost the caller more).
    "feedback, no properties": lambda client: client.feedback("nps", user_id="u1", score=9),
    "milestone, no properties": lambda client: client.milestone("m", user_id="u1"),
}


@pytest.fixture
def pair() -> Any:
    made = Pair()
    yield made
    made.close()


@pytest.mark.parametrize("call", sorted(CALLS))
def test_the_c_path_packs_the_properties_and_the_worker_rebuilds_them(
    pair: Pair, call: str
) -> None:
    CALLS[call](pair.fast)
    CALLS[call](pair.slow)
    (fast,), (slow,) = (p.events for p in pair.pipelines)
    assert len(slow) == QUEUED_FIELDS and slow[4] is not PACKED  # the reference: plain
    assert plain(fast)[2:] == slow[2:]
    if slow[4] is None:
        assert fast[2:] == slow[2:]  # nothing to pack
        return
    assert fast[4] is PACKED and len(fast) == QUEUED_FIELDS + 2 * len(slow[4])
    packed = dict(zip(fast[QUEUED_FIELDS::2], fast[QUEUED_FIELDS + 1 :: 2], strict=True))
    # Rebuilt as the Python path queues it: every field, the keys in the same order.
    assert list(packed.items()) == list(slow[4].items())
    body = record_of(fast).body
    assert isinstance(body, dict) and list(body.items()) == list(slow[4].items())
    assert [type(v) for v in body.values()] == [type(v) for v in slow[4].values()]


def test_record_of_reads_the_plain_and_the_packed_form() -> None:
    fields = ("id", 1, "schema", "name")
    tail = ("u", "a", "s", 0, 0, 0, 99)
    assert record_of((*fields, {"k": 1}, None, *tail)).body == {"k": 1}
    record = record_of((*fields, PACKED, {"attr": 1}, *tail, "k", 1, "j", [2]))
    assert record.body == {"k": 1, "j": [2]} and record.attributes == {"attr": 1}
    assert record.user_id == "u" and record.trace_flags == 0
    with pytest.raises(ValueError):
        record_of((*fields, PACKED, None, *tail, "odd"))  # a key without its value: a bug


scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**63), 2**63 - 1),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=20),
)
values = st.one_of(
    scalars,
    st.lists(scalars, max_size=4),
    st.dictionaries(st.text(min_size=1, max_size=8), scalars, max_size=4),
)


@settings(max_examples=150, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(properties=st.dictionaries(st.text(min_size=1, max_size=12), values, max_size=12))
def test_random_properties_arrive_at_the_worker_as_the_python_path_queues_them(
    pair: Pair, properties: dict[str, Any]
) -> None:
    for pipeline in pair.pipelines:
        pipeline.events.clear()
    fast_id = pair.fast.milestone("m", properties=properties)
    slow_id = pair.slow.milestone("m", properties=properties)
    assert (fast_id is None) == (slow_id is None)
    if fast_id is None:
        return
    (fast,), (slow,) = (p.events for p in pair.pipelines)
    rebuilt, reference = record_of(fast).body, slow[4]
    if reference is None:  # no properties: nothing to pack
        assert rebuilt is None and len(fast) == QUEUED_FIELDS
        return
    assert isinstance(rebuilt, dict)
    assert list(rebuilt.items()) == list(reference.items())
    assert [type(v) for v in rebuilt.values()] == [type(v) for v in reference.values()]
    assert plain(fast)[2:] == slow[2:]


def queued_heap(shape: str, speedups: bool, events: int = 2_000) -> float:
    """Heap bytes per event recorded while the worker is held (all of them stay queued)."""

    def make(client: cs_sdk.Client) -> Callable[[int], object]:
        return shape_calls(client, [shape])[shape]

    with worker_held(make, hold=60, speedups=speedups) as (client, record):
        for i in range(1, 200):  # warm: shape caches
            record(i)
        gc.collect()
        tracemalloc.start()
        try:
            for i in range(200, 200 + events):
                record(i)
            held = pipeline_heap(tracemalloc.take_snapshot())
        finally:
            tracemalloc.stop()
        stats = client.stats()
    assert stats["dropped_total"] == 0 and stats["queued"] >= events
    return held / events


@pytest.mark.parametrize("shape", ["flat", "list", "nested", "typed"])
def test_a_queued_event_holds_less_packed_than_plain(shape: str) -> None:
    # The same events, queued by the C path (packed) and by the Python path (plain): the
    # pairs cost less than the dict they replace (its object and table), 25-30% of the whole
    # queued event on 3.11 (bench/held_profile.py).
    packed, plain_form = queued_heap(shape, True), queued_heap(shape, False)
    assert packed < 0.85 * plain_form, (packed, plain_form)


def test_events_held_packed_while_the_collector_is_down_all_arrive_intact() -> None:
    events = 3_000
    with LocalCollector() as collector:
        client = cs_sdk.Client(environ={}, endpoint=collector.endpoint, schedule_delay=0.05)
        client.milestone("warm")
        assert client.flush(timeout=30) is True
        collector.down()
        sent: dict[str | None, dict[str, Any]] = {}
        for i in range(events):
            properties = {"plan": "pro", "rows": i, "score": i / 7, "tags": ["a", str(i)]}
            sent[client.milestone("report_created", user_id=f"u{i % 5}", properties=properties)] = (
                properties
            )
        stats = client.stats()
        assert unbalanced(stats) is None, unbalanced(stats)
        assert stats["dropped_total"] == 0
        assert stats["queued"] + stats["in_flight"] == events
        collector.up()
        assert client.flush(timeout=120) is True
        client.shutdown(timeout=10)
        arrived = {r.event_id: r for r in collector.records if r.name == "report_created"}
    assert None not in sent and set(arrived) == set(sent)
    for event_id, properties in sent.items():
        assert arrived[event_id].body == properties
    assert client.stats()["sent"] == events + 1


def test_a_queued_packed_event_is_left_out_of_the_collectors_walks(pair: Pair) -> None:
    pair.fast.milestone("m", properties={"plan": "pro", "tags": ["a", "b"]})
    (fast,) = pair.pipelines[0].events
    queued: QueuedEvent = fast
    assert not gc.is_tracked(queued)


@settings(max_examples=200)
@given(
    pairs=st.lists(st.tuples(st.text(max_size=6), values), max_size=20),
    extra=st.sampled_from([(), ("odd",)]),
)
def test_the_c_unpacking_rebuilds_what_the_python_one_does(
    pairs: list[tuple[str, Any]], extra: tuple[str, ...]
) -> None:
    queued = (*("field",) * QUEUED_FIELDS, *(item for pair in pairs for item in pair), *extra)
    c_unpack = importlib.import_module("cs_sdk._speedups").unpack_pairs
    if extra:  # a key without its value: both refuse it
        with pytest.raises(ValueError):
            _unpack_pairs(queued)
        with pytest.raises(ValueError):
            c_unpack(queued)
        return
    assert unpack_pairs is c_unpack  # the worker's rule uses the C function when built
    rebuilt, reference = c_unpack(queued), _unpack_pairs(queued)
    assert list(rebuilt.items()) == list(reference.items()) == list(dict(pairs).items())
    for short in ((), ("field",) * (QUEUED_FIELDS - 1)):
        with pytest.raises(ValueError):
            c_unpack(short)
        with pytest.raises(ValueError):
            _unpack_pairs(short)


def test_recording_under_constant_collections_with_prying_finalizers_queues_intact_events(
    pair: Pair,
) -> None:
    # The C path builds the queued tuple while it validates (its fields empty until the
    # commit point, and the tuple out of the collector's sight); an allocation there can run
    # the garbage collector, and with it any finalizer, which can look at every object the
    # collector follows. (Without the untrack this did not crash here either: a guard, not
    # a reproduction.)
    seen: list[int] = []

    class Looker:
        def __del__(self) -> None:
            for obj in gc.get_objects():
                # Reading a slot of a half-built event would read an empty one.
                if type(obj) is tuple and len(obj) > QUEUED_FIELDS and obj[4] is PACKED:
                    seen.append(len(obj[QUEUED_FIELDS:]))

    thresholds = gc.get_threshold()
    gc.set_threshold(1)
    try:
        for i in range(200):
            looker = Looker()
            looker.cycle = looker  # type: ignore[attr-defined]
            del looker
            props = {"tags": [f"t{i}", "x"], "f": {"k": [i, i + 1]}, "n": i}
            assert pair.fast.milestone("m", properties=props)
    finally:
        gc.set_threshold(*thresholds)
        gc.collect()
    assert len(pair.pipelines[0].events) == 200
    assert record_of(pair.pipelines[0].events[-1]).body == {
        "tags": ["t199", "x"],
        "f": {"k": [199, 200]},
        "n": 199,
    }
