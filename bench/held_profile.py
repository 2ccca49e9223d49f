"""python -m bench.held_profile [--events N] [--shapes a,b] [--repeat N] [--json PATH]

Run from the repository root. Where a burst's memory goes with the collector down (issue 15):
why the peak RSS per held event in ``bench.held_memory``'s burst rows is several times the
heap an event costs once the worker has encoded it. Per shape (``bench/_event_shapes.py``)
and run, in a fresh interpreter, a client at its defaults pointed at a closed loopback port:

* ``--events`` recorded back to back; at the end of the burst, the share of them still
  queued as Python objects (``queued_share``) and in encoded batches, the caller's µs per
  call, the worker's CPU per event it took during the burst, and its context switches
  (voluntary: it waited, for the GIL or otherwise; involuntary: the OS preempted it);
* the peak RSS growth (``VmHWM``, reset before the burst) per held event, once all are held;
* in a second interpreter, the worker's own cost per event with nobody else running: the
  queue filled while the worker is kept out, then drained on the calling thread
  (``drain_us``: enrichment chain, encoding, gzip);
* what a queued event holds now (tracemalloc, the worker kept out, ``queued_B``).

The queued share is set by the ratio of the caller's cost to the worker's: a burst's caller
spends ~1-3 µs per call, the worker ~4-5 µs per event, so with the GIL shared even evenly
most of a burst is still queued when it ends. On the C path each queued event is the packed
form of ``cs_sdk/_record.py`` (a tuple holding its stamp, its property and attribute values
and shared layout, attribute-key and context tuples: ~200-330 B a shape on 3.11, plus the
allocator's overhead), on the Python path the plain form (an id str, a time and a copied
property dict: ~430-630 B), against 60-85 B once held encoded.
Nothing here is a pass/fail figure; ``--json PATH`` writes every sample.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import statistics
import subprocess
import sys
import threading
import time
import tracemalloc
from typing import Any

from ._event_shapes import SHAPES, shape_calls
from ._proc import proc_status, reset_peak_rss, status_field
from ._sink import closed_port_url
from .held_memory import warmed_down_client


def _thread_cpu(tid: int) -> float:
    with open(f"/proc/self/task/{tid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def burst(shape: str, events: int) -> dict[str, Any]:
    """The burst against a closed port, in this interpreter."""
    client, record = warmed_down_client(shape)
    pipeline = client._pipeline  # type: ignore[attr-defined]
    queue, worker = pipeline._events, pipeline._thread.native_id
    task = f"/proc/self/task/{worker}/status"
    reset_peak_rss()
    rss0 = proc_status("VmRSS")
    taken0, cpu0 = client._stats.taken, _thread_cpu(worker)  # type: ignore[attr-defined]
    voluntary0, preempted0 = (
        status_field("voluntary_ctxt_switches", task),
        status_field("nonvoluntary_ctxt_switches", task),
    )
    before = len(queue.items)  # warm events the worker has not taken yet
    started = time.perf_counter()
    for i in range(200, 200 + events):
        record(i)
    elapsed = time.perf_counter() - started
    cpu = _thread_cpu(worker) - cpu0
    taken = client._stats.taken - taken0  # type: ignore[attr-defined]
    result: dict[str, Any] = {
        "shape": shape,
        "events": events,
        "caller_us": elapsed / events * 1e6,
        "queued_share": len(queue.items) / (events + before),
        "held_share": queue.held / events,
        "worker_taken": taken,
        # Clock ticks: coarse for a short burst, hence only a rough figure.
        "worker_cpu_us_per_taken": cpu / max(taken, 1) * 1e6,
        "worker_waits": status_field("voluntary_ctxt_switches", task) - voluntary0,
        "worker_preempted": status_field("nonvoluntary_ctxt_switches", task) - preempted0,
    }
    deadline = time.monotonic() + 120
    while queue.items and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.5)
    stats = client.stats()
    held = stats["queued"] + stats["in_flight"] + stats["spool_pending"]
    result["held"] = held
    result["sent"] = stats["sent"]  # 0: the closed port stays reserved (bench/_sink.py)
    result["dropped"] = stats["dropped_total"]
    result["peak_rss_bytes_per_held"] = (proc_status("VmHWM") - rss0) / max(held, 1)
    client.shutdown(timeout=0.2)
    return result


def alone(shape: str, events: int) -> dict[str, Any]:
    """The worker's cost per event with nobody else running, and what a queued event holds."""
    import cs_sdk

    client = cs_sdk.Client(environ={}, service_name="bench", endpoint=closed_port_url())
    record = shape_calls(client, [shape])[shape]
    pipeline = client._pipeline  # type: ignore[attr-defined]
    drain = pipeline._drain
    kept_out = threading.Event()
    entered = threading.Event()

    def wait() -> None:  # the worker's next drain waits here, outside the queue
        entered.set()
        kept_out.wait(120)

    pipeline._drain = wait
    try:
        pipeline._wake.set()
        if not entered.wait(30):
            raise RuntimeError("the worker never came to drain")
        for i in range(200):  # warm
            record(i)
        drain()
        gc.collect()
        tracemalloc.start()
        for i in range(200, 200 + events):
            record(i)
        queued_bytes = tracemalloc.get_traced_memory()[0]
        tracemalloc.stop()
        started = time.process_time()
        drain()  # on this thread, nothing else running
        spent = time.process_time() - started
    finally:
        pipeline._drain = drain
        kept_out.set()
    client.shutdown(timeout=0.2)
    return {"drain_us": spent / events * 1e6, "queued_B": queued_bytes / events}


