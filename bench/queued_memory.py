"""python -m bench.queued_memory [--events N] [--shapes a,b] [--top K]

Run from the repository root. What one queued event really holds in memory against what the
queue's byte bound counts for it (``max_queue_bytes``), per event shape
(``bench/_event_shapes.py``), in this interpreter: the worker is held inside ``before_send``
so that every event recorded after it stays queued, and the heap growth over ``--events``
events (tracemalloc, the caller's garbage collected first) is set against the growth of the
queue's estimate. Per shape: estimated bytes per event, tracemalloc bytes per event, their
ratio (at least 1: the bound never counts less than events hold; close to 1: it admits as many
events as memory allows), and how many events the default bounds admit
(``max_queue_bytes // estimate`` against ``max_queue_size``). Object sizes differ between
Python versions: run it with each (3.10 holds the most). ``--top K`` lists the K lines that
allocated the most per shape.
"""

from __future__ import annotations

import argparse
import gc
import platform
import sys
import tracemalloc
from typing import Any

from ._event_shapes import SHAPES, shape_calls
from ._held_worker import pipeline_heap, pipeline_snapshot, worker_held


def measure(shape: str, events: int, top: int = 0) -> dict[str, Any]:
    """Estimated and held bytes per queued event of ``shape``."""
    with worker_held(lambda client: shape_calls(client, [shape])[shape]) as (client, record):
        for i in range(1, 200):  # warm: shape checkers, caches
            record(i)
        queue = client._pipeline._events
        counted0 = queue.waiting()[1]
        gc.collect()
        tracemalloc.start()
        try:
            for i in range(200, 200 + events):
                record(i)
            snapshot = tracemalloc.take_snapshot()
        finally:
            tracemalloc.stop()
        counted = queue.waiting()[1] - counted0
        held = pipeline_heap(snapshot)
        lines = [
            f"    {stat.size / events:8.1f} B  {frame.filename}:{frame.lineno}"
            for stat in pipeline_snapshot(snapshot).statistics("lineno")[:top]
            for frame in [stat.traceback[0]]
        ]
        queued = client.stats()["queued"]
        max_bytes, max_size = client.config.max_queue_bytes, client.config.max_queue_size
    if queued < events:
        raise RuntimeError(f"{shape}: only {queued} of {events} events stayed queued")
    return {
        "shape": shape,
        "estimated": counted / events,
        "held": held / events,
        "admitted": max_bytes * events // counted,
        "max_queue_size": max_size,
        "lines": lines,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=5_000)
    parser.add_argument("--shapes", default=",".join(SHAPES))
    parser.add_argument("--top", type=int, default=0)
    args = parser.parse_args(argv)
    print(f"Python {platform.python_version()}, {args.events:,} queued events per shape")
    print("| shape | estimated B/event | held B/event (tracemalloc) | ratio | admitted by bytes |")
    print("|---|---:|---:|---:|---:|")
    for shape in [s for s in args.shapes.split(",") if s]:
        run = measure(shape, args.events, args.top)
        print(
            f"| {shape} | {run['estimated']:,.0f} | {run['held']:,.0f} "
            f"| {run['estimated'] / run['held']:.2f} | {run['admitted']:,} "
            f"(max_queue_size {run['max_queue_size']:,}) |"
        )
        for line in run["lines"]:
            print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
