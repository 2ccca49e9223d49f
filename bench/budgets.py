"""python -m bench.budgets [--repeat N] [--results PATH]

The figures behind the hang guards in tests/ (the tests bound them by ratios or by ten times
the budget; the figures themselves are here):

- redaction: seconds to redact each adversarial 64 KB shape of ``bench/_adversarial.py``
  (the longest string a property or comment may hold), best of ``--repeat`` runs;
- exit: seconds from interpreter start to exit for a script that records one event with
  ``shutdown_timeout=0.5``, with a collector up and with nothing listening (median of
  ``--repeat`` runs, taking turns).

Printed, and written into its section of bench/RESULTS.md. About 10 s.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import textwrap
import time
from collections.abc import Sequence
from pathlib import Path

from cs_sdk._redaction import redact_text
from cs_sdk.collector import LocalCollector

from ._adversarial import SIZE, shapes
from ._sections import RESULTS, replace_section
from ._sink import closed_port_url

SECTION = "budgets"
EXIT_SCRIPT = textwrap.dedent(
    """
    import sys, cs_sdk
    cs_sdk.init(endpoint=sys.argv[1], shutdown_timeout=0.5, schedule_delay=60)
    cs_sdk.milestone("at_exit")
    """
)


def redaction(repeat: int) -> dict[str, float]:
    seconds: dict[str, float] = {}
    for shape, text in shapes(SIZE).items():
        best = float("inf")
        for _ in range(repeat):
            started = time.perf_counter()
            redact_text(text)
            best = min(best, time.perf_counter() - started)
        seconds[shape] = best
    return seconds


def exit_seconds(endpoint: str) -> float:
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-c", EXIT_SCRIPT, endpoint], check=True, timeout=60, capture_output=True
    )
    return time.perf_counter() - started


def exits(repeat: int) -> tuple[float, float]:
    up: list[float] = []
    down: list[float] = []
    with LocalCollector() as collector:
        for _ in range(repeat):
            up.append(exit_seconds(collector.endpoint))
            down.append(exit_seconds(closed_port_url()))
    return statistics.median(up), statistics.median(down)


def report(seconds: dict[str, float], up: float, down: float, repeat: int) -> str:
    lines = [
        "## Budgets behind the tests' hang guards",
        "",
        f"Redacting one adversarial {SIZE // 1024} KB string (best of {repeat}), by shape:",
        "",
        "| shape                   |    ms |",
        "|:------------------------|------:|",
        *(f"| {shape:<23} | {s * 1000:5.1f} |" for shape, s in seconds.items()),
        f"| **all shapes together** | {sum(seconds.values()) * 1000:5.1f} |",
        "",
        f"Interpreter start to exit, one event recorded, `shutdown_timeout=0.5` (median of "
        f"{repeat}): {up:.2f} s with a collector up, {down:.2f} s with nothing listening.",
        "",
        f"Measured with a load average of {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores.",
    ]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.budgets", description=__doc__)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--results", default=str(RESULTS), help="'' to skip writing")
    args = parser.parse_args(argv)
    seconds = redaction(args.repeat)
    up, down = exits(args.repeat)
    text = report(seconds, up, down, args.repeat)
    print(text)
    if args.results:
        replace_section(Path(args.results), SECTION, text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
