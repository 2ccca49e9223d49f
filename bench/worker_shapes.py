"""python -m bench.worker_shapes [--events N] [--repeat N] [--burst N] [--profile SHAPE]

Run from the repository root. What the export worker spends per event, for each shape of
event applications send (``SHAPES``), with the C accelerator on and off in the same run:

(a) worker CPU µs per event: the client's own processor chain (typed-event serialisation,
    pilot tagging, redaction...) then ``encode_event``, on ``--events`` events recorded by a
    real client into a list (median of ``--repeat`` interleaved runs);
(b) delivered events/s: a ``--burst`` event back-to-back burst from a real client to the
    loopback sink (``bench._sink``, in a child process so that it does not share the GIL),
    from the first call until the sink has every event; lost events are reported.

``--profile SHAPE`` prints a cProfile of (a) for one shape instead. A full run takes ~1-2 min.
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import json
import os
import pstats
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

import cs_sdk
from cs_sdk._client import NullPipeline
from cs_sdk._record import QueuedEvent, record_of

from ._event_shapes import shape_calls
from ._peers import EVENT, USERS, properties
from ._shapes import SHAPES as BENCH_SHAPES
from ._sink import fetch_stats

# The bench's shapes (bench/_shapes.py, the mix included), plus a tuple of strings, which
# the worker writes as it writes a list.
SHAPES: tuple[str, ...] = (*BENCH_SHAPES, "tuple")


def _calls(client: cs_sdk.Client, shape: str) -> Callable[[int], object]:
    """``record(i)``: event ``i`` of ``shape`` on ``client``, as an application would call."""
    if shape != "tuple":
        return shape_calls(client, [shape])[shape]
    milestone = client.milestone
    return lambda i: milestone(
        EVENT, user_id=USERS[i % 1000], properties={**properties(i), "tags": ("beta", "mobile")}
    )


class _ListPipeline(NullPipeline):
    def __init__(self) -> None:
        self.events: list[QueuedEvent] = []

    def submit(self, queued: QueuedEvent) -> bool:
        self.events.append(queued)
        return True


def _recorded(shape: str, n: int, speedups: bool) -> tuple[cs_sdk.Client, list[QueuedEvent]]:
    pipeline = _ListPipeline()
    client = cs_sdk.Client(
        service_name="bench",
        environ={},
        speedups=speedups,
        _pipeline_factory=lambda *a: pipeline,
    )
    record = _calls(client, shape)
    for i in range(n):
        record(i)
    return client, pipeline.events


def _worker_pass(shape: str, n: int, speedups: bool) -> Callable[[], object]:
    """One worker pass over ``n`` recorded events: the chain, then the encoder."""
    from cs_sdk._export._encoding import make_encoder
    from cs_sdk._export._mapping import build_scope

    client, events = _recorded(shape, n, speedups)
    chain = client.processors
    encoder = make_encoder("http/protobuf", build_scope({}, "bench"), accelerated=speedups)

    def run() -> None:
        run_chain, encode = chain.run, encoder.encode_event
        chain.refresh()
        for item in events:
            record = run_chain(record_of(item))
            if record is not None:
                encode(record)

    return run


def worker_costs(n: int, repeat: int) -> dict[str, dict[str, float]]:
    cases = {(shape, c): _worker_pass(shape, n, c == "C") for shape in SHAPES for c in ("C", "py")}
    samples: dict[tuple[str, str], list[float]] = {key: [] for key in cases}
    for fn in cases.values():
        fn()
    for _ in range(repeat):
        for key, fn in cases.items():
            gc.collect()
            # CPU time of this thread: the other processes of a loaded machine stay out of it.
            t0 = time.thread_time_ns()
            fn()
            samples[key].append((time.thread_time_ns() - t0) / n / 1000)
    out: dict[str, dict[str, float]] = {}
    for (shape, c), values in samples.items():
        out.setdefault(shape, {})[c] = statistics.median(values)
    return out


def profile(shape: str, n: int, speedups: bool) -> None:
    fn = _worker_pass(shape, n, speedups)
    fn()
    profiler = cProfile.Profile()
    profiler.runcall(fn)
    pstats.Stats(profiler).sort_stats("tottime").print_stats(18)


_SINK = """
import sys, time
from bench._sink import Sink
with Sink() as sink:
    print(sink.url, flush=True)
    sys.stdin.readline()
