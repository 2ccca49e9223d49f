"""``cs-sdk collector``: run the local OTLP/HTTP receiver in the foreground.

    $ cs-sdk collector --db events.db
    cs-sdk collector listening on http://127.0.0.1:4318/v1/logs
    storing events in events.db
    12:00:01.123  web  cs.milestone  first_report_created  user=u1 account=acme  {"pages": 3}
    ^C
    received 1 events

With ``--port 0`` a free port is picked; the first line says which. With ``--schemas DIR``
(an export of ``cs-sdk schemas export``) every event is validated: a violating event's line
ends with ``!! schema: <reasons>``, and the table of arrivals and violations per event name
and version is printed on exit. Exit status: 0 stopped, 1 cannot listen, 2 ``--schemas`` is
not usable (not an export, or jsonschema is not installed).
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
import time
from typing import Any

from .._errors import SchemaError
from ..collector import LocalCollector


def _port(text: str) -> int:
    """A TCP port number, 0 to 65535 (argparse turns the ValueError into a usage error)."""
    port = int(text)
    if not 0 <= port <= 65535:
        raise ValueError(text)
    return port


def register(commands: Any) -> None:
    """Add the ``collector`` subcommand to the ``cs-sdk`` subparsers."""
    parser = commands.add_parser(
        "collector", help="receive OTLP/HTTP logs locally, print and store them"
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument("--port", type=_port, default=4318, help="port (0 picks a free one)")
    parser.add_argument("--db", help="SQLite file to store events in")
    parser.add_argument("--schemas", help="schema export directory to validate events against")
    parser.add_argument("--quiet", action="store_true", help="do not print each event")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace, stop: threading.Event | None = None) -> int:
    """Serve until Ctrl-C, SIGTERM or ``stop`` is set; returns the exit code."""
    validator = None
    if args.schemas:
        from ..events import SchemaValidator

        try:
            validator = SchemaValidator(args.schemas)
        except SchemaError as error:  # checked before listening: nothing half-started
            print(f"cs-sdk collector: --schemas: {error}", file=sys.stderr)
            return 2
    stop = stop or threading.Event()
    try:
        collector = LocalCollector(
            args.host,
            args.port,
            db=args.db,
            printer=None if args.quiet else sys.stdout,
            schemas=validator,
        ).start()
    except OSError as error:  # port in use, address not local, database not writable
        print(f"cs-sdk collector: cannot start: {error}", file=sys.stderr)
        return 1
    # Signal handlers can only be set from the main thread; tests run this in others. The
    # handlers only set a flag: a handler runs between two bytecodes of the main thread, so
    # one that took a lock (Event.set) could deadlock against the main thread holding it,
    # and a KeyboardInterrupt can land inside a `with` block before its __exit__ is armed.
    in_main = threading.current_thread() is threading.main_thread()
    signalled: list[int] = []
    previous: dict[int, Any] = {}
    if in_main:
        for number in (signal.SIGTERM, signal.SIGINT):
            previous[number] = signal.signal(number, lambda sig, _frame: signalled.append(sig))
    try:
        print(f"cs-sdk collector listening on {collector.endpoint}/v1/logs", flush=True)
        if args.db:
            print(f"storing events in {args.db}", flush=True)
        # A short sleep so that a signal (or `stop`, set by another thread) is acted on
        # promptly; `is_set()` reads a flag without taking the event's lock.
        while not signalled and not stop.is_set():
            time.sleep(0.05)
    except KeyboardInterrupt:  # SIGINT when not the main thread's handler (tests)
        pass
    finally:
        collector.stop()
        for restored, handler in previous.items():
            signal.signal(restored, signal.SIG_DFL if handler is None else handler)
    print(f"\nreceived {len(collector.records)} events", flush=True)
    if validator is not None:
        print(validator.report(), flush=True)
    return 0
