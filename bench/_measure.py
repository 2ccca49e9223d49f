"""The measuring side: one SDK, one scenario, in a fresh interpreter.

    python -m bench._measure SPEC_JSON RESULT_PATH

SPEC_JSON: {"sdk", "scenario", "url", "events", "pace_ms", "delivery_timeout", "shutdown_limit"}
and, for ``host``, {"host": {"rate", "threads", "warm", "slices", "slice_iters"}}.

Scenarios: ``latency`` (caller cost per call, sink up), ``throughput`` (burst, then wait for
delivery, sink up), ``host`` (request latency of a simulated handler that records events,
sink up; sdk ``none`` is its baseline), ``down`` (memory and shutdown with nothing listening)
``down-trace`` (the same burst under tracemalloc, for the Python-heap peak only) and ``hang``
(shutdown with a black-hole endpoint).

The result is one JSON object written to RESULT_PATH. The process then ends with ``os._exit``:
the SDKs register atexit hooks (flush/join) that, against a dead endpoint, can block for
minutes, and nothing they would do at exit is part of what is measured.
"""

from __future__ import annotations

import gc
import json
import logging
import os
import random
import statistics
import sys
import threading
import time
import traceback
from collections.abc import Callable
from typing import Any

from ._peers import ADAPTERS, USERS, Adapter, LogCounter, properties
from ._sink import fetch_stats

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


