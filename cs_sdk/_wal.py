"""The one rule for putting a SQLite file the SDK opens into WAL mode."""

from __future__ import annotations

import sqlite3
import time


def switch_to_wal(conn: sqlite3.Connection, deadline: float) -> None:
    """``PRAGMA journal_mode = WAL``, retried while SQLite answers "locked" until ``deadline``.

    The switch needs a moment of exclusive access. When several processes open a new file
    at once, SQLite can answer SQLITE_BUSY at once, without waiting in its busy handler
    (while another connection creates or recovers the WAL index, waiting could deadlock):
    tests/state/test_concurrency.py met it on a loaded machine, four processes starting
    together. A file already in WAL (the mode persists) needs no switch. Used by every
    SQLite file the SDK opens: the state store, the spool and the local collector's store.
    """
    delay = 0.005
    while True:
        try:
            if conn.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
                conn.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as error:
            if "locked" not in str(error) and "busy" not in str(error):
                raise
            if time.monotonic() + delay > deadline:
                raise
        time.sleep(delay)
        delay = min(delay * 2, 0.1)
