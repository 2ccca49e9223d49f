"""The measuring side: one SDK, one scenario, in a fresh interpreter.

    python -m bench._measure SPEC_JSON RESULT_PATH

SPEC_JSON: {"sdk", "scenario", "url", "events", "pace_ms", "delivery_timeout", "shutdown_limit"}
and, for ``host``, {"host": {"rate", "threads", "warm", "slices", "slice_iters"}}; for
``shape`` (and optionally ``down``), {"shape"} (bench/_shapes.py) and, for ``shape``, {"calls"}.

Scenarios: ``latency`` (caller cost per call, sink up), ``throughput`` (burst, then wait for
delivery, sink up), ``host`` (request latency of a simulated handler that records events,
sink up; sdk ``none`` is its baseline), ``down`` (memory and shutdown with nothing listening)
``down-trace`` (the same burst under tracemalloc, for the Python-heap peak only), ``hang``
(shutdown with a black-hole endpoint), ``shape`` (one shape's paced caller cost, then its
burst, sink up) and ``shapes-interleaved`` (every shape's paced cost, batches taking turns).

The result is one JSON object written to RESULT_PATH. The process then ends with ``os._exit``:
the SDKs register atexit hooks (flush/join) that, against a dead endpoint, can block for
minutes, and nothing they would do at exit is part of what is measured.
"""

from __future__ import annotations

import gc
import json
import logging
import os
import statistics
import sys
import threading
import time
import traceback
from collections.abc import Callable
from typing import Any

from ._host import scenario_host
from ._peers import ADAPTERS, Adapter, LogCounter
from ._proc import proc_status, reset_peak_rss
from ._shapes import calls
from ._sink import fetch_stats

Call = Callable[[int], object]  # records event number i of one shape (bench/_shapes.py)

BATCH = 100  # calls per timed batch: perf_counter_ns costs ~50 ns, a call a few µs
WARMUP = 1_000
QUIET = 2.0  # after flush returned: no new delivery for this long means nothing more will come
POLL = 0.05  # each poll is a fresh loopback connection: <1% of the CPU measured


def bounded(fn: Callable[[], object], timeout: float) -> float | None:
    """Run ``fn`` in a daemon thread; seconds it took, or None if still running at ``timeout``.

    Several SDK calls (Segment's flush, PostHog's shutdown) have no timeout of their own.
    """
    done = threading.Event()

    def run() -> None:
        try:
            fn()
        except Exception:  # an SDK raising from flush/shutdown: shown on the child's stderr
            traceback.print_exc()
        finally:
            done.set()

    start = time.perf_counter()
    threading.Thread(target=run, name="bench-bounded", daemon=True).start()
    if done.wait(timeout):
        return time.perf_counter() - start
    return None


def record_burst(call: Call, start: int, n: int) -> None:
    for i in range(start, start + n):
        call(i)


def wait_delivered(
    url: str, target: int, deadline: float, flushed: threading.Event
) -> dict[str, Any]:
    """Poll the sink until it has ``target`` events, or nothing arrives for QUIET seconds after
    the flush returned, or the deadline passes. Returns the last stats seen."""
    stats = fetch_stats(url)
    last_change = time.monotonic()
    while stats["events"] < target and time.monotonic() < deadline:
        time.sleep(POLL)
        current = fetch_stats(url)
        if current["events"] != stats["events"]:
            last_change = time.monotonic()
        stats = current
        if flushed.is_set() and time.monotonic() - last_change > QUIET:
            break
    return stats