"""


def burst(shape: str, speedups: bool, events: int, url: str) -> dict[str, Any]:
    client = cs_sdk.Client(service_name="bench", endpoint=url, environ={}, speedups=speedups)
    record = _calls(client, shape)
    try:
        for i in range(min(events, 1000)):  # warm-up: connection open, lazy imports done
            record(i)
        client.flush(30.0)
        base = fetch_stats(url)["events"]
        gc.collect()
        t0 = time.monotonic_ns()
        cpu0 = time.thread_time()
        process0 = time.process_time()
        for i in range(events):
            record(i)
        caller_cpu = time.thread_time() - cpu0
        recorded = time.monotonic_ns()
        done = threading.Event()
        threading.Thread(target=lambda: (client.flush(120.0), done.set()), daemon=True).start()
        deadline = time.monotonic() + 120.0
        stats = fetch_stats(url)
        while stats["events"] - base < events and time.monotonic() < deadline:
            if done.is_set() and client.stats()["in_flight"] == 0:
                # Flushed: what is missing was dropped (counted below). The sink's counts are
                # read again after the flush, since those read before it may predate it.
                stats = fetch_stats(url)
                break
            time.sleep(0.02)
            stats = fetch_stats(url)
        done.wait(10.0)
        cpu = time.process_time() - process0
        delivered = stats["events"] - base
        elapsed = (stats["last_ns"] - t0) / 1e9
        return {
            "delivered": delivered,
            "lost": events - delivered,
            "events_per_s": delivered / elapsed,
            "caller_us": (recorded - t0) / events / 1000,
            "caller_cpu_us": caller_cpu * 1e6 / events,
            "process_cpu_us": cpu * 1e6 / max(delivered, 1),
            "dropped": client.stats()["dropped_total"],
        }
    finally:
        client.shutdown(5.0)


def bursts(events: int, repeat: int) -> dict[str, dict[str, dict[str, Any]]]:
    command = [sys.executable, "-c", _SINK]
    with subprocess.Popen(
        command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    ) as sink:
        assert sink.stdin is not None and sink.stdout is not None
        try:
            url = sink.stdout.readline().strip()
            out: dict[str, dict[str, dict[str, Any]]] = {}
            for _ in range(repeat):
                for shape in SHAPES:
                    for c in ("C", "py"):
                        row = burst(shape, c == "C", events, url)
                        best = out.setdefault(shape, {}).get(c)
                        if best is None or row["events_per_s"] > best["events_per_s"]:
                            out[shape][c] = row
            return out
        finally:
            sink.stdin.close()  # the sink exits at the end of its input
            sink.wait(10)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.worker_shapes")
    parser.add_argument("--events", type=int, default=5000)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--burst", type=int, default=100_000)
    parser.add_argument("--burst-repeat", type=int, default=1)
    parser.add_argument("--profile", choices=sorted(SHAPES))
    parser.add_argument("--python", action="store_true", help="profile without the C paths")
    parser.add_argument("--json")
    args = parser.parse_args(argv)
    if args.profile:
        profile(args.profile, args.events, not args.python)
        return 0
    costs = worker_costs(args.events, args.repeat)
    print(f"worker CPU µs per event (chain + encode_event, median of {args.repeat})")
    print(f"{'shape':10} {'C':>7} {'py':>7}")
    for shape, row in costs.items():
        print(f"{shape:10} {row['C']:7.2f} {row['py']:7.2f}")
    results: dict[str, Any] = {"worker_us": costs}
    if args.burst:
        delivered = bursts(args.burst, args.burst_repeat)
        results["burst"] = delivered
        print(f"\n{args.burst}-event burst: delivered/s, caller µs/call, CPU µs/event (lost)")
        for shape, row in delivered.items():
            cells = "  ".join(
                f"{c}: {r['events_per_s']:7.0f}/s {r['caller_us']:5.1f}µs "
                f"cpu {r['process_cpu_us']:5.1f}µs ({r['lost']})"
                for c, r in row.items()
            )
            print(f"{shape:10} {cells}")
    if args.json:
        with open(args.json, "w") as file:
            json.dump(results, file, indent=2)
    return 0


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    sys.exit(main(sys.argv[1:]))
