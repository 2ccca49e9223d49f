"""python -m bench [--quick] [--events N] [--calls N] [--requests N] [--sdk NAMES] [--json PATH]

Runs every SDK through every scenario, each in a fresh subprocess against a loopback sink
served from this process: the flat event's scenarios (caller cost, burst, host impact,
collector down, black hole), then each event shape paced and in a 100k burst and the
realistic mix (bench/_shapes.py), then the cold start (bench/_coldstart_peers.py). Prints the
tables and writes them into their block of bench/RESULTS.md (the realistic mix first).
The host-impact scenario also runs a baseline with no SDK (``none``). Then the parts that also
run alone: the event-loop lag (``bench.loop_lag``) and the budgets behind the tests' hang
guards (``bench.budgets``), unless ``--no-parts``.
A full run takes ~15 minutes on 2 cores, ``--quick`` about two.
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

from . import _coldstart_peers, _report, _shape_report
from ._host import calibrate_slice
from ._peers import BASELINE, FLOOR, FLOOR_MODULE, build_floor
from ._sections import replace_section
from ._shape_report import FLOOR_MIX, HARNESS_MIX
from ._shapes import SHAPES
from ._sink import BlackHole, Sink, closed_port_url

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
        "--requests", type=int, help="timed requests per run for host impact (0 = skip it)"
    )
    parser.add_argument(
        "--repeat",
        type=int,
        help="runs with the sink up per SDK, median taken (default 3, host 5; quick 1)",
    )
    parser.add_argument(
        "--shape-repeat", type=int, help="runs per SDK of each event shape (default 1)"
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
    parser.add_argument(
        "--render",
        metavar="PATH",
        help="measure nothing: write the report from a run saved with --json PATH",
    )
    parser.add_argument(
        "--no-parts",
        action="store_true",
        help="skip the parts that also run alone (python -m bench.loop_lag, bench.budgets)",
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


def foreign_cores(before: tuple[float, float], wall: float) -> float:
    """Cores other processes used on average since ``before`` (a ``cpu_seconds()``)."""
    busy, ours = cpu_seconds()
    return round(max(0.0, (busy - before[0]) - (ours - before[1])) / max(wall, 1e-3), 2)


# The pause after each batch of 100 paced calls (bench/_measure.py): the worker's time
# between batches, as under an application's event rate. bench/floor.py paces the same way.
PACE_MS = 10.0


def plan(args: argparse.Namespace) -> dict[str, Any]:
    quick = args.quick
    return {
        "calls": args.calls or (10_000 if quick else 20_000),
        "events": args.events or (20_000 if quick else 100_000),
        "down": args.events or (20_000 if quick else 50_000),
        "hang": min(args.events or 10_000, 10_000),  # events before a black-hole shutdown
        # Runs with the sink up, per SDK; each metric is the median over them. Peers swing a
        # lot from run to run (Segment either keeps up with a burst or drops ~40% of it,
        # depending on how the GIL falls between caller and consumer).
        "repeat": args.repeat or (1 if quick else 3),
        "pace_ms": PACE_MS,
        # The brief's bound is 15 s; --quick stops earlier, since no peer finishes anyway.
        "limit": 5.0 if quick else 15.0,
        "trace": not quick,  # tracemalloc makes the peers' calls ~3x slower: full runs only
        "timeout": 60.0,  # seconds from the first call for the sink to receive a burst
        # Host impact: requests of `slices` x 0.1 ms of CPU work, one event recorded after each
        # slice, arriving as a seeded Poisson process at `host_rate`/s and served by
        # `host_threads` threads. 1 ms x 450/s = 45% of one core in handler CPU: loaded, not
        # saturated (the GIL puts every handler on one core; the sink has the other).
        "requests": args.requests if args.requests is not None else 600 if quick else 1_000,
        # A run's p99 is what a burst of activity elsewhere on the machine moves most: more,
        # shorter runs, so that the median can leave two disturbed ones out.
        "host_repeat": args.repeat or (1 if quick else 5),
        "host_warm": 100,  # untimed requests first, so the sender is in its steady state
        "host_rate": 450.0,
        "host_threads": 4,
        "slices": 10,
        "slice_us": 100,
        # The shapes: paced calls and a burst per shape and SDK (the 100k burst);
        # one run each, to keep a full run near 15 minutes on 2 cores.
        "shape_calls": args.calls or (500 if quick else 3_000),
        "shape_events": args.events or (10_000 if quick else 100_000),
        "shape_repeat": args.shape_repeat or 1,
        # cs_sdk's shapes interleaved in one process: calls per shape.
        "interleaved_calls": args.calls or (1_000 if quick else 10_000),
        "cold_repeat": args.repeat or (2 if quick else 5),
        # The mix held with the collector down; quick: fewer, the peers' recording is slow.
        "down_mix": args.events or (5_000 if quick else 50_000),
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


def steps(sdks: list[str], p: dict[str, Any]) -> list[dict[str, Any]]:
    """The child runs, in order: {"key" (in the results), "scenario", "sdks" (in turn),
    "repeat", "where" (up: the sink; down: a closed port; hang: the black hole), "spec"}."""
    plan: list[dict[str, Any]] = []

    def add(key: str, where: str, repeat: int, events: int, order: list[str], **spec: Any) -> None:
        scenario = spec.pop("scenario", key)
        spec["events"] = events
        plan.append(
            dict(key=key, scenario=scenario, where=where, repeat=repeat, sdks=order, spec=spec)
        )

    add("latency", "up", p["repeat"], p["calls"], sdks)
    add("throughput", "up", p["repeat"], p["events"], sdks)
    if p["requests"]:
        # The host baseline takes its turn first in every repetition, like one more SDK.
        host = {k: p[k] for k in ("slices", "slice_iters")}
        host |= {"rate": p["host_rate"], "threads": p["host_threads"], "warm": p["host_warm"]}
        add("host", "up", p["host_repeat"], p["requests"], [BASELINE, *sdks], host=host)
    add("down", "down", 1, p["down"], sdks)
    add("hang", "hang", 1, p["hang"], sdks)
    if p["trace"]:
        add("down-trace", "down", 1, p["down"], sdks)
    # The shapes (bench/_shapes.py): cs_sdk's own ratios to the flat event, every shape in
    # one process; then each shape paced and in a burst, every SDK; then the realistic mix
    # held with the collector down (memory per held event; no shutdown, timed above).
    ours = [s for s in sdks if s.startswith("cs_sdk")]
    if ours:
        add("shapes-interleaved", "up", 1, p["interleaved_calls"], ours)
    for shape in SHAPES:
        add(
            f"shape-{shape}",
            "up",
            p["shape_repeat"],
            p["shape_events"],
            sdks,
            scenario="shape",
            shape=shape,
            calls=p["shape_calls"],
        )
    # The mix paced with no SDK (bench._peers.NoSdk, the peers' calls): the bench's own work,
    # which every SDK's paced figure includes, and so the ceiling on any ratio between them;
    # and by the floor of a recording call (bench/_floor.c, when measure() could build it):
    # about the most any SDK keeping a copy of each event could be below a peer here.
    for key, baseline, wanted in (
        (HARNESS_MIX, BASELINE, True),
        (FLOOR_MIX, FLOOR, p.get("floor")),
    ):
        if wanted:
            add(
                key,
                "up",
                p["shape_repeat"],
                p["shape_calls"],
                [baseline],
                scenario="latency",
                shape="mix",
            )
    add(
        "down-mix",
        "down",
        1,
        p["down_mix"],
        sdks,
        scenario="down",
        shape="mix",
        shutdown_limit=None,
    )
    return plan


def run_all(
    sink: Sink, black_hole: BlackHole, sdks: list[str], p: dict[str, Any], notes: list[str]
) -> _report.Results:
    """Every scenario for every SDK; repetitions interleave the SDKs so drift spreads evenly."""
    runs: dict[str, dict[str, list[dict[str, Any]]]] = {sdk: {} for sdk in [*sdks, BASELINE]}
    failed: set[str] = set()  # skipped SDKs are not run again
    for step in steps(sdks, p):
        key, up = step["key"], step["where"] == "up"
        for rep in range(step["repeat"]):
            for sdk in step["sdks"]:
                if sdk in failed:
                    continue
                urls = {"up": sink.url, "hang": black_hole.url}
                spec = {
                    "sdk": sdk,
                    "scenario": step["scenario"],
                    "url": urls.get(step["where"]) or closed_port_url(),
                    "pace_ms": p["pace_ms"],
                    "delivery_timeout": p["timeout"],
                    "shutdown_limit": p["limit"],
                    **step["spec"],
                }
                sink.reset()
                t0 = time.monotonic()
                cpu0 = cpu_seconds()
                result = run_child(spec, timeout=240.0)
                took = time.monotonic() - t0
                result["foreign_cpu_cores"] = foreign_cores(cpu0, took)
                if "skipped" in result:
                    log(f"skipping {sdk}: {result['skipped']}")
                    notes.append(f"{sdk} skipped: {result['skipped']}")
                    failed.add(sdk)
                elif "error" in result:
                    log(f"[{key}] {sdk}: ERROR {result['error']}\n{result.get('stderr', '')}")
                    notes.append(f"{sdk} {key}: error: {result['error']}")
                else:
                    log(f"[{key:>18} #{rep + 1}] {sdk:<9} {took:5.1f} s")
                    seen = sink.snapshot()
                    if up and (seen["unexpected"] or seen["errors"]):
                        note = f"{sdk} {key}: sink saw unexpected requests {seen['unexpected']}"
                        log(note)
                        notes.append(note)
                runs.setdefault(sdk, {}).setdefault(key, []).append(result)
    host_foreign = [r["foreign_cpu_cores"] for by in runs.values() for r in by.get("host", [])]
    if host_foreign and max(host_foreign) > 0.1:
        # Open-loop latency on 2 cores is what other processes disturb most.
        notes.append(
            "host impact: other processes used up to "
            f"{max(host_foreign):.2f} cores during a run (median "
            f"{statistics.median(host_foreign):.2f}); its latencies are the most sensitive to that"
        )
    results: _report.Results = {}
    for sdk, by_scenario in runs.items():
        results[sdk] = {}
        for scenario, attempts in by_scenario.items():
            good = [r for r in attempts if "error" not in r and "skipped" not in r]
            results[sdk][scenario] = merge_runs(good) if good else attempts[0]
    add_host_overhead(results, sdks)
    return results


def add_host_overhead(results: _report.Results, sdks: list[str]) -> None:
    """Each SDK's host latency minus the no-SDK baseline's (both medians over the runs)."""
    base = results.get(BASELINE, {}).get("host")
    if not base or "p50_ms" not in base:
        return
    for sdk in sdks:
        host = results[sdk].get("host")
        if host and "p50_ms" in host:
            for q in ("p50", "p99"):
                host[f"{q}_overhead_ms"] = host[f"{q}_ms"] - base[f"{q}_ms"]
            host["cpu_overhead_ms_per_request"] = (
                host["cpu_ms_per_request"] - base["cpu_ms_per_request"]
            )


def code_version() -> str:
    """The commit measured (and whether the work tree differed from it), for the report."""

    def git(*words: str) -> str:
        proc = subprocess.run(["git", *words], cwd=ROOT, capture_output=True, text=True)
        return proc.stdout.strip() if proc.returncode == 0 else ""

    commit = git("rev-parse", "--short", "HEAD")
    if not commit:
        return "unknown (not a git checkout)"
    branch = git("rev-parse", "--abbrev-ref", "HEAD")
    dirty = " with uncommitted changes" if git("status", "--porcelain", "--", "cs_sdk") else ""
    return f"{branch} at {commit}{dirty}"


def floor_built(directory: str, notes: list[str]) -> bool:
    """Builds the floor (bench/_peers.py, Floor) for this run's children; False, with a note,
    where it cannot be built (no compiler): the run goes on without its row."""
    try:
        os.environ[FLOOR_MODULE] = build_floor(directory)
    except Exception as error:  # setuptools raises its own errors for a missing compiler
        notes.append(f"the floor of a recording call was not built: {type(error).__name__}")
        return False
    return True


def measure(args: argparse.Namespace, argv: list[str]) -> tuple[dict[str, Any], _report.Results]:
    """Every run: (meta, including the plan and the notes, results)."""
    p = plan(args)
    # Once per benchmark, before anything else runs: every host run does the same work.
    p["slice_iters"] = calibrate_slice(p["slice_us"] * 1000) if p["requests"] else 0
    sdks = [s for s in _report.SDKS if s in args.sdk.split(",")]
    notes: list[str] = []
    started = time.monotonic()
    cpu_before = cpu_seconds()
    with Sink() as sink, BlackHole() as black_hole, tempfile.TemporaryDirectory() as built:
        p["floor"] = floor_built(built, notes)
        try:
            results = run_all(sink, black_hole, sdks, p, notes)
        finally:  # the build goes with the directory: no later child is pointed at it
            os.environ.pop(FLOOR_MODULE, None)
        cold = _coldstart_peers.measure(sdks, sink.url, p["cold_repeat"], child_env(), log)
    for sdk, figures in cold.items():
        results[sdk]["coldstart"] = figures

    # Everything here is CPU-bound on a small machine: anything else running skews it.
    foreign = foreign_cores(cpu_before, time.monotonic() - started)
    if foreign > 0.1:
        note = f"machine not idle: other processes used {foreign:.2f} cores on average"
        log(f"warning: {note}; the numbers are noisier than usual")
        notes.append(note)
    meta = {
        "command": " ".join(["python -m bench", *map(shlex.quote, argv)]),
        "date": _report.now(),
        "code": code_version(),
        "machine": _report.machine(),
        "versions": _report.versions(),
        "plan": p,
        "notes": notes,
        "foreign_cpu_cores": round(foreign, 2),
        "wall_s": round(time.monotonic() - started, 1),
    }
    return meta, results


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    if args.render:
        saved = json.loads(Path(args.render).read_text())
        meta, results = saved["meta"], saved["results"]
    else:
        meta, results = measure(args, argv)
    p = meta["plan"]
    table_rows = _report.rows(p["limit"], p["down"], p["trace"], host=bool(p["requests"]))
    shapes = _shape_report.section(results, p)
    print(shapes)
    print()
    print(_report.table(results, table_rows))
    print(_report.LEGEND)
    baseline = _report.host_baseline(results)
    if baseline:
        print(baseline)
    sys.stdout.flush()
    if args.results:
        shape_parts = (shapes, _shape_report.method(p))
        document = _report.markdown(results, table_rows, meta, p, meta["notes"], shape_parts)
        # Its own block: the sections other parts and people write stay as they are.
        replace_section(Path(args.results), "peers", document, at_top=True)
        log(f"wrote {args.results} ({meta['wall_s']} s)")
    if args.json and not args.render:
        payload = json.dumps({"meta": meta, "results": results}, indent=2)
        if args.json == "-":
            print(payload)
        else:
            Path(args.json).write_text(payload)
    if not args.no_parts and not args.render:
        # Figures of cs_sdk alone, each printed and written into its own section of RESULTS.md.
        from . import budgets, loop_lag

        parts = ["--repeat", "1" if args.quick else "5", "--results", args.results]
        for part in (loop_lag, budgets):
            if part.main(parts) != 0:
                return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