def scenario_latency(sdk: Adapter, call: Call, n_calls: int, pace: float) -> dict[str, Any]:
    record_burst(call, 0, WARMUP)
    bounded(lambda: sdk.flush(30.0), 30.0)
    dropped_before = sdk.dropped()
    per_call_ns: list[float] = []
    perf = time.perf_counter_ns
    for b in range(max(2, n_calls // BATCH)):  # two batches at least, for the quantiles
        start = WARMUP + b * BATCH
        t0 = perf()
        for i in range(start, start + BATCH):
            call(i)
        per_call_ns.append((perf() - t0) / BATCH)
        # The pause lets the background sender keep up, as it would under an application's
        # event rate, so the calls measure the normal path rather than the queue-full one.
        time.sleep(pace)
    flush_s = bounded(lambda: sdk.flush(30.0), 30.0)
    # Inclusive quantiles: with 100 batches p99 interpolates between the two slowest rather
    # than being the slowest; that one is reported apart, since a single stall (typically a
    # full garbage collection landing in the caller's thread) lives there.
    p99 = statistics.quantiles(per_call_ns, n=100, method="inclusive")[98]
    return {
        "calls": len(per_call_ns) * BATCH,
        "us_median": statistics.median(per_call_ns) / 1000,
        "us_p99": p99 / 1000,
        "us_mean": statistics.fmean(per_call_ns) / 1000,
        "slowest_batch_ms": max(per_call_ns) * BATCH / 1e6,
        "dropped_during": sdk.dropped() - dropped_before,
        "flush_s": flush_s,
    }


def scenario_throughput(
    sdk: Adapter, call: Call, url: str, events: int, timeout: float, sent_before: int = 0
) -> dict[str, Any]:
    """``timeout``: seconds from the first call until the sink must have everything;
    ``sent_before``: events this process recorded earlier (a shape's paced run)."""
    # Warm up so the connection is open and lazy imports are done, then wait until the sink
    # has the warm-up events so they cannot be mistaken for timed ones.
    record_burst(call, 0, WARMUP)
    bounded(lambda: sdk.flush(30.0), 30.0)
    warmup_flushed = threading.Event()
    warmup_flushed.set()
    base = wait_delivered(url, sent_before + WARMUP, time.monotonic() + 30.0, warmup_flushed)
    dropped_before = sdk.dropped()

    flushed = threading.Event()
    gc.collect()
    hwm_reset = reset_peak_rss()
    rss0 = proc_status("VmRSS")
    cpu0 = time.process_time()
    t0 = time.monotonic_ns()
    record_burst(call, WARMUP, events)
    t_recorded = time.monotonic_ns()
    deadline = time.monotonic() + timeout - (t_recorded - t0) / 1e9

    def flush() -> None:
        bounded(lambda: sdk.flush(max(1.0, deadline - time.monotonic())), timeout)
        flushed.set()

    threading.Thread(target=flush, name="bench-flush", daemon=True).start()
    stats = wait_delivered(url, base["events"] + events, deadline, flushed)
    cpu = time.process_time() - cpu0
    # Without the reset the baseline is the earlier peak: growth is then a lower bound.
    peak_growth = proc_status("VmHWM") - (rss0 if hwm_reset else max(rss0, proc_status("VmHWM")))

    delivered = stats["events"] - base["events"]
    elapsed = (stats["last_ns"] - t0) / 1e9 if delivered else None
    wire = stats["request_bytes"] - base["request_bytes"]
    requests = stats["requests"] - base["requests"]
    return {
        "events": events,
        "delivered": delivered,
        "lost_pct": 100.0 * (events - delivered) / events,
        "record_s": (t_recorded - t0) / 1e9,
        "elapsed_s": elapsed,
        "events_per_s": delivered / elapsed if elapsed else 0.0,
        "cpu_us_per_delivered": 1e6 * cpu / delivered if delivered else None,
        "cpu_s": cpu,
        "wire_bytes_per_event": wire / delivered if delivered else None,
        "requests": requests,
        "events_per_request": delivered / requests if requests else None,
        "dropped_reported": sdk.dropped() - dropped_before,
        "peak_growth_bytes": peak_growth,
        "sink": {k: stats[k] for k in ("by_path", "unexpected", "errors", "connections")},
    }


def scenario_interleaved(
    sdk: Adapter, by_shape: dict[str, Call], n_calls: int, pace: float
) -> dict[str, Any]:
    """Every shape's paced cost in one process, batches of the shapes taking turns: their
    ratios to ``flat`` see the same machine at the same moments (the within-2x check)."""
    for call in by_shape.values():
        record_burst(call, 0, WARMUP // 4)
    bounded(lambda: sdk.flush(30.0), 30.0)
    per_call_ns: dict[str, list[float]] = {shape: [] for shape in by_shape}
    perf = time.perf_counter_ns
    for b in range(max(2, n_calls // BATCH)):
        start = WARMUP + b * BATCH
        for shape, call in by_shape.items():
            t0 = perf()
            for i in range(start, start + BATCH):
                call(i)
            per_call_ns[shape].append((perf() - t0) / BATCH)
            time.sleep(pace)
    medians = {shape: statistics.median(ns) / 1000 for shape, ns in per_call_ns.items()}
    return {
        "calls_per_shape": len(per_call_ns["flat"]) * BATCH,
        "us_median": medians,
        "vs_flat": {shape: us / medians["flat"] for shape, us in medians.items()},
        "dropped_during": sdk.dropped(),
    }


def scenario_down(
    sdk: Adapter, call: Call, events: int, shutdown_limit: float | None
) -> dict[str, Any]:
    """``shutdown_limit`` None: no shutdown (the memory figures only)."""
    gc.collect()
    hwm_reset = reset_peak_rss()
    rss0 = proc_status("VmRSS")
    # Without the reset the baseline is the earlier peak: growth is then a lower bound.
    baseline = rss0 if hwm_reset else max(rss0, proc_status("VmHWM"))
    record_burst(call, 0, events)
    time.sleep(1.0)  # let the sender threads try, fail and settle into their retry loops
    hwm1 = proc_status("VmHWM")
    rss1 = proc_status("VmRSS")
    dropped = sdk.dropped()
    shutdown_s = None if shutdown_limit is None else bounded(sdk.shutdown, shutdown_limit)
    hwm2 = proc_status("VmHWM")
    return {
        "events": events,
        "rss_before": rss0,
        "peak_growth_bytes": max(hwm1, hwm2) - baseline,
        "peak_reset": hwm_reset,
        "rss_growth_after_burst": rss1 - rss0,
        "dropped_reported": dropped,
        "shutdown_s": shutdown_s,  # None: still running at shutdown_limit
    }


def scenario_hang(sdk: Adapter, call: Call, events: int, shutdown_limit: float) -> dict[str, Any]:
    """``events`` recorded against a black hole (connections accepted, never answered), then
    the SDK's shutdown: how long a stuck collector can hold the host's exit."""
    record_burst(call, 0, events)
    time.sleep(1.0)  # the first send is hanging by now
    return {"events": events, "shutdown_s": bounded(sdk.shutdown, shutdown_limit)}


def scenario_down_trace(sdk: Adapter, call: Call, events: int) -> dict[str, Any]:
    import tracemalloc

    gc.collect()
    tracemalloc.start()
    record_burst(call, 0, events)
    time.sleep(1.0)
    _current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return {"events": events, "tracemalloc_peak_bytes": peak, "dropped_reported": sdk.dropped()}


def run(sdk: Adapter, scenario: str, spec: dict[str, Any]) -> dict[str, Any]:
    """One scenario's figures. The main table's scenarios record the flat event, the shape
    ones (``shape``, ``down`` with a ``shape``) the spec's shape."""
    url, events, pace = spec["url"], spec["events"], spec["pace_ms"] / 1000
    if scenario == "shapes-interleaved":
        return scenario_interleaved(sdk, calls(sdk), events, pace)
    shape = spec.get("shape", "flat")
    call = calls(sdk, [shape])[shape]
    if scenario == "latency":
        return scenario_latency(sdk, call, events, pace)
    if scenario == "throughput":
        return scenario_throughput(sdk, call, url, events, spec["delivery_timeout"])
    if scenario == "shape":  # paced, then the 100k burst, in one process
        paced = scenario_latency(sdk, call, spec["calls"], pace)
        sent = WARMUP + paced["calls"]
        timeout = spec["delivery_timeout"]
        return paced | scenario_throughput(sdk, call, url, events, timeout, sent_before=sent)
    if scenario == "host":

        def warm_up(start: int, n: int) -> None:
            record_burst(call, start, n)
            bounded(lambda: sdk.flush(10.0), 10.0)

        return scenario_host(sdk, warm_up, events, spec["host"])
    if scenario == "down":  # no shutdown_limit: the memory figures only
        return scenario_down(sdk, call, events, spec.get("shutdown_limit"))
    if scenario == "hang":
        return scenario_hang(sdk, call, events, spec["shutdown_limit"])
    if scenario == "down-trace":
        return scenario_down_trace(sdk, call, events)
    raise SystemExit(f"unknown scenario {scenario!r}")


def main(spec: dict[str, Any]) -> dict[str, Any]:
    sdk_name, scenario, url = spec["sdk"], spec["scenario"], spec["url"]
    logs = LogCounter()
    logging.getLogger().addHandler(logs)

    threads0 = threading.active_count()
    rss_import0 = proc_status("VmRSS")
    try:
        sdk = ADAPTERS[sdk_name](url, logs)
    except Exception as error:
        return {"skipped": f"{type(error).__name__}: {error}"}
    result: dict[str, Any] = {
        "threads": threading.active_count() - threads0,
        # Objects the cyclic GC tracks after import + init: a full collection walks them all,
        # in whichever thread happens to trigger it (often the caller's).
        "gc_objects_init": len(gc.get_objects()),
        "rss_init_bytes": proc_status("VmRSS"),
        "rss_import_init_growth": proc_status("VmRSS") - rss_import0,
    }
    result.update(run(sdk, scenario, spec))
    result["log_warnings"] = dict(logs.by_logger)
    result["info"] = sdk.info()
    return result


if __name__ == "__main__":
    out_path = sys.argv[2]
    code = 0
    try:
        outcome = main(json.loads(sys.argv[1]))
    except BaseException as error:  # report, do not hang: the parent reads the file
        traceback.print_exc()
        outcome = {"error": f"{type(error).__name__}: {error}"}
        code = 1
    with open(out_path, "w") as out:
        json.dump(outcome, out)
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