def _child(function: str, shape: str, events: int) -> dict[str, Any]:
    code = (
        f"import json; from bench.held_profile import {function}; "
        f"print(json.dumps({function}({shape!r}, {events})))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], check=True, capture_output=True, text=True, timeout=300
    )
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


COLUMNS = (
    ("caller µs/call", "caller_us", "{:.2f}"),
    ("queued at burst end", "queued_share", "{:.0%}"),
    ("worker µs/event in burst (CPU)", "worker_cpu_us_per_taken", "{:.1f}"),
    ("worker waits / preempted", "waits", "{}"),
    ("worker alone µs/event", "drain_us", "{:.2f}"),
    ("queued B/event (heap)", "queued_B", "{:,.0f}"),
    ("peak RSS B/held", "peak_rss_bytes_per_held", "{:,.0f}"),
)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=50_000)
    parser.add_argument("--shapes", default="flat,mix")
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--json", default="")
    args = parser.parse_args(argv)
    shapes = [s for s in args.shapes.split(",") if s]
    unknown = set(shapes) - set(SHAPES)
    if unknown:
        parser.error(f"unknown shapes: {sorted(unknown)}")
    samples: dict[str, list[dict[str, Any]]] = {}
    for _ in range(args.repeat):
        for shape in shapes:  # interleaved: drift on the machine spreads over every shape
            run = _child("burst", shape, args.events) | _child("alone", shape, args.events)
            run["waits"] = f"{run['worker_waits']} / {run['worker_preempted']}"
            samples.setdefault(shape, []).append(run)
    print(f"collector down, {args.events:,} events back to back; median of {args.repeat} run(s)")
    print("| shape | " + " | ".join(title for title, _, _ in COLUMNS) + " |")
    print("|---|" + "---:|" * len(COLUMNS))
    for shape, runs in samples.items():
        cells = []
        for _, key, form in COLUMNS:
            values = [run[key] for run in runs]
            numeric = all(isinstance(v, (int, float)) for v in values)
            cells.append(form.format(statistics.median(values) if numeric else values[0]))
        print(f"| {shape} | " + " | ".join(cells) + " |")
    if args.json:
        with open(args.json, "w") as out:
            json.dump({"events": args.events, "samples": samples}, out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