def proc_status(field: str) -> int:
    """A ``VmRSS``/``VmHWM``-style field of /proc/self/status, in bytes."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    raise KeyError(field)


def reset_peak_rss() -> bool:
    """Reset VmHWM to the current RSS (Linux >= 4.0), so the peak that follows is the burst's
    and not an import-time transient. False if the kernel does not allow it."""
    try:
        with open("/proc/self/clear_refs", "w") as clear_refs:
            clear_refs.write("5")
    except OSError:
        return False
    return True


def record_burst(record: Callable[[str, dict[str, Any]], object], start: int, n: int) -> None:
    for i in range(start, start + n):
        record(USERS[i % 1000], properties(i))


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


def scenario_latency(sdk: Adapter, url: str, calls: int, pace: float) -> dict[str, Any]:
    record_burst(sdk.record, 0, WARMUP)
    bounded(lambda: sdk.flush(30.0), 30.0)
    dropped_before = sdk.dropped()
    record = sdk.record
    per_call_ns: list[float] = []
    perf = time.perf_counter_ns
    for b in range(max(2, calls // BATCH)):  # two batches at least, for the quantiles
        start = WARMUP + b * BATCH
        t0 = perf()
        for i in range(start, start + BATCH):
            record(USERS[i % 1000], properties(i))
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


def scenario_throughput(sdk: Adapter, url: str, events: int, timeout: float) -> dict[str, Any]:
    """``timeout``: seconds from the first call until the sink must have everything."""
    # Warm up so the connection is open and lazy imports are done, then wait until the sink
    # has the warm-up events so they cannot be mistaken for timed ones.
    record_burst(sdk.record, 0, WARMUP)
    bounded(lambda: sdk.flush(30.0), 30.0)
    warmup_flushed = threading.Event()
    warmup_flushed.set()
    base = wait_delivered(url, WARMUP, time.monotonic() + 30.0, warmup_flushed)
    dropped_before = sdk.dropped()

    flushed = threading.Event()
    gc.collect()
    hwm_reset = reset_peak_rss()
    rss0 = proc_status("VmRSS")
    cpu0 = time.process_time()
    t0 = time.monotonic_ns()
    record_burst(sdk.record, WARMUP, events)
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


def busy(iterations: int) -> int:
    """The host handler's CPU work: a pure-Python integer loop (no allocation but small ints,
    so it triggers no garbage collection of its own)."""
    acc = 0
    for i in range(iterations):
        acc = (acc * 31 + i) & 0xFFFFFF
    return acc


def calibrate_slice(slice_ns: int = 100_000, trials: int = 25) -> int:
    """Iterations of ``busy`` that take ``slice_ns`` here, from the fastest of ``trials``
    timings of ~10 ms each after a warm-up (the fastest: the one least disturbed by anything
    else on the machine). Called once by the parent; every run gets the result."""
    n = 20_000
    busy(n)
    fastest = min(_timed(busy, n) for _ in range(trials))
    return max(1, round(slice_ns * n / fastest))


def _timed(fn: Callable[[int], object], arg: int) -> int:
    t0 = time.perf_counter_ns()
    fn(arg)
    return time.perf_counter_ns() - t0


HOST_SEED = 4321  # the arrival schedule: the same in every run, for every SDK
HOST_WARMUP_EVENTS = 200


def _quantile(sorted_ns: list[int], q: float) -> float:
    """Inclusive quantile (linear interpolation) of sorted values, in ms."""
    pos = q * (len(sorted_ns) - 1)
    lo = int(pos)
    hi = min(lo + 1, len(sorted_ns) - 1)
    return (sorted_ns[lo] + (sorted_ns[hi] - sorted_ns[lo]) * (pos - lo)) / 1e6


def scenario_host(sdk: Adapter, requests: int, host: dict[str, Any]) -> dict[str, Any]:
    """Open-loop request latency of a handler that does ``slices`` slices of CPU work with one
    ``record`` after each. ``warm`` untimed requests come first (steady state: the sender has
    started batching); the ``requests`` after them are the measured ones."""
    rate, threads, warm = host["rate"], host["threads"], host["warm"]
    slices, iters = host["slices"], host["slice_iters"]
    record = sdk.record
    perf = time.perf_counter_ns

    def handle(k: int) -> None:
        base = k * slices
        for j in range(slices):
            busy(iters)
            i = base + j
            record(USERS[i % 1000], properties(i))

    def work(_: int) -> None:
        for _ in range(slices):
            busy(iters)

    # The calibrated work as this process runs it, with nothing recorded: the fastest of 21.
    work_ns = min(_timed(work, 0) for _ in range(21))

    # Open the connection and finish lazy imports, with events numbered after the timed ones.
    total = warm + requests
    record_burst(sdk.record, total * slices, HOST_WARMUP_EVENTS)
    bounded(lambda: sdk.flush(10.0), 10.0)

    rng = random.Random(HOST_SEED)
    arrivals: list[int] = []  # ns after t0: a Poisson process at ``rate``
    t = 0.0
    for _ in range(total):
        t += rng.expovariate(rate)
        arrivals.append(round(t * 1e9))
    latency_ns: list[int | None] = [None] * total
    lock = threading.Lock()
    next_request = [0]

    def serve() -> None:
        sleep = time.sleep
        while True:
            with lock:
                k = next_request[0]
                if k >= total:
                    return
                next_request[0] = k + 1
            due = t0 + arrivals[k]
            wait = due - perf()
            if wait > 0:
                sleep(wait / 1e9)
            handle(k)
            latency_ns[k] = perf() - due

    gc.collect()
    dropped_before = sdk.dropped()
    workers = [
        threading.Thread(target=serve, name=f"bench-handler-{n}", daemon=True)
        for n in range(threads)
    ]
    cpu0 = time.process_time()
    t0 = perf() + 20_000_000  # 20 ms for the threads to start
    for worker in workers:
        worker.start()
    deadline = time.monotonic() + arrivals[-1] / 1e9 + 60.0
    for worker in workers:
        worker.join(max(0.0, deadline - time.monotonic()))
    elapsed = (perf() - t0) / 1e9
    cpu = time.process_time() - cpu0
    done = sorted(v for v in latency_ns[warm:] if v is not None)
    if len(done) < requests:
        raise RuntimeError(f"host: {requests - len(done)} requests unfinished after 60 s")
    return {
        "requests": requests,
        "warm_requests": warm,
        "events": total * slices,
        "rate_per_s": rate,
        "handler_threads": threads,
        "work_ms": work_ns / 1e6,
        "p50_ms": _quantile(done, 0.50),
        "p90_ms": _quantile(done, 0.90),
        "p99_ms": _quantile(done, 0.99),
        "max_ms": done[-1] / 1e6,
        "mean_ms": statistics.fmean(done) / 1e6,
        "elapsed_s": elapsed,
        "scheduled_s": arrivals[-1] / 1e9,
        # Every thread of the process (handlers and the SDK's sender) over the whole schedule.
        "cpu_ms_per_request": 1e3 * cpu / total,
        "dropped_during": sdk.dropped() - dropped_before,
    }


def scenario_down(sdk: Adapter, events: int, shutdown_limit: float) -> dict[str, Any]:
    gc.collect()
    hwm_reset = reset_peak_rss()
    rss0 = proc_status("VmRSS")
    # Without the reset the baseline is the earlier peak: growth is then a lower bound.
    baseline = rss0 if hwm_reset else max(rss0, proc_status("VmHWM"))
    record_burst(sdk.record, 0, events)
    time.sleep(1.0)  # let the sender threads try, fail and settle into their retry loops
    hwm1 = proc_status("VmHWM")
    rss1 = proc_status("VmRSS")
    dropped = sdk.dropped()
    shutdown_s = bounded(sdk.shutdown, shutdown_limit)
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


def scenario_hang(sdk: Adapter, events: int, shutdown_limit: float) -> dict[str, Any]:
    """``events`` recorded against a black hole (connections accepted, never answered), then
    the SDK's shutdown: how long a stuck collector can hold the host's exit."""
    record_burst(sdk.record, 0, events)
    time.sleep(1.0)  # the first send is hanging by now
    return {"events": events, "shutdown_s": bounded(sdk.shutdown, shutdown_limit)}


def scenario_down_trace(sdk: Adapter, events: int) -> dict[str, Any]:
    import tracemalloc

    gc.collect()
    tracemalloc.start()
    record_burst(sdk.record, 0, events)
    time.sleep(1.0)
    _current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return {"events": events, "tracemalloc_peak_bytes": peak}


def main(spec: dict[str, Any]) -> dict[str, Any]:
    sdk_name, scenario, url, events = spec["sdk"], spec["scenario"], spec["url"], spec["events"]
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
    if scenario == "latency":
        result.update(scenario_latency(sdk, url, events, spec["pace_ms"] / 1000))
    elif scenario == "throughput":
        result.update(scenario_throughput(sdk, url, events, spec["delivery_timeout"]))
    elif scenario == "host":
        result.update(scenario_host(sdk, events, spec["host"]))
    elif scenario == "down":
        result.update(scenario_down(sdk, events, spec["shutdown_limit"]))
    elif scenario == "hang":
        result.update(scenario_hang(sdk, events, spec["shutdown_limit"]))
    elif scenario == "down-trace":
        result.update(scenario_down_trace(sdk, events))
    else:
        raise SystemExit(f"unknown scenario {scenario!r}")
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
