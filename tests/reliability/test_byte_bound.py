"""The queue's byte bound (``max_queue_bytes``) against what queued events really hold, issue
15: never less (tracemalloc, for every bench shape and for values built fresh for each event,
on every Python the CI runs), and at the client's defaults room for ``max_queue_size`` events
of every typical shape, so that a 100,000-event burst is bounded by the count, not lost to the
estimate. Nothing here is timed."""

from __future__ import annotations

import gc
import threading
import tracemalloc
from collections.abc import Callable
from typing import Any

import pytest
from _books import unbalanced

import cs_sdk
from bench._event_shapes import SHAPES, shape_calls
from bench._held_worker import pipeline_heap, worker_held
from bench._shapes import report_event_class
from cs_sdk.collector import LocalCollector

EVENTS = 2_000


def queued_with_the_worker_held(
    make_record: Callable[[cs_sdk.Client], Callable[[int], object]],
) -> tuple[int, int, cs_sdk.Client, dict[str, Any]]:
    """(bytes held, bytes counted by the queue) for EVENTS events recorded while the worker
    waits inside ``before_send``, so that they all stay queued; the client (closed) and its
    stats() with the events still queued."""
    with worker_held(make_record, hold=60) as (client, record):
        events = client._pipeline._events  # type: ignore[attr-defined]
        counted0 = events.waiting()[1]
        gc.collect()
        tracemalloc.start()
        try:
            for i in range(1, EVENTS + 1):
                record(i)
            held = pipeline_heap(tracemalloc.take_snapshot())
        finally:
            tracemalloc.stop()
        counted = events.waiting()[1] - counted0
        stats = client.stats()
    assert stats["queued"] == EVENTS and stats["dropped_total"] == 0
    assert unbalanced(stats) is None, unbalanced(stats)
    return held, counted, client, stats


def fresh_values(client: cs_sdk.Client) -> Callable[[int], object]:
    """Events whose every value is built for the event alone (strings of every width, ints
    past the small-int cache, floats, lists, a nested dict with a tuple): the most a queued
    event of these kinds can hold, which the estimate must still cover."""

    def record(i: int) -> object:
        return client.milestone(
            "fresh_values",
            user_id=f"user-{i:06d}",
            properties={
                "title": f"report {i}",
                "owner": f"owner-{i}@example.com",
                "latin": f"résumé n°{i}",
                "wide": f"€{i} 🙂",
                "big": 2**62 + i,
                "ratio": i / 7,
                "tags": [f"tag-{i}", f"tag-{i + 1}"],
                "filters": {"region": f"r-{i}", "days": 1_000 + i, "ids": (i + 10**6, i + 10**7)},
            },
        )

    return record


def fresh_typed(client: cs_sdk.Client) -> Callable[[int], object]:
    event_class = report_event_class()

    def record(i: int) -> object:
        event = event_class(
            plan=f"plan-{i}",
            report_type=f"type-{i}",
            source=f"src-{i}",
            pages=1_000 + i,
            rows=2**40 + i,
            duration_ms=i / 3,
            score=i / 11,
            first_time=i % 2 == 0,
        )
        return client.track(event, user_id=f"user-{i:06d}")

    return record


def fresh_comments(client: cs_sdk.Client) -> Callable[[int], object]:
    """Feedback whose comment is built for each answer in a wide script (CPython stores such
    a string 2 or 4 bytes per character): counted by its width, not its length."""

    def record(i: int) -> object:
        comment = f"{i}: " + ("Экспорт медленный 🙂 " if i % 2 else "エクスポートが遅い ") * 8
        return client.feedback("nps", score=i % 11, comment=comment, user_id=f"user-{i:06d}")

    return record


def bench_shape(shape: str) -> Callable[[cs_sdk.Client], Callable[[int], object]]:
    return lambda client: shape_calls(client, [shape])[shape]


@pytest.mark.parametrize("shape", list(SHAPES))
def test_the_byte_bound_counts_at_least_what_queued_events_hold(shape: str) -> None:
    held, counted, _, _ = queued_with_the_worker_held(bench_shape(shape))
    assert held <= counted, (held / EVENTS, counted / EVENTS)


@pytest.mark.parametrize("make_record", [fresh_values, fresh_typed, fresh_comments])
def test_the_byte_bound_covers_values_built_for_each_event(
    make_record: Callable[[cs_sdk.Client], Callable[[int], object]],
) -> None:
    held, counted, _, _ = queued_with_the_worker_held(make_record)
    assert held <= counted, (held / EVENTS, counted / EVENTS)


@pytest.mark.parametrize("shape", list(SHAPES))
def test_the_default_bytes_bound_admits_the_default_count_of_every_typical_shape(
    shape: str,
) -> None:
    # What the defaults promise: max_queue_size events (a 100,000-event burst) wait without
    # a loss to the byte bound. The estimate is the queue's own, for events a real client
    # built at its defaults.
    _, counted, client, _ = queued_with_the_worker_held(bench_shape(shape))
    per_event = counted / EVENTS
    assert client.config.max_queue_bytes // per_event >= client.config.max_queue_size, per_event


@pytest.mark.parametrize("shape", ["list", "nested", "typed"])
def test_a_burst_of_the_default_count_fits_the_default_bytes_and_is_all_delivered(
    shape: str,
) -> None:
    # The burst of issue 15, at the defaults, against the real collector: its byte bound is
    # scaled with its count (both a tenth of the defaults) so that the burst is 10,000 events;
    # the worker must not take events out early to make room (nothing is lost even if it
    # takes none: it is held in before_send until the burst is queued).
    at_defaults = cs_sdk.Client(environ={}, endpoint="http://127.0.0.1:9")
    at_defaults.shutdown(timeout=1)
    count = at_defaults.config.max_queue_size // 10
    nbytes = at_defaults.config.max_queue_bytes // 10
    gate = threading.Event()

    def hold_until_queued(record: Any) -> Any:
        gate.wait(60)
        return record

    with LocalCollector() as collector:
        client = cs_sdk.Client(
            environ={},
            endpoint=collector.endpoint,
            max_queue_size=count,
            max_queue_bytes=nbytes,
            before_send=hold_until_queued,
            schedule_delay=0.05,
        )
        record = shape_calls(client, [shape])[shape]
        try:
            ids = [record(i) for i in range(count)]
            queued = client.stats()
        finally:
            gate.set()
        assert client.flush(timeout=120) is True
        client.shutdown(timeout=10)
        stats = client.stats()
        received = {record.event_id for record in collector.records}
    assert unbalanced(queued) is None, unbalanced(queued)
    assert queued["dropped_total"] == 0
    assert None not in ids and set(ids) <= received
    assert unbalanced(stats) is None, unbalanced(stats)
    assert stats["sent"] == count and stats["dropped_total"] == 0
