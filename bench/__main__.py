"""python -m bench [--quick] [--events N] [--calls N] [--sdk NAMES] [--json PATH]

Runs every SDK through every scenario, each in a fresh subprocess against a loopback sink
served from this process, then prints one table and writes it to bench/RESULTS.md.
A full run takes ~3.5 minutes on 2 cores, ``--quick`` under one.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from . import _report
from ._sink import Sink, closed_port_url

ROOT = Path(__file__).resolve().parent.parent
# Environment variables that would reconfigure an SDK away from its defaults (OTEL_BLRP_*,
# POSTHOG_CAPTURE_MODE, ...) or route loopback traffic through a proxy.
_STRIPPED_PREFIXES = ("OTEL_", "POSTHOG_", "CS_SDK_", "SEGMENT_")
_PROXY_VARS = {"http_proxy", "https_proxy", "all_proxy", "no_proxy"}


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description="cs_sdk vs Segment, PostHog and OpenTelemetry, side by side",
    )
    parser.add_argument("--quick", action="store_true", help="smaller counts, ~1 minute")
    parser.add_argument(
        "--events", type=int, help="events per SDK for the throughput and sink-down runs"
    )
    parser.add_argument("--calls", type=int, help="timed calls per SDK for caller cost")
    parser.add_argument(
        "--repeat",
        type=int,
        help="runs with the sink up per SDK, median taken (default 3, quick 1)",
    )
    parser.add_argument(
        "--sdk", default=",".join(_report.SDKS), help="comma-separated subset of SDKs"
    )
    parser.add_argument(
        "--json", metavar="PATH", help="also write raw results as JSON (- = stdout)"
    )
    parser.add_argument(
        "--results",
        metavar="PATH",
        default=str(ROOT / "bench" / "RESULTS.md"),
        help="where to write the Markdown report ('' to skip)",
    )
    args = parser.parse_args(argv)
    unknown = set(args.sdk.split(",")) - set(_report.SDKS)
    if unknown:
        parser.error(f"unknown SDK(s): {', '.join(sorted(unknown))}")
    return args


def child_env() -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(_STRIPPED_PREFIXES) and k.lower() not in _PROXY_VARS
    }
    env["NO_PROXY"] = env["no_proxy"] = "127.0.0.1,localhost"
    return env


def run_child(spec: dict[str, Any], timeout: float) -> dict[str, Any]:
    """One SDK, one scenario, in a fresh interpreter; its JSON result (or an error)."""
    with tempfile.TemporaryDirectory(prefix="cs-bench-") as tmp:
        out = Path(tmp) / "result.json"
        cmd = [sys.executable, "-m", "bench._measure", json.dumps(spec), str(out)]
        try:
            proc = subprocess.run(
                cmd, cwd=ROOT, env=child_env(), capture_output=True, text=True, timeout=timeout
            )
        except subprocess.TimeoutExpired:  # subprocess.run has killed it
            return {"error": f"no result within {timeout:g} s"}
        if out.exists() and out.stat().st_size:
            result: dict[str, Any] = json.loads(out.read_text())
            if "error" in result:
                result["stderr"] = proc.stderr[-2000:]
            return result
        return {"error": f"exit code {proc.returncode}", "stderr": proc.stderr[-2000:]}


def cpu_seconds() -> tuple[float, float]:
    """(CPU seconds the whole machine has been busy, CPU seconds of this process and its
    finished children): their difference over the run is what other processes used."""
    with open("/proc/stat") as stat:
        fields = [int(x) for x in stat.readline().split()[1:9]]
    user, nice, system, _idle, _iowait, irq, softirq, steal = fields
    busy = (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")
    ours = sum(
        usage.ru_utime + usage.ru_stime
        for usage in (
            resource.getrusage(resource.RUSAGE_SELF),
            resource.getrusage(resource.RUSAGE_CHILDREN),
        )
    )
    return busy, ours


def plan(args: argparse.Namespace) -> dict[str, Any]:
    quick = args.quick
    return {
        "calls": args.calls or (10_000 if quick else 20_000),
        "events": args.events or (20_000 if quick else 100_000),
        "down": args.events or (20_000 if quick else 50_000),
        # Runs with the sink up, per SDK; each metric is the median over them. Peers swing a
        # lot from run to run (Segment either keeps up with a burst or drops ~40% of it,
        # depending on how the GIL falls between caller and consumer).
        "repeat": args.repeat or (1 if quick else 3),
        "pace_ms": 10.0,
        # The brief's bound is 15 s; --quick stops earlier, since no peer finishes anyway.
        "limit": 5.0 if quick else 15.0,
        "trace": not quick,  # tracemalloc makes the peers' calls ~3x slower: full runs only
        "timeout": 60.0,  # seconds from the first call for the sink to receive a burst
    }


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def merge_runs(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Per-metric median of repeated runs (numbers only; the rest from the first run)."""
    merged = dict(runs[0])
    for key in runs[0]:
        values = [run.get(key) for run in runs]
        if all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values):
            merged[key] = statistics.median(values)
    if len(runs) > 1:
        merged["runs"] = runs
    return merged


