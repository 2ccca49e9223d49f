"""python -m bench.pilot_report [--events 1000000] [--participants 20000] [--db PATH]

Times ``cs-sdk report`` over a simulated pilot stored as ``cs-sdk collector`` stores it
(bench/_pilot_events.py): the figures (every SQL query), the themes, and the HTML page with
its charts, in a fresh process as a user would run it. The database is built first (not
timed) unless ``--db`` names one that exists. The budget is 10 s on the project's 2-core
machine; the figure goes to bench/RESULTS.md by hand.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from . import _pilot_events


def _children_cpu() -> float:
    # CPU seconds of finished child processes: on a machine shared with other work, wall
    # time measures the neighbours too; CPU time bounds what the report itself costs.
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.pilot_report")
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--participants", type=int, default=20_000)
    parser.add_argument("--db", help="reuse this database (built when missing)")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(args.db or Path(tmp) / "events.db")
        if not db.exists():
            began = time.perf_counter()
            stored = _pilot_events.write(db, args.participants, events=args.events)
            print(f"stored {stored:,} events in {time.perf_counter() - began:.1f} s ({db})")
        config = Path(tmp) / "pilots.toml"
        config.write_text(_pilot_events.CONFIG)
        runs = []
        for fmt in ["html"] * args.repeat + ["json"]:
            out = Path(tmp) / f"report.{fmt}"
            command = [
                sys.executable,
                "-m",
                "cs_sdk.cli",
                "report",
                "--db",
                str(db),
                "--config",
                str(config),
                "--format",
                fmt,
                "--out",
                str(out),
            ]
            began, cpu_before = time.perf_counter(), _children_cpu()
            done = subprocess.run(command, capture_output=True, text=True, check=False)
            elapsed, cpu = time.perf_counter() - began, _children_cpu() - cpu_before
            if done.returncode != 0:
                print(done.stderr, file=sys.stderr)
                return 1
            runs.append((fmt, elapsed, cpu))
            print(
                f"cs-sdk report --format {fmt}: {elapsed:.2f} s wall, {cpu:.2f} s CPU "
                f"(process start to exit; load average {os.getloadavg()[0]:.1f})"
            )
        html = sorted((e, c) for f, e, c in runs if f == "html")
        wall, cpu = html[len(html) // 2]
        print(f"median html report: {wall:.2f} s wall, {cpu:.2f} s CPU (budget 10 s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
