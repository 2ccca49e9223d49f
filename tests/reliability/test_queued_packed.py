"""The packed queued form (issue 15): the C path queues an event's time and sequence number as
one stamp, its top-level dict and its attributes (feedback's, outcome's) as their values in
the queued tuple, the keys and the id's prefix in a layout shared by the events of that shape
and the attribute keys in a tuple shared per combination (``cs_sdk/_record.py``,
``QUEUED_BODY``), so that an event waiting in the queue (most of a burst while the collector
is down) holds less memory; the worker rebuilds the id, the time and the dicts. What users
see must not change: the same records and ids as the pure-Python path (the reference), every
event delivered with its properties once the collector is back (spooled and replayed too),
and less memory per queued event than the plain form, measured in the same test. Nothing
here is timed."""

from __future__ import annotations

import gc
import importlib
import os
import subprocess
import sys
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
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
    QUEUED_ATTRIBUTES,
    QUEUED_BODY,
    QUEUED_CONTEXT,
    QUEUED_FIELDS,
    QueuedEvent,
    _unpack,
    _unpacked_value,
    packed_at,
    packed_length,
    record_of,
    unpack,
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
    # No properties: the layout of no keys, the attributes' values in the value slots.
    "feedback, no properties": lambda client: client.feedback("nps", user_id="u1", score=9),
    "feedback, every attribute": lambda client: client.feedback(
        "csat", user_id="u1", score=4, comment="ok", area="export"
    ),
    "text feedback": lambda client: client.feedback("text", comment="Where is the export?"),
    "outcome, no unit": lambda client: client.outcome("renewal", value=3),
    "outcome, nothing": lambda client: client.outcome("renewal"),
    "milestone, no properties": lambda client: client.milestone("m", user_id="u1"),
}
LOW = 2**64 - 1
TESTS = Path(__file__).resolve().parents[1]
ROOT = TESTS.parent


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
    assert len(slow) == QUEUED_FIELDS and type(slow[QUEUED_BODY]) is not tuple  # plain
    assert plain(fast)[2:] == slow[2:]
    prefix = f"{pair.fast._id_high:016x}"
    stamp, record = fast[0], record_of(fast)
    assert type(stamp) is int and record.event_id == f"{prefix}{stamp & LOW:016x}"
    assert record.time_unix_nano == stamp >> 64 and abs(record.time_unix_nano - slow[1]) < 10**9
    layout, keys = fast[QUEUED_BODY], fast[QUEUED_ATTRIBUTES]
    assert fast[QUEUED_CONTEXT] == slow[7:12] and fast[6] == slow[6] and fast[12] == slow[12]
    properties, attributes = slow[4] or {}, slow[5] or {}
    assert keys == (tuple(attributes) or None)  # in the order the Python path builds them
    assert layout == (prefix, *properties)
    assert len(fast) == packed_length(len(properties) + len(attributes))
    values = tuple(fast[packed_at(i)] for i in range(len(properties) + len(attributes)))
    # A property's dict is packed as well: a tuple of its shared layout and its values.
    assert tuple(map(_unpacked_value, values)) == (*properties.values(), *attributes.values())
    for value, reference in zip(values, properties.values(), strict=False):
        if type(reference) is dict:
            assert type(value) is tuple and value[0] == (..., *reference)
            assert value[1:] == tuple(reference.values())
    left = [at for at in (1, 8, 9, 10, 11) if at not in map(packed_at, range(len(values)))]
    assert all(fast[at] is None for at in left)
    assert record.attributes == slow[5]
    if slow[4] is None:
        assert record.body is None
        return
    # Rebuilt as the Python path queues it: every field, the keys in the same order.
    body = record_of(fast).body
    assert isinstance(body, dict) and list(body.items()) == list(slow[4].items())
    assert [type(v) for v in body.values()] == [type(v) for v in slow[4].values()]


