"""python -m bench.held_memory [--events N] [--shapes a,b] [--repeat N] [--json PATH]

Run from the repository root. Memory per held event with the collector down (issue 15), per
event shape (``bench/_event_shapes.py``): one fresh interpreter per shape and run, a client at
its defaults pointed at a loopback port nothing listens on, ``--events`` (default 50,000)
recorded back to back (``burst``) or 100 every 5 ms (``paced``: an outage at a busy
application's rate), then until the worker has taken them all, plus 0.5 s (nothing is
dropped before ``export_timeout``, 30 s: every event is held).

Per shape and mode: the peak RSS growth (``VmHWM``, reset before recording) and the RSS
growth at the end, divided by the events held (queued, in flight or on disk per
``stats()``); and, in a second interpreter, the Python heap held at the end
(``tracemalloc``, current) per held event: what a held event costs once the worker has
encoded it, independent of the allocator returning pages (less what the state store keeps
of each feedback, ~270 bytes up to its ``max_feedback``, collector up or down; the JSON has
both). Target (issue 15): at most 400
bytes per held event. In a burst the peak is the queue's transient (events wait as Python
objects while the worker backs off, ``cs_sdk/_pipeline/_pacing.py``), and pymalloc keeps
the pages it grew to, so the end RSS stays near the peak; paced, the queue stays short and
the peak is what is held. ``--json PATH`` writes every sample.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from typing import Any

from ._event_shapes import SHAPES, shape_calls
from ._proc import proc_status, reset_peak_rss
from ._sink import closed_port_url

TARGET = 400  # bytes per held event (issue 15)
SETTLE = 0.5
PACE = 0.005


def warmed_down_client(shape: str) -> tuple[Any, Callable[[int], object]]:
    """A client at its defaults against a closed port, and ``record(i)`` for ``shape``, 200
    events recorded to warm the caches (shapes, encoder) before a baseline is taken."""
    import cs_sdk

    client = cs_sdk.Client(environ={}, service_name="bench", endpoint=closed_port_url())
    record = shape_calls(client, [shape])[shape]
    for i in range(200):
        record(i)
    time.sleep(0.3)
    gc.collect()
    return client, record


def measure(shape: str, events: int, trace: bool, paced: bool = False) -> dict[str, Any]:
    """One shape in this interpreter (called in a fresh child by ``main``)."""
    client, record = warmed_down_client(shape)
    if trace:
        import tracemalloc

        tracemalloc.start()
    else:
        reset_peak_rss()
    rss0 = proc_status("VmRSS")
    started = time.perf_counter()
    if paced:  # an outage at an application's rate: 100 events every PACE seconds
        for start in range(200, 200 + events, 100):
            for i in range(start, min(start + 100, 200 + events)):
                record(i)
            time.sleep(PACE)
    else:
        for i in range(200, 200 + events):
            record(i)
    burst_s = time.perf_counter() - started
    # Until the worker has taken every event (it holds them encoded from then on), or stopped
    # taking them (a worker that waits for the collector: cs_sdk before issue 15).
    deadline = time.monotonic() + 120
    queued = -1
    while queued != client.stats()["queued"] and time.monotonic() < deadline:
        queued = client.stats()["queued"]
        time.sleep(1.0)
    time.sleep(SETTLE)
    stats = client.stats()
    held = stats["queued"] + stats["in_flight"] + stats["spool_pending"]
    result: dict[str, Any] = {
        "shape": shape,
        "events": events,
        "held": held,
        "dropped": stats["dropped_total"],
        "record_s": burst_s,
        "queued": stats["queued"],
        "in_flight": stats["in_flight"],
    }
    if trace:
        import tracemalloc

        current, peak = tracemalloc.get_traced_memory()
        kept = tracemalloc.take_snapshot().filter_traces(
            [
                tracemalloc.Filter(False, "*/cs_sdk/_responses.py"),
                tracemalloc.Filter(False, "*/cs_sdk/state/*"),
            ]
        )
        pipeline = sum(stat.size for stat in kept.statistics("filename"))
        tracemalloc.stop()
        result["traced_all_bytes_per_held"] = current / max(held, 1)
        result["traced_bytes_per_held"] = pipeline / max(held, 1)
        result["traced_peak_bytes_per_held"] = peak / max(held, 1)
    else:
        result["peak_rss_bytes_per_held"] = (proc_status("VmHWM") - rss0) / max(held, 1)
        result["end_rss_bytes_per_held"] = (proc_status("VmRSS") - rss0) / max(held, 1)
    client.shutdown(timeout=0.5)
    return result


def _child(shape: str, events: int, trace: bool, paced: bool) -> dict[str, Any]:
    code = (
        "import json, sys; from bench.held_memory import measure; "
        f"print(json.dumps(measure({shape!r}, {events}, {trace}, {paced})))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], check=True, capture_output=True, text=True, timeout=300
    )
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=50_000)
    parser.add_argument("--shapes", default=",".join(SHAPES))
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--json", default="")
    args = parser.parse_args(argv)
    shapes = [s for s in args.shapes.split(",") if s]
    samples: dict[str, list[dict[str, Any]]] = {}
    for _ in range(args.repeat):
        for shape in shapes:  # interleaved: drift on the machine spreads over every shape
            for paced in (False, True):
                rss = _child(shape, args.events, False, paced)
                traced = _child(shape, args.events, True, paced)
                key = f"{shape}, {'paced' if paced else 'burst'}"
                samples.setdefault(key, []).append({**rss, **traced})
    print(f"memory per held event, collector down, {args.events:,} events recorded back to back")
    print(f"(burst) or 100 every {PACE * 1000:g} ms (paced); target at most {TARGET} B; median")
    print(f"of {args.repeat} run(s). Peak: over the recording; heap and end: once all are taken.")
    print("| shape | held | dropped | peak RSS B/held | end RSS B/held | heap B/held |")
    print("|---|---:|---:|---:|---:|---:|")
    for key, runs in samples.items():

        def med(name: str, runs: list[dict[str, Any]] = runs) -> float:
            return statistics.median(run[name] for run in runs)

        print(
            f"| {key} | {med('held'):,.0f} | {med('dropped'):,.0f} "
            f"| {med('peak_rss_bytes_per_held'):,.0f} | {med('end_rss_bytes_per_held'):,.0f} "
            f"| {med('traced_bytes_per_held'):,.0f} |"
        )
    if args.json:
        with open(args.json, "w") as out:
            json.dump({"events": args.events, "samples": samples, "pid": os.getpid()}, out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
