"""``cs-sdk collector``: run the local OTLP/HTTP receiver in the foreground."""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from typing import Any

from ..collector import LocalCollector


def register(commands: Any) -> None:
    parser = commands.add_parser(
        "collector", help="receive OTLP/HTTP logs locally, print and store them"
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument("--port", type=int, default=4318, help="port (0 picks a free one)")
    parser.add_argument("--db", help="SQLite file to store events in")
    parser.add_argument("--schemas", help="schema export directory to validate events against")
    parser.add_argument("--quiet", action="store_true", help="do not print each event")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    validator = None
    if args.schemas:
        from ..events._validator import SchemaValidator

        validator = SchemaValidator(args.schemas)
    collector = LocalCollector(
        args.host,
        args.port,
        db=args.db,
        printer=None if args.quiet else sys.stdout,
        schemas=validator,
    )
    stop = threading.Event()

    def request_stop(signum: int, frame: object) -> None:
        stop.set()

    previous = signal.signal(signal.SIGTERM, request_stop)
    with collector:
        print(f"cs-sdk collector listening on {collector.endpoint}/v1/logs", flush=True)
        if args.db:
            print(f"storing events in {args.db}", flush=True)
        try:
            while not stop.wait(0.5):
                pass
        except KeyboardInterrupt:
            pass
        count = len(collector.records)
    signal.signal(signal.SIGTERM, previous)
    print(f"\nreceived {count} events", flush=True)
    if validator is not None:
        print(validator.report(), flush=True)
    return 0