def test_events_of_one_shape_share_one_layout(pair: Pair) -> None:
    # The keys are held once per shape (the layout), not once per event: the same tuple for
    # every event with the same keys in the same order, even keys built afresh for each
    # call (a parsed JSON body's); another order or another key set is another layout.
    for i in range(50):
        pair.fast.milestone("m", properties={"plan": "pro", "rows": i})
        pair.fast.milestone("m", properties={"".join(["pl", "an"]): "x", "rows": -i})
        pair.fast.milestone("m", properties={"rows": i, "plan": "pro"})
        pair.fast.feedback("nps", score=i % 11)
    events = pair.pipelines[0].events
    layouts = {id(queued[QUEUED_BODY]) for queued in events[0::4] + events[1::4]}
    assert len(layouts) == 1
    assert len({id(queued[QUEUED_BODY]) for queued in events[2::4]}) == 1
    assert len({id(queued[QUEUED_BODY]) for queued in events[3::4]}) == 1
    assert events[2][QUEUED_BODY][1:] == ("rows", "plan")
    bodies = [record_of(queued).body for queued in events[1::4]]
    assert bodies == [{"plan": "x", "rows": -i} for i in range(50)]


# Seven shapes taking turns, their keys built afresh for every call (so each event looks its
# layout up by the keys' text), in a process of its own per hash seed: a str's hash, and so
# which cache slot a layout's hash falls in, is the seed's. Seven layouts and the first
# event's (made before the client's id prefix is known): eight, which always fit in the
# slots a layout may take from its hash's own (LAYOUT_PROBE), wherever their hashes fall.
TAKING_TURNS = """
from _differential import Pair
from cs_sdk._record import QUEUED_BODY, record_of

shapes = [["plan"], ["plan", "rows"], ["rows", "plan"], ["a", "b", "c"], ["c", "b", "a"],
          ["step"], ["step", "plan"]]
pair = Pair()
for turn in range(20):
    for keys in shapes:
        pair.fast.milestone("m", properties={"".join(list(key)): turn for key in keys})
events = pair.pipelines[0].events
for at, keys in enumerate(shapes):
    mine = events[at :: len(shapes)]
    assert len({id(queued[QUEUED_BODY]) for queued in mine}) == 1, keys
    assert [record_of(queued).body for queued in mine] == [dict.fromkeys(keys, t)
        for t in range(20)]
pair.close()
"""


@pytest.mark.parametrize("seed", [0, 8, 9, 12, 1, 2])
def test_shapes_whose_hashes_meet_still_share_their_layouts(seed: int) -> None:
    # 0, 8, 9 and 12: seeds where two of these layouts' hashes met in the one-entry-per-slot
    # cache this replaced, and a shape's events stopped sharing one layout (15 seeds of 41).
    environment = {**os.environ, "PYTHONHASHSEED": str(seed)}
    environment["PYTHONPATH"] = os.pathsep.join([str(TESTS), str(ROOT)])
    run = subprocess.run(
        [sys.executable, "-c", TAKING_TURNS],
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,  # a hang guard only
    )
    assert run.returncode == 0, run.stderr[-2000:]


def test_keys_that_vary_without_end_fill_the_cache_and_every_body_comes_back(pair: Pair) -> None:
    # Far more shapes than the cache holds (every window full, its slots replaced in turn):
    # each event still rebuilds to its own properties, old shapes coming back included.
    calls = [{f"k{i}": i, "plan": "pro"} for i in range(400)] + [{"k0": 0, "plan": "pro"}] * 3
    for properties in calls:
        pair.fast.milestone("m", properties=properties)
    assert [record_of(queued).body for queued in pair.pipelines[0].events] == calls


