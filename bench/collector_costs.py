"""python -m bench.collector_costs [--events N] [--profile]

Where the collector's time goes per event, in one process with no network: the bodies the
SDK really sends (captured from a real ``cs_sdk.Client`` against an in-process collector),
then timed step by step on one thread: gunzip + decode into records, building the rows, the
SQLite insert, and the whole ``decode + store`` a worker thread does per request.
``--profile`` prints cProfile's top functions for the whole step.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from cs_sdk.collector import LocalCollector, _handler
from cs_sdk.collector._decode import decode_export_request
from cs_sdk.collector._store import SqliteStore

Body = tuple[bytes, str | None, str | None]


def capture(events: int) -> list[Body]:
    """The request bodies an SDK client sends for ``events`` milestones (as the ingest
    bench records them)."""
    import cs_sdk

    bodies: list[Body] = []
    original = _handler.decode_export_request

    def recording(body: bytes, **kwargs: Any) -> Any:
        bodies.append((body, kwargs["content_type"], kwargs["content_encoding"]))
        return original(body, **kwargs)

    # Bench-only capture of what arrives; the collector itself is unchanged.
    _handler.decode_export_request = recording  # type: ignore[assignment]
    try:
        with LocalCollector(keep=0) as collector:
            client = cs_sdk.Client(environ={}, endpoint=collector.endpoint)
            for n in range(events):
                client.milestone(
                    "report_created",
                    user_id=f"c0-u{n % 500}",
                    account_id=f"acct{n % 50}",
                    properties={"pages": n % 7, "source": "bench"},
                )
            client.flush(timeout=120)
            client.shutdown()
    finally:
        _handler.decode_export_request = original  # type: ignore[assignment]
    return bodies


def _best(step: Any, repeat: int) -> tuple[float, float]:
    """The fastest of ``repeat`` runs: (wall seconds, CPU seconds of this process). CPU time
    is the steadier figure on a loaded machine; the step runs on one thread."""
    times = []
    for _ in range(repeat):
        started, cpu = time.perf_counter(), time.process_time()
        step()
        times.append((time.perf_counter() - started, time.process_time() - cpu))
    return min(t[0] for t in times), min(t[1] for t in times)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.collector_costs")
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args(argv)

    bodies = capture(args.events)
    decoded = [decode_export_request(b, content_type=t, content_encoding=e) for b, t, e in bodies]
    count = sum(len(r) for r in decoded)
    print(f"{len(bodies)} requests, {count:,} events, load average {os.getloadavg()[0]:.1f}")

    def decode() -> None:
        for body, kind, encoding in bodies:
            decode_export_request(body, content_type=kind, content_encoding=encoding)

    with tempfile.TemporaryDirectory() as tmp:
        dbs = iter(range(1_000_000))

        def store_only() -> None:
            store = SqliteStore(Path(tmp) / f"s{next(dbs)}.db")
            for records in decoded:
                store.add(records)
            store.close()

        def whole() -> None:
            store = SqliteStore(Path(tmp) / f"w{next(dbs)}.db")
            for body, kind, encoding in bodies:
                store.add(decode_export_request(body, content_type=kind, content_encoding=encoding))
            store.close()

        if args.profile:
            profile = cProfile.Profile()
            profile.runcall(whole)
            pstats.Stats(profile, stream=sys.stdout).sort_stats("tottime").print_stats(18)
        print(f"{'µs/event':24} {'wall':>7} {'CPU':>7}")
        steps = (
            ("decode", decode),
            ("store (rows + insert)", store_only),
            ("decode + store", whole),
        )
        for label, step in steps:
            seconds, cpu = _best(step, args.repeat)
            print(f"{label:24} {seconds / count * 1e6:7.2f} {cpu / count * 1e6:7.2f}")
        print(
            f"one thread, decode + store: {count / seconds:,.0f} events/s wall, "
            f"{count / cpu:,.0f} events/s of CPU"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
