"""Events held while the collector is down, and sustained bursts (issue 15), against the real
local collector: held events cost their compressed size, bursts lose nothing within the
bounds, and the books balance at every sample. Nothing here is timed (bench/burst.py and
bench/held_memory.py measure); the only clock is a hang guard."""

from __future__ import annotations

import gc
import threading
import time
import tracemalloc
from typing import Any

import pytest
from _books import unbalanced
from _waiting import wait_until

import cs_sdk
from bench._event_shapes import shape_calls
from cs_sdk.collector import FaultPlan, LocalCollector, Slow

TYPICAL = ["flat", "list", "nested", "typed", "feedback", "outcome"]


def all_delivered_once_back(
    collector: LocalCollector, client: cs_sdk.Client, ids: list[str | None], recorded: int
) -> None:
    """The collector comes back: every held event (``recorded`` in all, ``ids`` among them)
    reaches it at the next flush."""
    collector.up()
    assert client.flush(timeout=120) is True
    client.shutdown(timeout=10)
    received = {record.event_id for record in collector.records}
    assert None not in ids
    assert set(ids) <= received
    assert client.stats()["sent"] == recorded


class Sampler(threading.Thread):
    """Samples stats() until stopped: the books, and what waits in memory against a bound."""

    def __init__(self, client: cs_sdk.Client) -> None:
        super().__init__(daemon=True)
        self.client = client
        self.problem: str | None = None
        self.samples = 0
        self.most_waiting = 0
        self.stopped = threading.Event()

    def run(self) -> None:
        while not self.stopped.is_set() and self.problem is None:
            stats = self.client.stats()
            self.problem = unbalanced(stats)
            self.most_waiting = max(self.most_waiting, stats["queued"] + stats["in_flight"])
            self.samples += 1
            time.sleep(0.001)

    def finish(self) -> None:
        self.stopped.set()
        self.join(timeout=30)
        assert self.problem is None, self.problem
        assert self.samples > 0


def pipeline_heap(snapshot: tracemalloc.Snapshot) -> int:
    """Bytes allocated, less what the state store keeps of each feedback (answers to
    prompts, bounded by its own ``max_feedback``): that is kept whether or not the collector
    answers, and is not an event waiting for it."""
    kept = snapshot.filter_traces(
        [
            tracemalloc.Filter(False, "*/cs_sdk/_responses.py"),
            tracemalloc.Filter(False, "*/cs_sdk/state/*"),
        ]
    )
    return sum(stat.size for stat in kept.statistics("filename"))


@pytest.mark.parametrize("shape", TYPICAL)
def test_events_held_while_the_collector_is_down_cost_their_compressed_size(shape: str) -> None:
    # Enough for the open batch (up to one batch, uncompressed until it is cut) to weigh
    # little: it is the one part of what is held that is not compressed yet.
    events = 12_000
    with LocalCollector() as collector:
        client = cs_sdk.Client(environ={}, endpoint=collector.endpoint, schedule_delay=0.05)
        record = shape_calls(client, [shape])[shape]
        record(0)
        assert client.flush(timeout=30) is True  # warm: the connection, the caches
        collector.down()
        gc.collect()
        tracemalloc.start()
        try:
            ids = [record(i) for i in range(1, events + 1)]
            # The worker takes every event out of the queue and holds it encoded, compressed.
            assert wait_until(lambda: client.stats()["queued"] == 0)
            held = pipeline_heap(tracemalloc.take_snapshot())
        finally:
            tracemalloc.stop()
        stats = client.stats()
        assert unbalanced(stats) is None, unbalanced(stats)
        assert stats["in_flight"] == events and stats["dropped_total"] == 0
        # ~70 bytes each here (bench/held_memory.py); queued as Python objects: 600-1,500.
        assert held / events < 400, held / events
        all_delivered_once_back(collector, client, ids, events + 1)