def test_record_of_reads_the_plain_and_the_packed_form() -> None:
    fields = ("id", 1, "schema", "name")
    tail = ("u", "a", "s", 0, 0, 0, 99)
    assert record_of((*fields, {"k": 1}, None, *tail)).body == {"k": 1}
    context = ("a", "s", 3, 4, 1)
    keys = ("ab" * 8, *"kjihgf")
    stamp = 1_700_000_000_123_456_789 << 64 | 7
    packed = (stamp, 1, "s", "n", keys, ("attr",), "u", context, [2], 3, 4, 5, 99, 6, "x")
    record = record_of(packed)
    assert record.body == {"k": 1, "j": [2], "i": 3, "h": 4, "g": 5, "f": 6}
    assert record.attributes == {"attr": "x"} and record.event_id == "ab" * 8 + "0" * 15 + "7"
    assert record.time_unix_nano == 1_700_000_000_123_456_789
    assert (record.user_id, record.account_id, record.session_id) == ("u", "a", "s")
    assert (record.trace_id, record.span_id, record.trace_flags) == (3, 4, 1)
    # A time before 1970 (a negative stamp), a sequence number past 64 bits.
    old = -(5 << 64) + 2**64 - 1
    none = (old, None, "s", "n", ("f" * 16,), None, "u", context, *(None,) * 4, 99)
    assert record_of(none).body is None and record_of(none).attributes is None
    assert record_of(none).event_id == "f" * 32 and record_of(none).time_unix_nano == -5
    with pytest.raises(ValueError):
        record_of(packed[:-1])  # a value missing
    with pytest.raises(ValueError):
        record_of((*packed[:5], {"attr": 1}, *packed[6:]))  # attribute keys not a tuple


class Nested(dict[str, Any]):
    """A dict the test packs as the C path packs a property's dict."""


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
    assert record_of(fast).event_id == fast_id and slow[0] == slow_id
    if reference is None:  # no properties: the layout of no keys
        assert rebuilt is None and len(fast) == QUEUED_FIELDS
        return
    assert isinstance(rebuilt, dict)
    assert list(rebuilt.items()) == list(reference.items())
    assert [type(v) for v in rebuilt.values()] == [type(v) for v in reference.values()]
    assert plain(fast)[2:] == slow[2:]


@settings(max_examples=100, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    calls=st.lists(
        st.tuples(st.sampled_from(["milestone", "feedback", "outcome"]), values), max_size=8
    )
)
def test_both_paths_give_every_event_the_same_id(pair: Pair, calls: list[Any]) -> None:
    # The same client prefix and the same calls in the same order: the C path's packed id
    # (a number and the layout's prefix) is the Python path's str, as returned and as the
    # worker reads it.
    pair.slow._id_high, pair.slow._id_base = pair.fast._id_high, pair.fast._id_base
    for pipeline in pair.pipelines:
        pipeline.events.clear()
    returned: list[list[str | None]] = [[], []]
    for kind, value in calls:
        for at, client in enumerate((pair.fast, pair.slow)):
            props = {"v": value, "n": 1}
            if kind == "milestone":
                made = client.milestone("m", properties=props)
            elif kind == "feedback":
                made = client.feedback("nps", score=3, properties=props)
            else:
                made = client.outcome("o", value=1.5, properties=props)
            returned[at].append(made)
    assert returned[0] == returned[1]
    read = [[record_of(queued).event_id for queued in p.events] for p in pair.pipelines]
    assert read[0] == read[1] == [made for made in returned[0] if made is not None]


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
    pairs=st.lists(
        st.tuples(
            st.text(max_size=6),
            st.one_of(values, st.dictionaries(st.text(max_size=5), values, min_size=1).map(Nested)),
        ),
        max_size=20,
        unique_by=lambda p: p[0],
    ),
    attributes=st.lists(
        st.tuples(st.text(max_size=6), values), max_size=4, unique_by=lambda p: p[0]
    ),
    seq=st.integers(0, 2**70),
    time_ns=st.integers(-(2**70), 2**70),
    prefix=st.text(alphabet="0123456789abcdef", min_size=16, max_size=16),
    extra=st.sampled_from([(), ("odd",)]),
)
def test_the_c_unpacking_rebuilds_what_the_python_one_does(
    pairs: list[tuple[str, Any]],
    attributes: list[tuple[str, Any]],
    seq: int,
    time_ns: int,
    prefix: str,
    extra: tuple[str, ...],
) -> None:
    keys = tuple(key for key, _ in pairs)
    # A dict of the event's own properties packed as the C path packs it (check_packed).
    packed = [(k, (((...), *v), *v.values()) if type(v) is Nested else v) for k, v in pairs]
    expected = [(k, dict(v) if type(v) is Nested else v) for k, v in pairs]
    attribute_keys = tuple(key for key, _ in attributes) or None
    stamp = time_ns << 64 | seq & LOW
    slots: list[Any] = [stamp, None, "s", "n", (prefix, *keys), attribute_keys, "u", ("a",)]
    slots += [None] * (packed_length(len(pairs) + len(attributes)) - len(slots))
    for i, (_, value) in enumerate([*packed, *attributes]):
        slots[packed_at(i)] = value
    queued = (*slots, *extra)
    c_unpack = importlib.import_module("cs_sdk._speedups").unpack
    if extra:  # a value without its key: both refuse it
        with pytest.raises(ValueError):
            _unpack(queued)
        with pytest.raises(ValueError):
            c_unpack(queued)
        return
    assert unpack is c_unpack  # the worker's rule uses the C function when built
    c_unpacked, py_unpacked = c_unpack(queued), _unpack(queued)
    (c_id, c_time, rebuilt, c_attrs), (py_id, py_time, reference, py_attrs) = (
        c_unpacked,
        py_unpacked,
    )
    assert c_id == py_id == f"{prefix}{seq % 2**64:016x}"
    assert c_time == py_time == time_ns
    for c_dict, py_dict, items in ((rebuilt, reference, expected), (c_attrs, py_attrs, attributes)):
        if not items:
            assert c_dict is None and py_dict is None
            continue
        assert c_dict is not None and py_dict is not None
        assert list(c_dict.items()) == list(py_dict.items()) == list(dict(items).items())
        assert [type(v) for v in c_dict.values()] == [type(v) for v in py_dict.values()]
    broken_dict = (*queued[:1], ((..., "a", "b"), 1), *queued[2:])  # a value missing
    misses = [(), queued[: QUEUED_FIELDS - 1], ("x", *queued[1:]), (*queued[:4], None)]
    for broken in misses + ([broken_dict] if pairs else []):
        with pytest.raises(ValueError):
            c_unpack(broken)
        with pytest.raises(ValueError):
            _unpack(broken)


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
                if type(obj) is tuple and len(obj) > QUEUED_FIELDS and type(obj[4]) is tuple:
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


