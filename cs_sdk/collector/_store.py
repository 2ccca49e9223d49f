"""SQLite storage of received events, one row per event with the mapped fields as columns.

    store = SqliteStore("events.db")       # WAL mode, file created 0600
    store.add(records)                      # one transaction
    for row in store.iter_events(after_id=last_id):
        print(row["id"], row["event_name"], row["name"], row["user_id"])
    store.close()

JSON columns (``body``, ``attributes``, ``resource``, ``pilot_ids``, ``pilot_cohorts``) hold
bytes as ``{"$base64": "..."}`` and non-finite floats as strings (``"nan"``), since JSON has
neither. Readers such as ``cs-sdk tail`` and ``cs-sdk report`` query this table directly.
"""

from __future__ import annotations

import base64
import json
import math
import os
import sqlite3
import threading
import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from .. import _attributes as attr
from ._decode import ReceivedRecord

_SCHEMA = """
CREATE TABLE IF NOT EXISTS events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    received_at REAL NOT NULL,
    event_id TEXT,
    event_name TEXT,
    name TEXT,
    schema_name TEXT,
    schema_version TEXT,
    time_unix_nano INTEGER,
    user_id TEXT,
    account_id TEXT,
    session_id TEXT,
    trace_id TEXT,
    span_id TEXT,
    service_name TEXT,
    pilot_ids TEXT,
    pilot_cohorts TEXT,
    feedback_kind TEXT,
    feedback_score INTEGER,
    feedback_comment TEXT,
    prompt_id TEXT,
    product_area TEXT,
    outcome_value REAL,
    outcome_unit TEXT,
    body TEXT,
    attributes TEXT,
    resource TEXT
);
CREATE INDEX IF NOT EXISTS events_event_name ON events (event_name);
CREATE INDEX IF NOT EXISTS events_user_id ON events (user_id);
CREATE INDEX IF NOT EXISTS events_account_id ON events (account_id);
CREATE INDEX IF NOT EXISTS events_event_id ON events (event_id);
"""

_COLUMNS = (
    "received_at", "event_id", "event_name", "name", "schema_name", "schema_version",
    "time_unix_nano", "user_id", "account_id", "session_id", "trace_id", "span_id",
    "service_name", "pilot_ids", "pilot_cohorts", "feedback_kind", "feedback_score",
    "feedback_comment", "prompt_id", "product_area", "outcome_value", "outcome_unit",
    "body", "attributes", "resource",
)  # fmt: skip


def _jsonable(value: Any) -> Any:
    if isinstance(value, bytes):
        return {"$base64": base64.b64encode(value).decode()}
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, dict):
        return {key: _jsonable(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_jsonable(item) for item in value]
    return value


def to_json(value: Any) -> str | None:
    """``value`` as JSON text for a JSON column; None stays NULL."""
    return None if value is None else json.dumps(_jsonable(value), ensure_ascii=False)


_INT64 = range(-(2**63), 2**63)


def _scalar(value: Any) -> Any:
    # The columns come from a sender's attributes, which may hold any AnyValue: a list or
    # an int past SQLite's range would fail the whole batch, so those go in as JSON text.
    if value is None or isinstance(value, (str, float, bytes)):
        return value
    if isinstance(value, int) and value in _INT64:
        return value
    return to_json(value)


def _row(record: ReceivedRecord, received_at: float) -> tuple[Any, ...]:
    a = record.attributes
    scalars = (
        a.get(attr.EVENT_ID), record.event_name, a.get(attr.EVENT_NAME),
        a.get(attr.SCHEMA_NAME), a.get(attr.SCHEMA_VERSION), record.time_unix_nano,
        a.get(attr.USER_ID), a.get(attr.ACCOUNT_ID), a.get(attr.SESSION_ID),
        record.trace_id or None, record.span_id or None, record.service_name,
    )  # fmt: skip
    feedback_and_outcome = (
        a.get(attr.FEEDBACK_KIND), a.get(attr.FEEDBACK_SCORE), a.get(attr.FEEDBACK_COMMENT),
        a.get(attr.PROMPT_ID), a.get(attr.PRODUCT_AREA), a.get(attr.OUTCOME_VALUE),
        a.get(attr.OUTCOME_UNIT),
    )  # fmt: skip
    return (
        received_at,
        *map(_scalar, scalars),
        to_json(a.get(attr.PILOT_IDS)),
        to_json(a.get(attr.PILOT_COHORTS)),
        *map(_scalar, feedback_and_outcome),
        to_json(record.body),
        to_json(a),
        to_json(record.resource),
    )


class SqliteStore:
    """Received events in a SQLite file (WAL mode, created 0600). Thread-safe."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        if str(path) != ":memory:" and not self.path.exists():
            # Created private before SQLite opens it: events carry user ids and comments.
            os.close(os.open(self.path, os.O_CREAT | os.O_WRONLY, 0o600))
        self._lock = threading.Lock()
        # One connection shared by the server's handler threads, serialised by the lock.
        self._db = sqlite3.connect(str(path), check_same_thread=False, timeout=10)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(_SCHEMA)
        for suffix in ("-wal", "-shm"):
            side = Path(f"{self.path}{suffix}")
            if side.exists():
                os.chmod(side, 0o600)

    def add(self, records: Iterable[ReceivedRecord]) -> int:
        """Store records in one transaction; returns how many."""
        now = time.time()
        rows = [_row(record, now) for record in records]
        if not rows:
            return 0
        placeholders = ",".join("?" * len(_COLUMNS))
        with self._lock, self._db:
            self._db.executemany(
                f"INSERT INTO events ({','.join(_COLUMNS)}) VALUES ({placeholders})", rows
            )
        return len(rows)

    def count(self) -> int:
        """How many events are stored."""
        with self._lock:
            return int(self._db.execute("SELECT count(*) FROM events").fetchone()[0])

    def iter_events(self, after_id: int = 0, limit: int = 1000) -> Iterator[dict[str, Any]]:
        """Up to ``limit`` stored events with ``id > after_id``, in arrival order, as dicts
        (column name -> value); ``limit=-1`` for all. Page with the last row's ``id``."""
        with self._lock:
            cursor = self._db.execute(
                "SELECT * FROM events WHERE id > ? ORDER BY id LIMIT ?", (after_id, limit)
            )
            names = [column[0] for column in cursor.description]
            rows = cursor.fetchall()
        for row in rows:
            yield dict(zip(names, row, strict=True))

    def rows(self) -> list[dict[str, Any]]:
        """Every stored event, in arrival order."""
        return list(self.iter_events(limit=-1))

    def close(self) -> None:
        """Close the database; calling it again is harmless."""
        with self._lock:
            self._db.close()
