"""python -m bench.collector_ingest [--events N] [--clients K]

How fast ``cs-sdk collector`` stores what the SDK delivers: K SDK clients (separate
processes, one by default) send N events each, first to the bench's counting sink (the SDK's
delivery rate, the baseline), then to a ``cs-sdk collector --db`` child process. Printed: both
rates, their ratio, and that every event id is stored exactly once. Issue 12 asks for at least
50,000 events/s from one client on loopback.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sqlite3
import subprocess
import sys
import tempfile
import time
from contextlib import closing
from pathlib import Path

from ._sink import Sink

ROOT = Path(__file__).resolve().parent.parent

# One SDK client in a fresh process: record N milestones as a product would (identity,
# a pilot, a property), flush, print the wall time from the first call to the flush's end.
SENDER = r"""
import json, sys, time
import cs_sdk
endpoint, events, tag = sys.argv[1], int(sys.argv[2]), sys.argv[3]
client = cs_sdk.Client(environ={}, endpoint=endpoint)
started = time.perf_counter()
for n in range(events):
    client.milestone(
        "report_created", user_id=f"{tag}-u{n % 500}", account_id=f"acct{n % 50}",
        properties={"pages": n % 7, "source": "bench"},
    )
ok = client.flush(timeout=300)
elapsed = time.perf_counter() - started
cpu = time.process_time()
stats = client.stats()
client.shutdown()
print(json.dumps({"ok": ok, "elapsed": elapsed, "sent": stats["sent"], "cpu": cpu,
                  "dropped": stats["dropped_total"]}))
"""


def _cpu_seconds(pid: int) -> float | None:
    """User + system CPU seconds of a running process (Linux /proc), else None."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _environ() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "CS_SDK_"))}
    for name in ("http_proxy", "https_proxy", "all_proxy", "no_proxy"):
        env.pop(name, None)
        env.pop(name.upper(), None)
    return env


def send(endpoint: str, events: int, clients: int) -> tuple[float, int, float]:
    """Run ``clients`` sender processes at once; (wall seconds of the slowest, events sent,
    the senders' CPU seconds)."""
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", SENDER, endpoint, str(events), f"c{n}"],
            stdout=subprocess.PIPE,
            text=True,
            env=_environ(),
            cwd=ROOT,
        )
        for n in range(clients)
    ]
    results = []
    for process in processes:
        out, _ = process.communicate(timeout=600)
        results.append(json.loads(out.strip().splitlines()[-1]))
    if not all(r["ok"] and r["dropped"] == 0 for r in results):
        raise SystemExit(f"a sender did not deliver everything: {results}")
    return (
        max(r["elapsed"] for r in results),
        sum(r["sent"] for r in results),
        sum(r["cpu"] for r in results),
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.collector_ingest")
    # Up to the SDK's queue (100,000 events): more, recorded in a burst, is dropped by design.
    parser.add_argument("--events", type=int, default=100_000, help="events per client")
    parser.add_argument("--clients", type=int, default=1, help="SDK client processes")
    args = parser.parse_args(argv)

    with Sink() as sink:
        sink_seconds, sink_sent, sink_cpu = send(sink.url, args.events, args.clients)
    sink_rate = sink_sent / sink_seconds

    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "events.db"
        collector = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "cs_sdk.cli",
                "collector",
                "--port",
                "0",
                "--quiet",
                "--db",
                str(db),
            ],
            stdout=subprocess.PIPE,
            text=True,
            cwd=ROOT,
        )
        try:
            assert collector.stdout is not None
            found = re.search(r"listening on (\S+)", collector.stdout.readline())
            assert found, "the collector did not start"
            started, idle = time.perf_counter(), _cpu_seconds(collector.pid)
            seconds, sent, sender_cpu = send(found.group(1), args.events, args.clients)
            wall = time.perf_counter() - started
            busy = _cpu_seconds(collector.pid)
        finally:
            collector.terminate()
            collector.wait(timeout=60)
        with closing(sqlite3.connect(db)) as reader:
            stored, distinct = reader.execute(
                "SELECT count(*), count(DISTINCT event_id) FROM events"
            ).fetchone()
    rate = sent / seconds
    print(f"clients: {args.clients}, events per client: {args.events:,}")
    print(f"SDK delivery to the counting sink: {sink_rate:,.0f} events/s")
    print(f"SDK delivery to cs-sdk collector --db: {rate:,.0f} events/s (stored, acknowledged)")
    print(f"ratio collector / sink: {rate / sink_rate:.2f}")
    # CPU per event: steadier than rates on a shared machine. With a core each, the
    # collector keeps up with one client when its figure is at most the client's.
    print(
        f"CPU per event: SDK client {sink_cpu / sink_sent * 1e6:.1f} µs (to the sink), "
        f"{sender_cpu / sent * 1e6:.1f} µs (to the collector)"
        + (
            f"; collector {(busy - idle) / sent * 1e6:.1f} µs, "
            f"i.e. {sent / (busy - idle):,.0f} events/s on one core"
            if busy is not None and idle is not None and busy > idle
            else ""
        )
    )
    print(f"stored {stored:,} rows, {distinct:,} distinct ids, sent {sent:,} (wall {wall:.1f} s)")
    return 0 if stored == distinct == sent else 1


if __name__ == "__main__":
    sys.exit(main())
