"""``cs-sdk demo``: a simulated pilot, start to finish, and its report.

    $ cs-sdk demo
    cs-sdk demo: pilot 'new-dashboard', 2 cohorts of 300 participants, 63 simulated days ...
      wave-1  300 enrolled, 98 reached board_pack_exported; 609 prompts shown, 385 answered ...
      ...
    report          /home/me/demo-report.html

Starts a collector in-process on a free loopback port, plays the pilot through the real SDK
(see ``cs_sdk/_demo``), then builds ``cs-sdk report``'s report from the events the
collector stored. Writes ``demo-pilots.toml``, ``demo-events.db``, ``demo-state.db``,
``demo-report.html`` and ``demo-report.json`` into the current directory or ``--out DIR``
(its databases from an earlier run are replaced). Exit status: 0 done, 1 events were lost,
2 the directory cannot be written or the ``report`` extra is missing.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path
from typing import Any, TextIO

from .._demo import DAYS, PER_COHORT, SEED, DemoPaths, DemoResult, run_demo
from .._demo._document import PATH, PILOT


def _count(text: str) -> int:
    value = int(text)
    if not 1 <= value <= 5000:
        raise ValueError(text)
    return value


def register(commands: Any) -> None:
    """Add the ``demo`` subcommand to the ``cs-sdk`` subparsers."""
    parser = commands.add_parser(
        "demo", help="simulate a pilot through the SDK and a local collector, write its report"
    )
    parser.add_argument("--out", default=".", help="directory to write the files into")
    parser.add_argument("--seed", type=int, default=SEED, help="random seed of the simulation")
    parser.add_argument(
        "--participants", type=_count, default=PER_COHORT, help="participants per cohort"
    )
    parser.set_defaults(run=run)


def _summary(result: DemoResult, out: TextIO) -> None:
    tally = result.tally
    for cohort in sorted(tally.enrolled):
        print(
            f"  {cohort}  {tally.enrolled[cohort]} enrolled, {tally.succeeded[cohort]} reached "
            f"{PATH[-1]}; {tally.shown[cohort]} prompts shown, {tally.answered[cohort]} "
            f"answered, {tally.dismissed[cohort]} dismissed; {tally.comments[cohort]} comments",
            file=out,
        )
    answers = ", ".join(f"{n} {status}" for status, n in sorted(tally.responses.items()))
    print(f"  teams   {sum(tally.responses.values())} answers to customers ({answers})", file=out)
    books = "every one stored" if result.complete else (
        f"LOST: {result.recorded} recorded, {result.sent} sent, {result.stored} stored, "
        f"{result.dropped} dropped"
    )  # fmt: skip
    print(f"  events  {result.recorded} sent to the local collector, {books}", file=out)


def _write_private(path: Path, text: str) -> None:
    # The report quotes customers' comments: readable by its owner only, as cs-sdk report.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as file:
        file.write(text)


def _write_report(paths: DemoPaths, out: TextIO) -> int:
    """The pilot report from the collector's database, built once: the HTML page, every
    figure as JSON beside it for other tools, and the terminal summary; the exit code."""
    try:
        from ..report import build_report, open_sqlite, render_html, render_json, render_text

        executor = open_sqlite(paths.events_db)
        try:
            report = build_report(executor, paths.document, source=paths.events_db.name)
        finally:
            executor.close()
        html, figures, summary = render_html(report), render_json(report), render_text(report)
    except ImportError as error:
        print(
            f"cs-sdk demo: the report needs the 'report' extra ({error}): "
            "pip install 'cs-sdk[report]'",
            file=sys.stderr,
        )
        return 2
    _write_private(paths.report, html)
    _write_private(paths.report_json, figures + "\n")
    print(summary, end="", file=out)
    return 0


def run(args: argparse.Namespace, out: TextIO | None = None) -> int:
    """Simulate, report, print where everything is; returns the exit code."""
    out = out or sys.stdout
    directory = Path(args.out).resolve()
    began = time.monotonic()
    print(
        f"cs-sdk demo: pilot {PILOT!r}, 2 cohorts of {args.participants} participants, "
        f"{DAYS} simulated days (seed {args.seed})",
        file=out,
    )
    try:
        result = run_demo(directory, seed=args.seed, per_cohort=args.participants)
    except OSError as error:
        print(f"cs-sdk demo: cannot write into {directory}: {error}", file=sys.stderr)
        return 2
    _summary(result, out)
    out.flush()
    paths = result.paths
    code = _write_report(paths, out)
    print(f"\npilot document  {paths.document}", file=out)
    print(f"events          {paths.events_db}", file=out)
    print(f"                (cs-sdk tail --db {paths.events_db.name} --user 1-u0001)", file=out)
    if code != 0:
        print("cs-sdk demo: the report could not be written (see above)", file=sys.stderr)
        return code
    print(f"figures (JSON)  {paths.report_json}", file=out)
    print(f"report          {paths.report}", file=out)
    print(f"done in {time.monotonic() - began:.1f} s", file=out)
    return 0 if result.complete else 1
