"""python -m bench.caller_hotloop [--calls N] [--repeat R] [--shapes a,b] [--results PATH]

Run from the repository root. The caller's own cost per recording call, per event shape
(``bench/_shapes.py``), in a hot loop and without a worker: where the time of a call goes,
apart from the worker competing for the GIL and the machine's caches going cold between
calls (both in ``bench/burst.py``'s paced and burst figures). Three columns per shape, each
the fastest of ``--repeat`` loops of ``--calls`` calls, in one process:

* ``discarded``: the client's pipeline accepts each event and keeps nothing (the call's
  checks, copy, ids and tuple; the event is freed at once);
* ``queued``: the client's real ``EventQueue`` (the default pipeline's, without its worker
  thread), so events accumulate as they do while the worker waits: the queue's own cost,
  the memory the events take and the garbage collector's passes over them on top;
* ``queued, gc off``: the same with the collector disabled: the collector's share is the
  difference to ``queued``.

The table goes to its own section of bench/RESULTS.md (``--results ''``: printed only).
Every figure includes the bench's own work per call (building a fresh property dict, and for
``typed`` the model instance: ~0.3 µs of it built in C, ~1.4 µs where pydantic validates), as
a user's call would.
"""

from __future__ import annotations

import argparse
import gc
import os
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ._event_shapes import SHAPES, shape_calls
from ._sections import RESULTS, replace_section

SECTION = "caller-hotloop"

COLUMNS = ("discarded", "queued", "queued, gc off")


class _QueueOnly:
    """A pipeline: the real EventQueue without a worker, or one that keeps nothing."""

    def __init__(self, stats: Any, keep: bool) -> None:
        from cs_sdk._pipeline._queue import EventQueue

        self.queue = EventQueue(
            stats, max_size=1 << 40, max_bytes=1 << 60, batch_size=1 << 40, wake=threading.Event()
        )
        self.submit: Callable[[Any], bool] = self.queue.submit if keep else lambda queued: True

    def flush(self, timeout: float) -> bool:
        return True

    def shutdown(self, timeout: float) -> bool:
        return True

    def queued(self) -> int | None:
        return None

    def reinit_after_fork(self) -> None:
        pass


def _loop(record: Callable[[int], object], pipeline: _QueueOnly, calls: int, gc_on: bool) -> float:
    pipeline.queue.items.clear()
    gc.collect()
    if not gc_on:
        gc.disable()
    try:
        started = time.perf_counter_ns()
        for i in range(calls):
            record(i)
        return (time.perf_counter_ns() - started) / calls / 1000
    finally:
        gc.enable()


def measure(shapes: list[str], calls: int, repeat: int) -> dict[str, dict[str, float]]:
    """Shape -> column -> µs per call (fastest of ``repeat`` loops)."""
    import cs_sdk

    results: dict[str, dict[str, float]] = {shape: {} for shape in shapes}
    for column in COLUMNS:
        made: list[_QueueOnly] = []

        def factory(
            config: Any, stats: Any, chain: Any, column: str = column, made: list[_QueueOnly] = made
        ) -> _QueueOnly:
            made.append(_QueueOnly(stats, keep=column != "discarded"))
            return made[-1]

        client = cs_sdk.Client(
            environ={},
            service_name="bench",
            endpoint="http://127.0.0.1:9",
            _pipeline_factory=factory,
        )
        records = shape_calls(client, shapes)
        for shape in shapes:
            for i in range(2_000):  # warm: lazy imports, the interpreter's specialisation
                records[shape](i)
            results[shape][column] = min(
                _loop(records[shape], made[0], calls, column != "queued, gc off")
                for _ in range(repeat)
            )
        fallbacks = client.stats()["debug"]["fallbacks"]
        client.shutdown(timeout=1)
        if fallbacks:
            raise RuntimeError(f"calls left the C path: {fallbacks}")
    return results


def report(results: dict[str, dict[str, float]], calls: int, repeat: int) -> str:
    lines = [
        "### The caller's cost in a hot loop, without the worker (bench/caller_hotloop.py)",
        "",
        f"µs per call, the fastest of {repeat} loops of {calls:,} calls; the columns are "
        "explained in the module's docstring.",
        "",
        "| shape | " + " | ".join(COLUMNS) + " |",
        "|---|" + "---:|" * len(COLUMNS),
    ]
    for shape, row in results.items():
        lines.append(f"| {shape} | " + " | ".join(f"{row[c]:.2f}" for c in COLUMNS) + " |")
    lines += [
        "",
        f"Measured with a load average of {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores.",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--shapes", default=",".join(SHAPES))
    parser.add_argument("--results", default=str(RESULTS), help="'' to skip writing")
    args = parser.parse_args(argv)
    shapes = [s for s in args.shapes.split(",") if s]
    text = report(measure(shapes, args.calls, args.repeat), args.calls, args.repeat)
    print(text)
    if args.results:
        replace_section(Path(args.results), SECTION, text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
