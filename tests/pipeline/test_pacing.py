"""When the worker backs off during a burst (cs_sdk/_pipeline/_pacing.py, issue 15): only
while the collector is taking batches. While it is down, refusing or not heard from lately,
the worker holds events encoded as they arrive (a held event costs its share of a gzipped
batch, a queued one ~700 bytes of Python objects). Nothing here is timed: the pacer's sleeps
go through an injected seam, and the collector's state is the real local collector's."""

from __future__ import annotations

import threading

from _waiting import wait_until

import cs_sdk
from cs_sdk._pipeline._pacing import _PAUSE, Pacer
from cs_sdk._pipeline._queue import EventQueue
from cs_sdk._stats import Stats
from cs_sdk.collector import LocalCollector


def pacer_in_a_burst(taking: bool, queued: int = 0) -> list[float]:
    """The sleeps the pacer asks for at one look in the middle of a burst (events arriving
    far faster than any request rate), with ``queued`` of the 100,000 the queue may hold."""
    stats = Stats()
    events = EventQueue(
        stats, max_size=100_000, max_bytes=10**9, batch_size=2048, wake=threading.Event()
    )
    events.held = queued  # as many events held in encoded batches: they count the same
    sleeps: list[float] = []

    def sleep(seconds: float) -> None:
        sleeps.append(seconds)
        if len(sleeps) < 4:
            stats.taken += 10_000  # the burst goes on while the worker sleeps, then stops

    pacer = Pacer(events, stats, 100_000, 10**9, taking=lambda: taking, sleep=sleep)
    pacer.look()  # the first look only learns the rate
    stats.taken += 10_000
    sleeps.clear()
    pacer.look()
    return sleeps


def test_the_worker_backs_off_in_a_burst_while_the_collector_takes_batches() -> None:
    sleeps = pacer_in_a_burst(taking=True)
    assert sleeps.count(_PAUSE) >= 3  # backed off while the burst lasted


def test_the_worker_catches_up_without_yielding_from_half_of_a_bound() -> None:
    # Between half and the bound a yield would cost the worker a whole switch interval:
    # it would take ~5% of the GIL, and a burst the bounds have room for would lose events.
    assert pacer_in_a_burst(taking=True, queued=49_999).count(_PAUSE) >= 3
    assert pacer_in_a_burst(taking=True, queued=50_000) == []


def test_the_worker_never_backs_off_nor_yields_while_the_collector_does_not_take_them() -> None:
    # Its events are held anyway: encoded as they arrive, they cost a tenth of the memory.
    assert pacer_in_a_burst(taking=False) == []


def test_the_worker_knows_whether_the_collector_takes_batches() -> None:
    with LocalCollector() as collector:
        client = cs_sdk.Client(environ={}, endpoint=collector.endpoint, schedule_delay=0.05)
        delivery = client._pipeline._delivery  # type: ignore[attr-defined]
        try:
            assert delivery.taking() is False  # nothing delivered yet: not known
            client.milestone("m")
            assert client.flush(timeout=30) is True
            assert delivery.taking() is True
            collector.down()
            client.milestone("m")
            assert wait_until(lambda: client.stats()["retried"] > 0)
            assert delivery.taking() is False  # refused: its events will be held
            collector.up()
            assert client.flush(timeout=60) is True
            assert delivery.taking() is True
        finally:
            client.shutdown(timeout=5)
        assert client.stats()["sent"] == 2 and client.stats()["dropped_total"] == 0