@pytest.mark.parametrize("shape", TYPICAL)
def test_a_burst_that_fits_the_queue_loses_nothing_and_keeps_the_books(shape: str) -> None:
    # The worker backs off during a burst (cs_sdk/_pipeline/_pacing.py): what it must never
    # do is let that cost an event the queue had room for.
    bound = 10_000
    with LocalCollector() as collector:
        client = cs_sdk.Client(
            environ={}, endpoint=collector.endpoint, max_queue_size=bound, schedule_delay=0.05
        )
        record = shape_calls(client, [shape])[shape]
        for i in range(500):
            record(i)
        assert client.flush(timeout=60) is True
        sampler = Sampler(client)
        sampler.start()
        ids = [record(i) for i in range(500, 500 + bound)]
        assert client.flush(timeout=120) is True
        sampler.finish()
        client.shutdown(timeout=10)
        stats = client.stats()
        received = {record.event_id for record in collector.records}
    assert None not in ids
    assert stats["dropped_total"] == 0 and stats["sent"] == bound + 500
    assert set(ids) <= received
    # What waits in memory stays within the bound (plus the open batch and the one in the
    # sender's hands, which the bound does not count).
    assert sampler.most_waiting <= bound + 2 * client.config.max_export_batch_size


def test_a_burst_past_the_bounds_counts_its_losses_and_delivers_the_rest() -> None:
    with LocalCollector() as collector:
        client = cs_sdk.Client(
            environ={},
            endpoint=collector.endpoint,
            max_queue_size=3_000,
            max_queue_bytes=2_000_000,
            schedule_delay=0.05,
        )
        record: Any = shape_calls(client, ["nested"])["nested"]
        sampler = Sampler(client)
        sampler.start()
        ids = [record(i) for i in range(20_000)]
        assert client.flush(timeout=120) is False  # events were lost: said so
        sampler.finish()
        client.shutdown(timeout=10)
        stats = client.stats()
        received = {record.event_id for record in collector.records}
    accepted = {event_id for event_id in ids if event_id is not None}
    assert stats["dropped"]["queue_full"] == len(ids) - len(accepted) > 0
    assert stats["dropped_total"] == stats["dropped"]["queue_full"]
    assert received == accepted
    assert sampler.most_waiting <= 3_000 + 2 * client.config.max_export_batch_size


def test_a_flush_waits_for_every_batch_held_before_it() -> None:
    plan = FaultPlan()
    plan.add(Slow(0.3), times=3)  # each slow answer is past nothing: retried never, just slow
    with LocalCollector(faults=plan) as collector:
        client = cs_sdk.Client(
            environ={},
            endpoint=collector.endpoint,
            max_export_batch_size=100,
            schedule_delay=0.05,
            timeout=5,
        )
        ids = [client.milestone("m", properties={"i": i}) for i in range(1_000)]
        assert client.flush(timeout=60) is True
        # Returned only once all of them were accepted, though most waited in held batches.
        assert {record.event_id for record in collector.records} >= set(ids)
        client.shutdown(timeout=10)
    assert client.stats()["sent"] == 1_000


def test_shutdown_with_the_collector_down_counts_every_held_event() -> None:
    with LocalCollector() as collector:
        client = cs_sdk.Client(environ={}, endpoint=collector.endpoint, schedule_delay=0.05)
        collector.down()
        for i in range(5_000):
            client.milestone("m", properties={"i": i})
        assert wait_until(lambda: client.stats()["queued"] == 0)  # held, encoded
        started = time.monotonic()
        assert client.shutdown(timeout=1.0) is False
        elapsed = time.monotonic() - started
        stats = client.stats()
    assert elapsed < 10.0  # a hang guard (the budget is 1 s)
    assert unbalanced(stats) is None, unbalanced(stats)
    assert stats["queued"] == stats["in_flight"] == 0
    assert stats["dropped_total"] == 5_000 and stats["sent"] == 0


def test_a_burst_into_a_collector_known_down_is_held_and_delivered_once_it_is_back() -> None:
    # The worker does not back off while the collector refuses (cs_sdk/_pipeline/_pacing.py):
    # it takes events during the burst itself, and the books must balance at every sample
    # while events move from the queue to held batches.
    burst = 20_000
    with LocalCollector() as collector:
        client = cs_sdk.Client(environ={}, endpoint=collector.endpoint, schedule_delay=0.05)
        record: Any = shape_calls(client, ["mix"])["mix"]
        collector.down()
        record(0)
        assert wait_until(lambda: client.stats()["retried"] > 0)  # the refusal is known
        sampler = Sampler(client)
        sampler.start()
        ids = [record(i) for i in range(1, burst + 1)]
        assert wait_until(lambda: client.stats()["queued"] == 0)  # all held, encoded
        sampler.finish()
        stats = client.stats()
        assert stats["in_flight"] == burst + 1 and stats["dropped_total"] == 0
        all_delivered_once_back(collector, client, ids, burst + 1)
