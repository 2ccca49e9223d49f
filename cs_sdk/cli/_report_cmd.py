"""``cs-sdk report``: the pilot report from stored events.

    $ cs-sdk report --db events.db --config pilots.toml --out report.html
    $ cs-sdk report --clickhouse https://user:pw@ch.example:8443/otel --format text
    $ cs-sdk report --db events.db --format json > report.json

Sources: the SQLite file ``cs-sdk collector --db`` writes (default ``events.db``), or the
OpenTelemetry Collector ClickHouse exporter's ``otel_logs`` table (``?table=`` to change).
With ``--format html`` (the default) the page goes to ``--out`` (default ``report.html``)
and the terminal summary is printed; ``text`` and ``json`` go to ``--out`` or stdout.
Files are written readable by their owner only: they hold customers' comments.
Exit status: 0 written, 1 the source cannot be read, 2 bad configuration or a missing extra.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import sys
from pathlib import Path
from typing import Any

from .._errors import PromptConfigError

_NEEDS = {  # module -> what needs it; all in the report extra
    "numpy": "the 95% intervals",
    "scipy": "the 95% intervals",
}
_NEEDS_HTML = {"jinja2": "the HTML page", "matplotlib": "the charts"}


def register(commands: Any) -> None:
    """Add the ``report`` subcommand to the ``cs-sdk`` subparsers."""
    parser = commands.add_parser("report", help="the pilot report from stored events")
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--db", help="SQLite file written by cs-sdk collector (default events.db)")
    source.add_argument("--clickhouse", metavar="URL", help="ClickHouse with the otel_logs table")
    parser.add_argument("--config", help="the pilot document (pilots.toml)")
    parser.add_argument("--out", help="output file (html: default report.html)")
    parser.add_argument("--format", choices=("html", "json", "text"), default="html")
    parser.add_argument("--pilot", action="append", help="only this pilot (repeatable)")
    parser.set_defaults(run=run)


def _missing(fmt: str) -> list[str]:
    needs = {**_NEEDS, **(_NEEDS_HTML if fmt == "html" else {})}
    return [f"{m} ({why})" for m, why in needs.items() if importlib.util.find_spec(m) is None]


def _write_private(path: Path, text: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write(text)


def run(args: argparse.Namespace) -> int:
    """Build and write the report; returns the exit code."""
    missing = _missing(args.format)
    if missing:
        print(
            f"cs-sdk report: missing {', '.join(missing)}: pip install 'cs-sdk[report]'",
            file=sys.stderr,
        )
        return 2
    from .. import report as rp

    config = None
    if args.config:
        from .._prompts._config import load_config

        try:
            config = load_config(args.config)
        except PromptConfigError as error:
            print(f"cs-sdk report: {error}", file=sys.stderr)
            return 2
    try:
        if args.clickhouse:
            executor: Any = rp.open_clickhouse(args.clickhouse)
            source = "ClickHouse " + args.clickhouse.split("@")[-1].split("?")[0]
        else:
            path = args.db or "events.db"
            executor = rp.open_sqlite(path)
            source = path
    except ImportError as error:
        print(f"cs-sdk report: {error}", file=sys.stderr)
        return 2
    except Exception as error:  # unreachable server, not a database: a message, not a trace
        print(f"cs-sdk report: cannot open the source: {error}", file=sys.stderr)
        return 1
    try:
        report = rp.build_report(executor, config, source=source, pilots=args.pilot)
    except Exception as error:  # a query the store refused (old schema, permissions)
        print(
            f"cs-sdk report: cannot read the events: {type(error).__name__}: {error}",
            file=sys.stderr,
        )
        return 1
    finally:
        close = getattr(executor, "close", None)
        if close is not None:
            close()
    if args.format == "html":
        out = Path(args.out or "report.html")
        _write_private(out, rp.render_html(report))
        print(rp.render_text(report), end="")
        print(f"\nreport written to {out.resolve()}")
        return 0
    text = rp.render_json(report) + "\n" if args.format == "json" else rp.render_text(report)
    if args.out:
        _write_private(Path(args.out), text)
        print(f"report written to {Path(args.out).resolve()}", file=sys.stderr)
    else:
        sys.stdout.write(text)
    return 0