@pytest.mark.parametrize("speedups", [True, False], ids=["c", "python"])
def test_packed_events_spooled_during_an_outage_replay_with_the_ids_the_caller_got(
    tmp_path: Path, speedups: bool
) -> None:
    # Collector down, a queue too small for the burst: events go queued (packed, on the C
    # path) to the spool on disk, then replay once the collector is back. Every id the caller
    # got arrives once, with its properties, and is the id rule's (prefix, then sequence).
    events = 2_000
    with LocalCollector() as collector:
        client = cs_sdk.Client(
            environ={},
            endpoint=collector.endpoint,
            schedule_delay=0.05,
            max_queue_size=1_000,
            max_export_batch_size=200,
            spool_dir=str(tmp_path / "spool"),
            speedups=speedups,
        )
        assert client._accelerated is speedups
        collector.down()
        sent: dict[str | None, dict[str, Any]] = {}
        for i in range(events):
            properties = {"plan": "pro", "rows": i, "tags": ["a", str(i)]}
            if i % 3 == 0:
                made = client.feedback("nps", score=i % 11, user_id="u1", properties=properties)
            else:
                made = client.milestone("report_created", user_id="u1", properties=properties)
            sent[made] = properties
            if i % 100 == 99:
                time.sleep(0.005)  # an application's pace: 100 events every 5 ms
        time.sleep(1.0)  # the collector stays down a while: the worker spools what it takes
        collector.up()
        assert client.flush(timeout=120) is True
        client.shutdown(timeout=10)
        stats = client.stats()
        assert collector.wait_for(events, timeout=30)
        arrived = {r.event_id: r for r in collector.records}
        base = client._id_base
    assert unbalanced(stats) is None, unbalanced(stats)
    assert stats["dropped_total"] == 0 and stats["sent"] == events
    assert stats["spooled"] > 0 and stats["replayed"] == stats["spooled"]
    assert None not in sent and set(arrived) == set(sent)
    assert sorted(sent) == sorted(hex(base + seq)[2:] for seq in range(events))  # type: ignore[type-var]
    for event_id, properties in sent.items():
        assert arrived[event_id].body == properties  # type: ignore[index]
