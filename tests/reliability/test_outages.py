"""Delivery through collector outages and faults, against the real local collector."""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path

import pytest
from _books import assert_balanced

import cs_sdk
from cs_sdk.collector import (
    BlackHole,
    FaultPlan,
    LocalCollector,
    PartialSuccess,
    ResetMidBody,
    Slow,
    Status,
)


def unique_ids(collector: LocalCollector) -> set[str]:
    return {record.event_id for record in collector.records}


@pytest.mark.parametrize("with_spool", [False, True], ids=["memory", "spool"])
def test_20k_events_recorded_during_an_outage_all_arrive(tmp_path: Path, with_spool: bool) -> None:
    with LocalCollector() as collector:
        options: dict[str, object] = {}
        if with_spool:
            options["spool_dir"] = str(tmp_path / "spool")
        client = cs_sdk.Client(
            environ={}, endpoint=collector.endpoint, schedule_delay=0.05, **options
        )  # type: ignore[arg-type]
        collector.down()
        recorded = [client.milestone("during_outage", properties={"i": i}) for i in range(20_000)]
        time.sleep(3.0)  # the collector stays down for several seconds
        collector.up()
        assert client.flush(timeout=60) is True
        client.shutdown(timeout=5)
        stats = client.stats()
        assert collector.wait_for(20_000, timeout=10)
        received = unique_ids(collector)
    assert None not in recorded
    assert received == set(recorded)  # each event id exactly once after de-duplication
    assert_balanced(stats)
    assert stats["sent"] == 20_000
    assert stats["dropped_total"] == stats["spool_pending"] == 0
    if with_spool:
        assert stats["spooled"] > 0
        assert stats["replayed"] == stats["spooled"]


def test_retryable_answers_are_retried_and_honour_retry_after() -> None:
    plan = FaultPlan()
    plan.add(Status(503, retry_after="1"), times=1)
    plan.add(Status(429, retry_after="0"), times=1)
    with LocalCollector(faults=plan) as collector:
        client = cs_sdk.Client(environ={}, endpoint=collector.endpoint, schedule_delay=0.05)
        client.milestone("m")
        started = time.monotonic()
        assert client.flush(timeout=20)
        elapsed = time.monotonic() - started
        client.shutdown()
    assert client.stats()["retried"] == 2
    assert_balanced(client.stats())
    assert elapsed >= 1.0  # Retry-After: 1 was honoured (a lower bound: load cannot break it)
    assert [r.status for r in collector.requests] == [503, 429, 200]


def test_a_slow_collector_past_the_timeout_is_retried() -> None:
    plan = FaultPlan()
    plan.add(Slow(1.0), times=1)
    with LocalCollector(faults=plan) as collector:
        client = cs_sdk.Client(
            environ={}, endpoint=collector.endpoint, schedule_delay=0.05, timeout=0.3
        )
        client.milestone("m")
        assert client.flush(timeout=20)
        client.shutdown()
        assert collector.wait_for(1, timeout=5)
    assert client.stats()["retried"] >= 1
    assert client.stats()["sent"] == 1


def test_a_connection_reset_mid_body_is_retried() -> None:
    plan = FaultPlan()
    plan.add(ResetMidBody(), times=2)
    with LocalCollector(faults=plan) as collector:
        client = cs_sdk.Client(environ={}, endpoint=collector.endpoint, schedule_delay=0.05)
        client.milestone("m")
        assert client.flush(timeout=20)
        client.shutdown()
        assert collector.wait_for(1, timeout=5)
    assert client.stats()["retried"] == 2


def test_a_400_is_dropped_counted_and_logged_with_the_message(
    caplog: pytest.LogCaptureFixture,
) -> None:
    plan = FaultPlan()
    plan.add(Status(400, message="schema violation in record 0"), times=1)
    with (
        caplog.at_level(logging.WARNING, logger="cs_sdk"),
        LocalCollector(faults=plan) as collector,
    ):
        client = cs_sdk.Client(environ={}, endpoint=collector.endpoint, schedule_delay=0.05)
        client.milestone("rejected")
        assert client.flush(timeout=10) is False
        client.milestone("accepted")
        assert client.flush(timeout=10) is True
        client.shutdown()
    stats = client.stats()
    assert stats["dropped"]["rejected_by_collector"] == 1
    assert stats["retried"] == 0
    assert "schema violation in record 0" in caplog.text


