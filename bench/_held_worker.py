"""A client whose worker is held, so that every event recorded meanwhile stays queued: how
the queue's byte bound is set against what queued events really hold (bench.queued_memory
and tests/reliability/test_byte_bound.py measure it the same way, with this)."""

from __future__ import annotations

import threading
import tracemalloc
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

# Kept by the state store whether the event waits in the queue or not (a feedback's answer
# summary, bounded by its own max_feedback): not part of what a queued event holds.
KEPT_APART = ("*/cs_sdk/_responses.py", "*/cs_sdk/state/*")


def pipeline_snapshot(snapshot: tracemalloc.Snapshot) -> tracemalloc.Snapshot:
    """``snapshot`` without what is kept apart (``KEPT_APART``)."""
    return snapshot.filter_traces([tracemalloc.Filter(False, path) for path in KEPT_APART])


def pipeline_heap(snapshot: tracemalloc.Snapshot) -> int:
    """Bytes allocated in ``snapshot``, less what is kept apart."""
    return sum(stat.size for stat in pipeline_snapshot(snapshot).statistics("filename"))


@contextmanager
def worker_held(
    make_record: Callable[[Any], Callable[[int], object]], hold: float = 120.0, **options: Any
) -> Iterator[tuple[Any, Callable[[int], object]]]:
    """``(client, record)``: a client at its defaults (nothing listening at its endpoint)
    whose worker waits inside ``before_send`` on event 0, recorded here, so that what is
    recorded in the block stays queued. On exit the worker is let go (at the latest after
    ``hold`` seconds) and the client shut down. ``options``: more of the client's options
    (``speedups=False``: the pure-Python path)."""
    import cs_sdk

    gate = threading.Event()
    entered = threading.Event()

    def hold_the_worker(record: Any) -> Any:
        entered.set()
        gate.wait(hold)
        return record

    client = cs_sdk.Client(
        environ={},
        endpoint="http://127.0.0.1:9",
        before_send=hold_the_worker,
        schedule_delay=0.01,
        **options,
    )
    try:
        record = make_record(client)
        record(0)
        if not entered.wait(30):
            raise RuntimeError("the worker never took the first event")
        yield client, record
    finally:
        gate.set()
        client.shutdown(timeout=1)
