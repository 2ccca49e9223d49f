"""``cs-sdk tail``: follow the events ``cs-sdk collector --db`` stores, from a second terminal.

    $ cs-sdk tail --db events.db --event cs.feedback --pilot onboarding-v2
    12:00:02.456  web  cs.feedback  nps  score=9  "Great reports"  user=u1 account=acme

It prints the events stored from now on (``--last N`` first shows the N latest), one line
each in the collector's format, with every control character escaped: a stored field cannot
forge a line or steer the terminal. Filters combine with AND: ``--event`` matches the OTLP
event name (``cs.feedback``) or the event's own name (``nps``), ``--user``, ``--account`` and
``--pilot`` their ids. The database is opened read-only; WAL lets the collector write
meanwhile. Ctrl-C or SIGTERM ends it with status 0; a missing database is status 2.
"""

from __future__ import annotations

import argparse
import json
import signal
import sqlite3
import sys
import threading
from contextlib import closing
from pathlib import Path
from typing import Any, TextIO

from ..collector import ReceivedRecord, format_record

_PAGE = 1000


def register(commands: Any) -> None:
    """Add the ``tail`` subcommand to the ``cs-sdk`` subparsers."""
    parser = commands.add_parser(
        "tail",
        help="follow the events a collector stores",
        description="Print the events cs-sdk collector --db stores, as they arrive.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("--db", default="events.db", help="the collector's SQLite file")
    parser.add_argument("--event", default=None, help="only this event name")
    parser.add_argument("--user", default=None, help="only this user id")
    parser.add_argument("--account", default=None, help="only this account id")
    parser.add_argument("--pilot", default=None, help="only events tagged with this pilot")
    parser.add_argument(
        "--last", type=int, default=0, metavar="N", help="first print the N latest events"
    )
    parser.add_argument(
        "--interval", type=float, default=0.5, help="seconds between looks for new events"
    )
    parser.set_defaults(run=run)


def _filters(args: argparse.Namespace) -> tuple[str, list[Any]]:
    clauses: list[str] = []
    values: list[Any] = []
    if args.event:
        clauses.append("(event_name = ? OR name = ?)")
        values += [args.event, args.event]
    if args.user:
        clauses.append("user_id = ?")
        values.append(args.user)
    if args.account:
        clauses.append("account_id = ?")
        values.append(args.account)
    if args.pilot:
        # json_each works on any database the collector wrote, old ones included.
        clauses.append(
            "pilot_ids IS NOT NULL AND EXISTS (SELECT 1 FROM json_each(events.pilot_ids) "
            "WHERE json_each.value = ?)"
        )
        values.append(args.pilot)
    return "".join(f" AND {clause}" for clause in clauses), values


def _loads(text: Any, default: Any) -> Any:
    if not isinstance(text, str):
        return default
    try:
        return json.loads(text)
    except ValueError:
        return default


def record_of(row: sqlite3.Row) -> ReceivedRecord:
    """A stored row as the record the collector printed when it arrived."""
    attributes = _loads(row["attributes"], {})
    text = row["resource"]
    names = row.keys()  # a Row's `in` looks at its values, not its column names
    if text is None and "shared_resource" in names:
        text = row["shared_resource"]  # stored once per request (see collector/_schema.py)
    resource = _loads(text, {})
    return ReceivedRecord(
        resource=resource if isinstance(resource, dict) else {},
        scope_name="",
        scope_version="",
        time_unix_nano=row["time_unix_nano"] or 0,
        observed_time_unix_nano=int((row["received_at"] or 0) * 1e9),
        event_name=row["event_name"] or "",
        severity_number=0,
        severity_text="",
        body=_loads(row["body"], None),
        attributes=attributes if isinstance(attributes, dict) else {},
        trace_id=row["trace_id"] or "",
        span_id=row["span_id"] or "",
    )


class _Reader:
    def __init__(self, db: sqlite3.Connection, args: argparse.Namespace) -> None:
        self._db = db
        where, self._values = _filters(args)
        shared = db.execute(
            "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'resources'"
        ).fetchone()[0]
        # A file no current collector has opened yet has no resources table (read-only
        # here, tail does not migrate it): its rows carry their own resource.
        columns = (
            "events.*, (SELECT resource FROM resources WHERE resources.id = "
            "events.resource_id) AS shared_resource"
            if shared
            else "*"
        )
        self._query = f"SELECT {columns} FROM events WHERE id > ?{where} ORDER BY id LIMIT {_PAGE}"
        self._last_query = (
            f"SELECT {columns} FROM events WHERE id <= ?{where} ORDER BY id DESC LIMIT ?"
        )

    def newest_id(self) -> int:
        row = self._db.execute("SELECT max(id) FROM events").fetchone()
        return int(row[0] or 0)

    def last(self, count: int, upto: int) -> list[sqlite3.Row]:
        rows = self._db.execute(self._last_query, [upto, *self._values, count]).fetchall()
        return rows[::-1]

    def after(self, last_id: int) -> list[sqlite3.Row]:
        return self._db.execute(self._query, [last_id, *self._values]).fetchall()


def _print(rows: list[sqlite3.Row], out: TextIO) -> None:
    if rows:
        out.write("".join(format_record(record_of(row)) + "\n" for row in rows))
        out.flush()


def run(
    args: argparse.Namespace, stop: threading.Event | None = None, out: TextIO | None = None
) -> int:
    """Follow until Ctrl-C, SIGTERM or ``stop`` is set; returns the exit code."""
    out = out or sys.stdout
    path = Path(args.db)
    if not path.is_file():
        print(f"cs-sdk tail: no database at {path} (start cs-sdk collector --db)", file=sys.stderr)
        return 2
    stop = stop or threading.Event()
    # The SIGTERM handler only notes the signal: a handler runs between two bytecodes of the
    # main thread, which may be inside stop.wait() holding the event's lock, so one calling
    # stop.set() could wait for ever on that lock. The loop sees the note within --interval.
    in_main = threading.current_thread() is threading.main_thread()
    terminated: list[int] = []
    previous = (
        signal.signal(signal.SIGTERM, lambda sig, _frame: terminated.append(sig))
        if in_main
        else None
    )
    try:
        uri = f"{path.resolve().as_uri()}?mode=ro"
        with closing(sqlite3.connect(uri, uri=True, timeout=5)) as db:
            db.row_factory = sqlite3.Row
            reader = _Reader(db, args)
            last_id = reader.newest_id()
            if args.last > 0:
                _print(reader.last(args.last, last_id), out)
            while not terminated and not stop.is_set():
                rows = reader.after(last_id)
                _print(rows, out)
                if rows:
                    last_id = rows[-1]["id"]
                if len(rows) < _PAGE:
                    stop.wait(max(0.01, args.interval))
    except KeyboardInterrupt:
        pass
    except sqlite3.Error as error:
        print(f"cs-sdk tail: cannot read {path}: {error}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # cs-sdk tail | head
        return 0
    finally:
        if in_main:
            signal.signal(signal.SIGTERM, signal.SIG_DFL if previous is None else previous)
    return 0
