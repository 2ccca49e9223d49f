"""python -m bench.burst [--events N] [--paced N] [--pace-ms F] [--shapes a,b] [--json PATH]

Run from the repository root. The caller's cost per call paced and in a sustained burst, per
event shape (``bench/_event_shapes.py``), issue 15: one fresh interpreter per shape, a client
at its defaults sending to the loopback sink (``bench/_sink.py``, in this process).

In each interpreter: ``--paced`` calls (default 5,000) in batches of 100 timed together, one
batch every ``--pace-ms`` (default 10 ms: the worker has the time between batches, so this is
the caller's own cost, as in ``bench/_measure.py``'s latency scenario); then
``--events`` (default 100,000) calls back to back, timed as a whole (per call: the burst's
wall time over its calls, the worker and the sender competing for the GIL included) and in
blocks of 1,000 (their median: the figure least moved by other processes taking the CPU on
a loaded machine, which a long burst absorbs and a short paced batch mostly escapes); then
``flush()``. Per shape: paced µs/call (median batch); burst µs/call (mean) and its ratio to
the paced figure (target: at most 2); the median burst block and its ratio; the caller's CPU
time per call in the burst, the SDK threads' CPU time per call meanwhile (time the caller
could not run, on a GIL build) and their sum's ratio to the paced figure (CPU time is what
other processes on a loaded machine do not move); delivered events/s (burst start to flush
end); events lost (recorded and not delivered); peak RSS growth over the burst (``VmHWM``,
reset before it) against ``max_queue_bytes``; the most events waiting at once in the queue
and in memory (``queued`` + ``in_flight``, sampled); the garbage collector's passes on the
caller's thread during the burst (full ones, and the ms of all of them: a queued event is a
GC-tracked tuple, so a long queue brings full collections, which run on the recording thread
and are most of what a burst costs beyond the paced figure, see cs_sdk/_pipeline/_pacing.py).
``--json PATH`` writes every sample.
"""

from __future__ import annotations

import argparse
import gc
import json
import statistics
import subprocess
import sys
import threading
import time
from typing import Any

from ._event_shapes import SHAPES, shape_calls
from ._proc import proc_status, reset_peak_rss
from ._sink import Sink, fetch_stats

RATIO_TARGET = 2.0
HEADER = (
    "| shape | paced µs | burst µs | ratio | burst median µs | ratio | caller CPU µs "
    "| SDK threads' CPU µs | CPU ratio | delivered/s | lost | peak RSS MB | most waiting "
    "| full GCs | GC ms |"
)
MB = 1024 * 1024


def measure(shape: str, url: str, events: int, paced: int, pace_ms: float) -> dict[str, Any]:
    """One shape in this interpreter (called in a fresh child by ``main``)."""
    import cs_sdk

    client = cs_sdk.Client(environ={}, service_name="bench", endpoint=url)
    record = shape_calls(client, [shape])[shape]
    for i in range(500):
        record(i)
    client.flush(timeout=30)
    clock = time.perf_counter_ns
    pace = pace_ms / 1000
    costs = []  # per call, of each batch of 100 calls timed together (as bench._measure)
    for start in range(0, paced, 100):
        started = clock()
        for i in range(start, start + 100):
            record(i)
        costs.append((clock() - started) / 100)
        time.sleep(pace)
    client.flush(timeout=30)
    sent0 = fetch_stats(url)["events"]
    before = client.stats()
    gc.collect()
    reset_peak_rss()
    rss0 = proc_status("VmRSS")
    most = [0]
    done = threading.Event()

    def sample() -> None:  # the most events waiting in memory at once
        while not done.wait(0.01):
            stats = client.stats()
            most[0] = max(most[0], stats["queued"] + stats["in_flight"])

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    caller = threading.current_thread()
    collections = [0, 0, 0]  # full collections, all collections, ns in them (caller's thread)
    gc_started = [0]

    def on_gc(phase: str, info: dict[str, int]) -> None:
        if threading.current_thread() is not caller:
            return
        if phase == "start":
            gc_started[0] = clock()
            return
        collections[0] += info["generation"] == 2
        collections[1] += 1
        collections[2] += clock() - gc_started[0]

    gc.callbacks.append(on_gc)
    blocks = []  # per call, of each block of 1,000 calls of the burst
    cpu0, thread0 = time.process_time(), time.thread_time()
    started = clock()
    for start in range(paced, paced + events, 1000):
        block = clock()
        for i in range(start, min(start + 1000, paced + events)):
            record(i)
        blocks.append((clock() - block) / 1000)
    burst_ns = clock() - started
    gc.callbacks.remove(on_gc)
    thread_s = time.thread_time() - thread0
    others_s = time.process_time() - cpu0 - thread_s
    flushed = client.flush(timeout=300)
    delivered_ns = clock() - started
    done.set()
    sampler.join()
    peak = proc_status("VmHWM") - rss0
    after = client.stats()
    time.sleep(0.2)
    delivered = fetch_stats(url)["events"] - sent0
    client.shutdown(timeout=5)
    return {
        "shape": shape,
        "paced_us": statistics.fmean(costs) / 1000,
        "paced_median_us": statistics.median(costs) / 1000,
        "burst_us": burst_ns / events / 1000,
        "burst_block_median_us": statistics.median(blocks) / 1000,
        # CPU time, which other processes on a loaded machine do not move: the caller's own,
        # and the SDK's threads' (worker, sender) during the burst, which on a GIL build is
        # time the caller could not run.
        "burst_caller_cpu_us": 1e6 * thread_s / events,
        "burst_sdk_cpu_us": 1e6 * others_s / events,
        "delivered": delivered,
        "delivered_per_s": delivered / (delivered_ns / 1e9),
        "lost": events - (after["sent"] - before["sent"]),
        "dropped": after["dropped_total"] - before["dropped_total"],
        "flushed": flushed,
        "peak_rss_bytes": peak,
        "max_queue_bytes": client.config.max_queue_bytes,
        "most_waiting": most[0],
        "burst_full_gcs": collections[0],
        "burst_gcs": collections[1],
        "burst_gc_ms": collections[2] / 1e6,
    }


