"""python -m bench.pilot_report [--events 1000000] [--participants 20000] [--db PATH]

Times ``cs-sdk report`` over a simulated pilot stored as ``cs-sdk collector`` stores it
(bench/_pilot_events.py): the figures (every SQL query), the themes, and the HTML page with
its charts, in a fresh process as a user would run it. The database is built first (not
timed) unless ``--db`` names one that exists. The budget is 10 s on the project's 2-core
machine; the figure goes to bench/RESULTS.md by hand.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from . import _pilot_events


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
            command = [sys.executable, "-m", "cs_sdk.cli", "report", "--db", str(db),
                       "--config", str(config), "--format", fmt, "--out", str(out)]  # fmt: skip
            began = time.perf_counter()
            done = subprocess.run(command, capture_output=True, text=True, check=False)
            elapsed = time.perf_counter() - began
            if done.returncode != 0:
                print(done.stderr, file=sys.stderr)
                return 1
            runs.append((fmt, elapsed))
            print(f"cs-sdk report --format {fmt}: {elapsed:.2f} s (process start to exit)")
        html = sorted(e for f, e in runs if f == "html")
        print(f"median html report: {html[len(html) // 2]:.2f} s (budget 10 s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
