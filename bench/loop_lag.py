"""python -m bench.loop_lag [--repeat N] [--results PATH]

The event-loop lag an asyncio server sees while it records: 100 tasks record 100 events each
(10,000 in all, ``await asyncio.sleep(0)`` between calls, as request handlers await between
steps) and then ``await client.aflush()``, while a heartbeat task sleeps 1 ms at a time and
notes how late it wakes. The same run without an SDK (the same tasks building the same
properties, repeated until the heartbeat has 200 samples) is the baseline.

Each run is a fresh interpreter against the loopback sink of ``bench/_sink.py`` served from
this process; each figure is the median over ``--repeat`` runs (default 5), the runs taking
turns. Printed, and written into its section of bench/RESULTS.md. About 20 s.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ._sections import RESULTS, replace_section
from ._sink import Sink

USERS, STEPS = 100, 100
BASELINE_BEATS = 200
BEAT = 0.001
VARIANTS = ("none", "cs_sdk", "cs_sdk_py")
LABELS = {
    "none": "no SDK",
    "cs_sdk": "cs_sdk (C accelerator)",
    "cs_sdk_py": "cs_sdk (pure Python)",
}
SECTION = "loop-lag"


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


async def _run(variant: str, url: str) -> dict[str, Any]:
    client: Any = None
    if variant != "none":
        import cs_sdk

        client = cs_sdk.Client(
            environ={}, endpoint=url, service_name="bench", speedups=variant == "cs_sdk"
        )
    lags: list[float] = []
    stop = asyncio.Event()

    async def heartbeat() -> None:
        while not stop.is_set():
            before = time.perf_counter()
            await asyncio.sleep(BEAT)
            lags.append(time.perf_counter() - before - BEAT)

    async def user(index: int) -> None:
        user_id = f"user-{index:04d}"
        step = 0
        while step < STEPS or (client is None and len(lags) < BASELINE_BEATS):
            properties = {"step": step % STEPS, "user": user_id}
            if client is not None:
                client.milestone("step", user_id=user_id, properties=properties)
            step += 1
            await asyncio.sleep(0)

    beat = asyncio.create_task(heartbeat())
    started = time.perf_counter()
    await asyncio.gather(*(user(i) for i in range(USERS)))
    delivered = True if client is None else await client.aflush(timeout=60)
    wall = time.perf_counter() - started
    stop.set()
    await beat
    result: dict[str, Any] = {
        "variant": variant,
        "beats": len(lags),
        "p50_ms": percentile(lags, 0.5) * 1000,
        "p99_ms": percentile(lags, 0.99) * 1000,
        "max_ms": max(lags) * 1000,
        "wall_s": wall,
        "delivered": delivered,
    }
    if client is not None:
        await client.ashutdown(timeout=5)
        result["sent"] = client.stats()["sent"]
    return result


def run_child(variant: str, url: str) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, "-m", "bench.loop_lag", "--child", variant, url],
        cwd=Path(__file__).resolve().parent.parent,
        capture_output=True,
        text=True,
        timeout=180,
        check=True,
    )
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def measure(repeat: int) -> dict[str, dict[str, float]]:
    runs: dict[str, list[dict[str, Any]]] = {variant: [] for variant in VARIANTS}
    with Sink() as sink:
        for _ in range(repeat):
            for variant in VARIANTS:  # taking turns, so drift on the machine falls on all
                runs[variant].append(run_child(variant, sink.url))
    merged: dict[str, dict[str, float]] = {}
    for variant, results in runs.items():
        merged[variant] = {
            key: statistics.median(float(r[key]) for r in results)
            for key in ("beats", "p50_ms", "p99_ms", "max_ms", "wall_s")
        }
        merged[variant]["delivered_all"] = float(all(r["delivered"] for r in results))
    return merged


def table(merged: dict[str, dict[str, float]], repeat: int) -> str:
    base = merged["none"]
    lines = [
        "## Event-loop lag while recording (asyncio)",
        "",
        "100 tasks record 10,000 events, awaiting between calls, then `await aflush()`; a "
        "heartbeat sleeps 1 ms at a time and notes how late it wakes. Medians over "
        f"{repeat} run(s), each in a fresh interpreter (`python -m bench.loop_lag`).",
        "",
        "| run                    | lag p50, ms | lag p99, ms | lag max, ms | p99 vs no SDK |"
        " heartbeats | wall, s |",
        "|:-----------------------|------------:|------------:|------------:|--------------:|"
        "-----------:|--------:|",
    ]
    for variant in VARIANTS:
        row = merged[variant]
        ratio = row["p99_ms"] / base["p99_ms"] if base["p99_ms"] > 0 else float("nan")
        lines.append(
            f"| {LABELS[variant]:<22} | {row['p50_ms']:11.2f} | {row['p99_ms']:11.2f} |"
            f" {row['max_ms']:11.2f} | {ratio:12.1f}x | {row['beats']:10.0f} |"
            f" {row['wall_s']:7.2f} |"
        )
    lines += [
        "",
        "The lag with the SDK is the worker thread's turns at the GIL (encoding, gzip) while "
        "the loop waits: the caller's own share is a few µs per call. "
        "`tests/reliability/test_processes.py` prints the same figures and checks that no "
        "turn of the loop waits for the collector (stopped while the tasks record). "
        "Measured with a load average of "
        f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} cores (other processes running widen "
        "every row, the no-SDK one included).",
    ]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.loop_lag", description=__doc__)
    parser.add_argument("--repeat", type=int, default=5, help="runs per variant (median)")
    parser.add_argument("--results", default=str(RESULTS), help="'' to skip writing")
    parser.add_argument("--child", nargs=2, metavar=("VARIANT", "URL"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        variant, url = args.child
        print(json.dumps(asyncio.run(_run(variant, url))))
        return 0
    merged = measure(args.repeat)
    text = table(merged, args.repeat)
    print(text)
    if args.results:
        replace_section(Path(args.results), SECTION, text)
    return 0 if all(row["delivered_all"] for row in merged.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