def _child(shape: str, url: str, args: argparse.Namespace) -> dict[str, Any]:
    call = f"measure({shape!r}, {url!r}, {args.events}, {args.paced}, {args.pace_ms})"
    code = f"import json; from bench.burst import measure; print(json.dumps({call}))"
    out = subprocess.run(
        [sys.executable, "-c", code], check=True, capture_output=True, text=True, timeout=900
    )
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--paced", type=int, default=5_000)
    parser.add_argument("--pace-ms", type=float, default=10.0)
    parser.add_argument("--shapes", default=",".join(SHAPES))
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--json", default="")
    args = parser.parse_args(argv)
    shapes = [s for s in args.shapes.split(",") if s]
    samples: dict[str, list[dict[str, Any]]] = {shape: [] for shape in shapes}
    with Sink() as sink:
        for _ in range(args.repeat):
            for shape in shapes:  # interleaved: drift on the machine spreads over every shape
                samples[shape].append(_child(shape, sink.url, args))
    print(
        f"caller µs per call, paced ({args.paced:,} calls, 100 every {args.pace_ms:g} ms) and in a"
    )
    print(f"{args.events:,}-event burst; target ratio at most {RATIO_TARGET:g}; median of runs")
    print(HEADER)
    print("|---|" + "---:|" * 14)
    for shape, runs in samples.items():

        def med(key: str, runs: list[dict[str, Any]] = runs) -> float:
            return float(statistics.median(run[key] for run in runs))

        ratio = statistics.median(run["burst_us"] / run["paced_median_us"] for run in runs)
        cpu_ratio = statistics.median(
            (run["burst_caller_cpu_us"] + run["burst_sdk_cpu_us"]) / run["paced_median_us"]
            for run in runs
        )
        block_ratio = statistics.median(
            run["burst_block_median_us"] / run["paced_median_us"] for run in runs
        )
        print(
            f"| {shape} | {med('paced_median_us'):.2f} | {med('burst_us'):.2f} | {ratio:.2f} "
            f"| {med('burst_block_median_us'):.2f} | {block_ratio:.2f} "
            f"| {med('burst_caller_cpu_us'):.2f} | {med('burst_sdk_cpu_us'):.2f} | {cpu_ratio:.2f} "
            f"| {med('delivered_per_s'):,.0f} | {med('lost'):,.0f} "
            f"| {med('peak_rss_bytes') / MB:.1f} | {med('most_waiting'):,.0f} "
            f"| {med('burst_full_gcs'):.0f} | {med('burst_gc_ms'):.0f} |"
        )
    if args.json:
        with open(args.json, "w") as out:
            json.dump({"args": vars(args), "samples": samples}, out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
