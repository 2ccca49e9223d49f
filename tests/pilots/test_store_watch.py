"""The once-per-batch check of the store's change marker: cheap, and harmless when the store
fails (the worker backs off instead of paying a timeout per batch)."""

from __future__ import annotations

import datetime as dt

import cs_sdk
from cs_sdk._pilots._opt_outs import OptOuts, StoreWatch
from cs_sdk.collector import LocalCollector
from cs_sdk.state import Membership, MemoryStore, Versions


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


class FlakyStore(MemoryStore):
    def __init__(self) -> None:
        super().__init__()
        self.reads = 0
        self.down = False

    def versions(self) -> Versions:
        self.reads += 1
        if self.down:
            raise ConnectionError("store down")
        return super().versions()


def test_the_marker_is_read_once_per_call_and_caches_are_dropped_only_when_it_moved() -> None:
    store = FlakyStore()
    published: list[frozenset[str]] = []
    dropped: list[int] = []
    opt_outs = OptOuts(store, publish=published.append)
    watch = StoreWatch(store, opt_outs, lambda: dropped.append(1))
    watch()  # the first batch: everything is read
    assert (store.reads, len(dropped), published) == (1, 1, [frozenset()])
    watch()
    assert (store.reads, len(dropped), len(published)) == (2, 1, 1)  # nothing moved
    store.set_opted_out("u1", True, 0.0)  # as another process would
    watch()
    assert published[-1] == frozenset({"u1"}) and len(dropped) == 1
    store.put_membership("u2", Membership("beta", None, dt.datetime.now(dt.timezone.utc)))
    watch()
    assert len(dropped) == 2


def test_a_failing_store_is_retried_after_a_growing_pause_not_every_batch() -> None:
    store, clock = FlakyStore(), Clock()
    opt_outs = OptOuts(store, publish=lambda users: None)
    watch = StoreWatch(store, opt_outs, lambda: None, monotonic=clock)
    store.down = True
    for _ in range(100):  # a hundred batches within the first pause
        watch()
    assert store.reads == 1
    clock.now += 5.0
    watch()
    assert store.reads == 2
    clock.now += 5.0  # the pause doubled: not yet
    watch()
    assert store.reads == 2
    store.down = False
    clock.now += 5.0
    watch()
    store.set_opted_out("u1", True, 0.0)
    watch()
    assert opt_outs.users == frozenset({"u1"})


def test_events_are_still_delivered_when_the_store_is_down() -> None:
    # Nothing listens on port 1: every store read (the marker, memberships) fails at once.
    with LocalCollector() as collector:
        client = cs_sdk.Client(
            environ={}, endpoint=collector.endpoint, state="redis://127.0.0.1:1/0"
        )
        client.milestone("first_report", user_id="u1")
        client.milestone("first_report", user_id="u2")
        assert client.flush(timeout=30)
        client.shutdown(timeout=5)
        assert sorted(record.user_id or "" for record in collector.records) == ["u1", "u2"]