def run_all(sink: Sink, sdks: list[str], p: dict[str, Any], notes: list[str]) -> _report.Results:
    """Every scenario for every SDK; repetitions interleave the SDKs so drift spreads evenly."""
    scenarios = ["latency", "throughput", "down"] + (["down-trace"] if p["trace"] else [])
    counts = {"latency": p["calls"], "throughput": p["events"]}  # the rest: p["down"]
    runs: dict[str, dict[str, list[dict[str, Any]]]] = {sdk: {} for sdk in sdks}
    failed: set[str] = set()  # skipped SDKs are not run again
    for scenario in scenarios:
        up = scenario in ("latency", "throughput")
        for rep in range(p["repeat"] if up else 1):
            for sdk in sdks:
                if sdk in failed:
                    continue
                spec = {
                    "sdk": sdk,
                    "scenario": scenario,
                    "url": sink.url if up else closed_port_url(),
                    "events": counts.get(scenario, p["down"]),
                    "pace_ms": p["pace_ms"],
                    "delivery_timeout": p["timeout"],
                    "shutdown_limit": p["limit"],
                }
                sink.reset()
                t0 = time.monotonic()
                result = run_child(spec, timeout=240.0)
                took = time.monotonic() - t0
                if "skipped" in result:
                    log(f"skipping {sdk}: {result['skipped']}")
                    notes.append(f"{sdk} skipped: {result['skipped']}")
                    failed.add(sdk)
                elif "error" in result:
                    log(f"[{scenario}] {sdk}: ERROR {result['error']}\n{result.get('stderr', '')}")
                    notes.append(f"{sdk} {scenario}: error: {result['error']}")
                else:
                    log(f"[{scenario:>10} #{rep + 1}] {sdk:<8} {took:5.1f} s")
                    seen = sink.snapshot()
                    if up and (seen["unexpected"] or seen["errors"]):
                        note = (
                            f"{sdk} {scenario}: sink saw unexpected requests {seen['unexpected']}"
                        )
                        log(note)
                        notes.append(note)
                runs[sdk].setdefault(scenario, []).append(result)
    results: _report.Results = {}
    for sdk, by_scenario in runs.items():
        results[sdk] = {}
        for scenario, attempts in by_scenario.items():
            good = [r for r in attempts if "error" not in r and "skipped" not in r]
            results[sdk][scenario] = merge_runs(good) if good else attempts[0]
    return results


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    p = plan(args)
    sdks = [s for s in _report.SDKS if s in args.sdk.split(",")]
    notes: list[str] = []
    started = time.monotonic()
    cpu_before = cpu_seconds()
    with Sink() as sink:
        results = run_all(sink, sdks, p, notes)

    # Everything here is CPU-bound on a small machine: anything else running skews it.
    busy_after, ours_after = cpu_seconds()
    machine_cpu, our_cpu = busy_after - cpu_before[0], ours_after - cpu_before[1]
    wall = time.monotonic() - started
    foreign = max(0.0, machine_cpu - our_cpu) / wall  # cores used by other processes
    if foreign > 0.1:
        note = f"machine not idle: other processes used {foreign:.2f} cores on average"
        log(f"warning: {note}; the numbers are noisier than usual")
        notes.append(note)
    table_rows = _report.rows(p["limit"], p["down"], p["trace"])
    meta = {
        "command": " ".join(["python -m bench", *map(shlex.quote, argv)]),
        "date": _report.now(),
        "machine": _report.machine(),
        "versions": _report.versions(),
        "plan": p,
        "foreign_cpu_cores": round(foreign, 2),
        "wall_s": round(time.monotonic() - started, 1),
    }
    text = _report.table(results, table_rows)
    print(text)
    print(_report.LEGEND, flush=True)
    if args.results:
        document = _report.markdown(results, table_rows, meta, p, notes)
        Path(args.results).write_text(document)
        log(f"wrote {args.results} ({meta['wall_s']} s)")
    if args.json:
        payload = json.dumps({"meta": meta, "results": results}, indent=2)
        if args.json == "-":
            print(payload)
        else:
            Path(args.json).write_text(payload)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
