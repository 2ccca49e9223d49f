"""``cs-sdk collector``: run the local OTLP/HTTP receiver in the foreground.

    $ cs-sdk collector --db events.db
    cs-sdk collector listening on http://127.0.0.1:4318
    pass endpoint="http://127.0.0.1:4318" (OTLP logs arrive at /v1/logs)
    storing events in events.db
    12:00:01.123  web  cs.milestone  first_report_created  user=u1 account=acme  {"pages": 3}
    ^C
    received 1 events, 0 duplicates

With ``--port 0`` a free port is picked; the first line says which. With ``--schemas DIR``
(an export of ``cs-sdk schemas export``) every event is validated: a violating event's line
ends with ``!! schema: <reasons>``, and the table of arrivals and violations per event name
and version is printed on exit. Exit status: 0 stopped, 1 cannot listen, 2 ``--schemas`` is
not usable (not an export, or jsonschema is not installed).

The printed URL is the base URL, which is what ``endpoint=`` takes (the SDK adds
``/v1/logs``). With ``--token`` (or ``CS_SDK_COLLECTOR_TOKEN``) exports need
``Authorization: Bearer <token>``. Requests whose Host is not a loopback name are refused
(403) unless listed with ``--allow-host``: a web page cannot reach the collector by
rebinding its own DNS name to 127.0.0.1. Listening on anything but loopback prints a warning.
SIGINT and SIGTERM stop it cleanly: requests being stored finish, then the database closes.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
import time
from typing import Any

from .._errors import SchemaError
from ..collector import LocalCollector, is_loopback

TOKEN_ENV = "CS_SDK_COLLECTOR_TOKEN"


def _port(text: str) -> int:
    """A TCP port number, 0 to 65535 (argparse turns the ValueError into a usage error)."""
    port = int(text)
    if not 0 <= port <= 65535:
        raise ValueError(text)
    return port


def register(commands: Any) -> None:
    """Add the ``collector`` subcommand to the ``cs-sdk`` subparsers."""
    parser = commands.add_parser(
        "collector",
        help="receive OTLP/HTTP logs locally, print and store them",
        description="A local OTLP/HTTP logs receiver: prints each event and stores it in "
        "SQLite. Pass the URL it prints as endpoint=.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument("--port", type=_port, default=4318, help="port (0 picks a free one)")
    parser.add_argument("--db", default=None, help="SQLite file to store events in (none: memory)")
    parser.add_argument(
        "--schemas", default=None, help="schema export directory to validate events against"
    )
    parser.add_argument("--quiet", action="store_true", help="do not print each event")
    parser.add_argument(
        "--token",
        default=None,
        help=f"require 'Authorization: Bearer TOKEN' (or set {TOKEN_ENV}; the environment "
        "keeps it out of the process list)",
    )
    parser.add_argument(
        "--allow-host",
        action="append",
        default=None,
        metavar="NAME",
        help="accept this Host header name too (repeatable); default: loopback names only "
        "when listening on loopback",
    )
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
    token = args.token or os.environ.get(TOKEN_ENV) or None
    allowed = None
    if args.allow_host:
        base = ["localhost", "127.0.0.1", "::1", "[::1]"] if is_loopback(args.host) else []
        allowed = [*base, *(name.lower() for name in args.allow_host)]
    if not is_loopback(args.host):
        print(
            f"cs-sdk collector: warning: listening on {args.host} accepts events from other "
            f"machines{'' if token else '; set --token or ' + TOKEN_ENV}",
            file=sys.stderr,
            flush=True,
        )
    try:
        collector = LocalCollector(
            args.host,
            args.port,
            db=args.db,
            printer=None if args.quiet else sys.stdout,
            schemas=validator,
            token=token,
            allowed_hosts=allowed,
            keep=0,  # a long-running collector keeps counters, not every record
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
        print(f"cs-sdk collector listening on {collector.endpoint}", flush=True)
        print(f'pass endpoint="{collector.endpoint}" (OTLP logs arrive at /v1/logs)', flush=True)
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
    print(
        f"\nreceived {collector.received_total} events, {collector.duplicates} duplicates",
        flush=True,
    )
    if validator is not None:
        print(validator.report(), flush=True)
    return 0
