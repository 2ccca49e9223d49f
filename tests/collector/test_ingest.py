"""Issue 12, the collector around the report: several SDK clients at once, every event
stored exactly once per delivery, and readers querying while it ingests."""

from __future__ import annotations

import contextlib
import sqlite3
import threading
from pathlib import Path

import cs_sdk

from ._child import ChildCollector

GUARD = 60.0
CLIENTS = 4
EVENTS = 2_500


def test_concurrent_sdk_clients_are_stored_exactly_once_while_readers_query(
    tmp_path: Path,
) -> None:
    db = tmp_path / "events.db"
    child = ChildCollector("--db", str(db))
    clients = [
        cs_sdk.Client(environ={}, endpoint=child.endpoint, max_export_batch_size=300)
        for _ in range(CLIENTS)
    ]
    done = threading.Event()
    reader_errors: list[BaseException] = []
    counts: list[int] = []

    def report_like_reader() -> None:
        # What ``cs-sdk report`` and ``cs-sdk tail`` do: read-only aggregate queries by
        # event name, user, account and time while the collector writes (WAL).
        uri = f"{db.resolve().as_uri()}?mode=ro"
        try:
            with contextlib.closing(sqlite3.connect(uri, uri=True, timeout=10)) as reader:
                while not done.is_set():
                    reader.execute(
                        "SELECT event_name, user_id, account_id, count(*), min(time_unix_nano) "
                        "FROM events GROUP BY 1, 2, 3"
                    ).fetchall()
                    counts.append(reader.execute("SELECT count(*) FROM events").fetchone()[0])
        except BaseException as error:  # reported below, not lost in the thread
            reader_errors.append(error)

    def work(index: int) -> None:
        client = clients[index]
        for n in range(EVENTS):
            client.milestone(
                "step", user_id=f"c{index}u{n % 9}", account_id=f"a{n % 3}", properties={"n": n}
            )

    reader = threading.Thread(target=report_like_reader)
    workers = [threading.Thread(target=work, args=(n,)) for n in range(CLIENTS)]
    try:
        reader.start()
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join(GUARD)
        for client in clients:
            assert client.flush(timeout=GUARD)
        sent = sum(client.stats()["sent"] for client in clients)
        dropped = sum(client.stats()["dropped_total"] for client in clients)
    finally:
        done.set()
        reader.join(GUARD)
        for client in clients:
            client.shutdown()
        code, out, _ = child.stop()
    assert code == 0
    assert (sent, dropped) == (CLIENTS * EVENTS, 0)
    assert reader_errors == []
    assert counts and counts == sorted(counts)  # readers saw the table grow, never shrink
    with contextlib.closing(sqlite3.connect(db)) as check:
        rows, distinct = check.execute(
            "SELECT count(*), count(DISTINCT event_id) FROM events"
        ).fetchone()
        per_user = check.execute("SELECT count(DISTINCT user_id) FROM events").fetchone()[0]
        plan = " ".join(
            str(row)
            for row in check.execute(
                "EXPLAIN QUERY PLAN SELECT count(*) FROM events WHERE event_name = 'cs.milestone'"
            )
        )
    assert rows == distinct == CLIENTS * EVENTS
    assert per_user == CLIENTS * 9
    assert "events_event_name" in plan  # the report's statements start from an event name
    assert f"received {CLIENTS * EVENTS} events, 0 duplicates" in out