def test_partial_success_is_counted() -> None:
    plan = FaultPlan()
    plan.add(PartialSuccess(rejected=2, message="2 records too large"), times=1)
    with LocalCollector(faults=plan) as collector:
        client = cs_sdk.Client(environ={}, endpoint=collector.endpoint, schedule_delay=60)
        for index in range(5):
            client.milestone(f"m{index}")
        assert client.flush(timeout=10) is False
        client.shutdown()
        assert collector.wait_for(3, timeout=5)
    stats = client.stats()
    assert_balanced(stats)
    assert stats["sent"] == 3
    assert stats["dropped"]["rejected_by_collector"] == 2


@pytest.mark.parametrize("with_spool", [False, True], ids=["memory", "spool"])
def test_shutdown_with_a_black_hole_collector_stays_within_budget(
    tmp_path: Path, with_spool: bool
) -> None:
    plan = FaultPlan()
    plan.always(BlackHole())
    with LocalCollector(faults=plan) as collector:
        options: dict[str, object] = {"spool_dir": str(tmp_path)} if with_spool else {}
        client = cs_sdk.Client(
            environ={}, endpoint=collector.endpoint, schedule_delay=60, **options
        )  # type: ignore[arg-type]
        for index in range(1_000):
            client.milestone(f"m{index}")
        started = time.monotonic()
        client.shutdown(timeout=1.0)
        elapsed = time.monotonic() - started
        stats = client.stats()
    print(f"shutdown(timeout=1) with a black-hole collector took {elapsed:.3f} s")
    assert elapsed < 10.0  # a hang guard (10x the budget); the figure is in bench/
    assert_balanced(stats)
    assert stats["queued"] == stats["in_flight"] == stats["sent"] == 0
    if with_spool:
        assert stats["spooled"] == stats["spool_pending"] == 1_000
        assert stats["dropped_total"] == 0
    else:
        assert stats["dropped"]["shutdown_timeout"] == 1_000


def test_a_dead_endpoint_never_blocks_or_raises_into_the_caller() -> None:
    with LocalCollector() as collector:
        endpoint = collector.endpoint
    # The port is closed now: every connection is refused.
    client = cs_sdk.Client(environ={}, endpoint=endpoint, schedule_delay=0.01, max_queue_size=500)
    done = threading.Event()

    def record() -> None:
        for index in range(5_000):
            client.milestone("m", properties={"i": index})
        done.set()

    thread = threading.Thread(target=record)
    thread.start()
    assert done.wait(timeout=30)
    started = time.monotonic()
    assert client.shutdown(timeout=0.5) is False
    assert time.monotonic() - started < 10.0  # a hang guard (>= 10x the budget)
    stats = client.stats()
    assert_balanced(stats)
    assert stats["queued"] == stats["in_flight"] == 0
    assert stats["recorded"] == 5_000
    assert stats["dropped"]["queue_full"] > 0
    assert stats["sent"] == 0


@pytest.mark.parametrize("with_spool", [False, True], ids=["memory", "spool"])
def test_a_burst_past_the_queue_bound_goes_to_the_spool_before_any_drop(
    tmp_path: Path, with_spool: bool
) -> None:
    """A slow collector (0.3 s a request: ~700 events/s) and 20,000 events/s for half a second:
    ten times what the queue holds. The worker is not the bottleneck (it encodes and spools
    far faster than this); the collector is."""
    plan = FaultPlan().always(Slow(0.3))
    with LocalCollector(faults=plan) as collector:
        options: dict[str, object] = {"spool_dir": str(tmp_path / "spool")} if with_spool else {}
        client = cs_sdk.Client(
            environ={},
            endpoint=collector.endpoint,
            max_queue_size=1_000,
            max_export_batch_size=200,
            schedule_delay=0.05,
            **options,  # type: ignore[arg-type]
        )
        recorded = []
        for _ in range(100):
            recorded += [client.milestone("burst", properties={"i": i}) for i in range(100)]
            time.sleep(0.005)  # an application's pace: 100 events every 5 ms
        plan.clear()
        delivered = client.flush(timeout=60)
        client.shutdown(timeout=5)
        stats = client.stats()
        kept = [event_id for event_id in recorded if event_id is not None]
        assert collector.wait_for(len(kept), timeout=10)
        received = unique_ids(collector)
    print(f"spool={with_spool}: {len(kept)} of 10,000 kept, {stats['spooled']} spooled")
    assert_balanced(stats)
    assert received == set(kept)
    if with_spool:
        assert delivered is True
        assert len(kept) == 10_000
        assert stats["dropped_total"] == 0
        assert stats["spooled"] > 0
    else:  # without a spool the same burst overflows the queue, counted
        assert stats["dropped"]["queue_full"] == 10_000 - len(kept) > 0
