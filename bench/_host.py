"""The host-impact scenario: a simulated request handler that records events between slices
of CPU work, requests arriving open-loop (``python -m bench``; run by bench/_measure.py)."""

from __future__ import annotations

import gc
import random
import statistics
import threading
import time
from collections.abc import Callable
from typing import Any

from ._peers import USERS, Adapter, properties


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


def scenario_host(
    sdk: Adapter, warm_up: Callable[[int, int], object], requests: int, host: dict[str, Any]
) -> dict[str, Any]:
    """Open-loop request latency of a handler that does ``slices`` slices of CPU work with one
    ``record`` after each. ``warm`` untimed requests come first (steady state: the sender has
    started batching); the ``requests`` after them are the measured ones. ``warm_up(start,
    n)`` records events ``start`` .. ``start + n`` and flushes, before anything is timed."""
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
    warm_up(total * slices, HOST_WARMUP_EVENTS)

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
