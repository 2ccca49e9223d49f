"""python -m bench.floor [--rounds N] [--calls N] [--shape NAME] [--sdk NAMES] [--json PATH]

Run from the repository root; needs a C compiler. How far below the cheapest peer any SDK
could be on this machine, paced: the question issue 15's paced target turned into.

Builds ``bench/_floor.c`` into a temporary directory: a recording call that only copies its
arguments, reads the clock and appends a tuple to a deque (bench/_peers.py, ``Floor``), the
least any SDK must do in the caller's thread to keep an event. Then measures, in fresh
interpreters taking turns for ``--rounds`` rounds (default 7), the caller's cost per call
paced exactly as ``python -m bench`` does (bench/_measure.py, latency: 1000 warm-up calls,
then ``--calls`` calls in batches of 100, one every 10 ms, the median batch) for: no SDK
(the bench's own work), the floor, cs_sdk and OpenTelemetry (the cheapest peer of the main
bench's mix). Prints each one's median over the rounds, its rounds, and each one's ratio
against OpenTelemetry: the floor's ratio is about the most any SDK that keeps a copy of each
event at call time can reach here, and cs_sdk's distance from the floor is what is left.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
from pathlib import Path

from .__main__ import PACE_MS, run_child
from ._peers import FLOOR, FLOOR_MODULE, build_floor
from ._shapes import SHAPES
from ._sink import Sink

ORDER = ("none", FLOOR, "cs_sdk", "otel")
PEER = "otel"


def measure(sdks: list[str], rounds: int, calls: int, shape: str) -> dict[str, list[float]]:
    """Each SDK's paced µs per call (median batch), one fresh interpreter per round and SDK."""
    runs: dict[str, list[float]] = {sdk: [] for sdk in sdks}
    with Sink() as sink:
        for _ in range(rounds):
            for sdk in sdks:
                sink.reset()
                spec = {
                    "sdk": sdk,
                    "scenario": "latency",
                    "url": sink.url,
                    "pace_ms": PACE_MS,
                    "delivery_timeout": 60.0,
                    "shutdown_limit": 15.0,
                    "shape": shape,
                    "events": calls,
                }
                result = run_child(spec, timeout=300)
                if "us_median" not in result:
                    raise SystemExit(f"{sdk}: {result.get('error') or result}")
                runs[sdk].append(result["us_median"])
    return runs


def report(runs: dict[str, list[float]], shape: str) -> list[str]:
    medians = {sdk: statistics.median(values) for sdk, values in runs.items()}
    peer = medians.get(PEER)
    lines = [
        f"Caller µs per call, paced, {SHAPES[shape]} (median of the rounds)",
        "",
        f"| SDK | µs/call | rounds | {PEER} ÷ it |",
        "|---|---:|---|---:|",
    ]
    for sdk, median in medians.items():
        ratio = f"{peer / median:.1f}x" if peer and sdk != PEER else ""
        rounds = ", ".join(f"{value:.2f}" for value in runs[sdk])
        lines.append(f"| {sdk} | {median:.2f} | {rounds} | {ratio} |")
    floor, ours = medians.get(FLOOR), medians.get("cs_sdk")
    if floor and peer:
        lines += [
            "",
            f"- the floor (copy, clock, queue) is {peer / floor:.1f}x below {PEER}: about the most "
            "any SDK keeping a copy of each event at call time can be here.",
        ]
    if floor and ours:
        lines.append(
            f"- cs_sdk is {ours - floor:+.2f} µs/call from the floor ({ours / floor:.2f}x it): "
            "its validation, size accounting, event id, context and counters."
        )
    return lines


def main(argv: list[str] | None = None) -> int:
    summary = (__doc__ or "").split("\n\n")[1]
    parser = argparse.ArgumentParser(prog="python -m bench.floor", description=summary)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--calls", type=int, default=3000, help="paced calls per run")
    parser.add_argument("--shape", default="mix", choices=list(SHAPES))
    parser.add_argument("--sdk", default=",".join(ORDER), help="comma-separated subset")
    parser.add_argument("--json", default="", help="write the rounds to this file")
    args = parser.parse_args(argv)
    sdks = [sdk for sdk in args.sdk.split(",") if sdk]
    with tempfile.TemporaryDirectory(prefix="cs-bench-floor-") as directory:
        if FLOOR in sdks:
            os.environ[FLOOR_MODULE] = build_floor(directory)
        try:
            runs = measure(sdks, args.rounds, args.calls, args.shape)
        finally:  # the build goes with the directory: no later child is pointed at it
            os.environ.pop(FLOOR_MODULE, None)
    print("\n".join(report(runs, args.shape)))
    if args.json:
        Path(args.json).write_text(json.dumps({"shape": args.shape, "runs": runs}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
