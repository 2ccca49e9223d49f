"""The SQLite tables ``cs-sdk collector --db`` writes, and bringing an older file up to date.

- ``events``: one row per event, the mapped fields as columns (see ``_store``);
- ``resources``: each distinct resource (service name, SDK, host...) once, as JSON, which
  ``events.resource_id`` points at. A request's events share one resource: stored per row
  it was ~130 bytes and a bound value per event;
- ``event_pilots``: one row per (event, pilot) with its cohort, indexed by pilot.

Indexes cost every insert (each ~20% of it). Only ``events (event_name)`` is kept: every
statement of the report starts from one event name; ``cs-sdk tail`` reads new rows by id.
User, account and time indexes were maintained once and are dropped (the report joins on
those columns through automatic indexes of its own, see ``report/_dialect.py``).

An older file (written before ``resources``) is migrated when the collector opens it, in
one transaction and in constant time: the ``resource_id`` column is added (its earlier
rows keep their ``resource`` text, which readers use when ``resource_id`` is NULL) and the
indexes no query uses are dropped. Nothing is rewritten, so a database of any size opens
at once, and an older collector can still append to it (its rows carry ``resource``).
"""

from __future__ import annotations

import sqlite3
from itertools import chain
from typing import Any

__all__ = [
    "CORE",
    "JOIN_RESOURCE",
    "OPTIONAL",
    "RESOURCE_SQL",
    "SHARED_RESOURCE",
    "insert_rows",
    "prepare",
]

_TABLES = """
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
    resource TEXT,
    resource_id INTEGER
);
CREATE TABLE IF NOT EXISTS resources (
    id INTEGER PRIMARY KEY,
    resource TEXT NOT NULL UNIQUE
);
CREATE TABLE IF NOT EXISTS event_pilots (
    event_rowid INTEGER NOT NULL,
    pilot_id TEXT NOT NULL,
    cohort TEXT
);
"""

_INDEXES = """
CREATE INDEX IF NOT EXISTS events_event_name ON events (event_name);
CREATE INDEX IF NOT EXISTS event_pilots_pilot ON event_pilots (pilot_id, event_rowid);
DROP INDEX IF EXISTS events_user_id;
DROP INDEX IF EXISTS events_account_id;
DROP INDEX IF EXISTS events_time;
DROP INDEX IF EXISTS events_event_id;
DROP INDEX IF EXISTS events_name_time;
"""

# Every event has these (the id first, the resource last, both filled in under the lock).
CORE = (
    "id", "received_at", "event_id", "event_name", "name", "schema_name", "schema_version",
    "time_unix_nano", "user_id", "account_id", "service_name", "body", "attributes",
    "resource_id",
)  # fmt: skip
# Most events have none of these: a row without them is inserted with CORE only (each
# bound value costs ~0.2 µs; an absent column is NULL without being bound).
OPTIONAL = (
    "session_id", "trace_id", "span_id", "pilot_ids", "pilot_cohorts", "feedback_kind",
    "feedback_score", "feedback_comment", "prompt_id", "product_area", "outcome_value",
    "outcome_unit",
)  # fmt: skip


def _insert(columns: tuple[str, ...]) -> str:
    return f"INSERT INTO events ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"


# SQLite before 3.32 takes at most 999 values per statement; the multi-row inserts stay
# under it on every version.
_MAX_VALUES = 999


def insert_rows(db: sqlite3.Connection, columns: tuple[str, ...], rows: list[list[Any]]) -> None:
    """Insert ``rows`` (values in ``columns`` order), many rows per statement.

    ``executemany`` runs one statement per row: a reset, a step and a release of the GIL
    each. ``INSERT ... VALUES (...), (...), ...`` of ~70 rows does that once for all of
    them: about a quarter less time per row (bench/collector_costs.py)."""
    if not rows:
        return
    per = max(1, _MAX_VALUES // len(columns))
    whole = len(rows) - len(rows) % per
    if whole:
        one = "(" + ", ".join("?" * len(columns)) + ")"
        statement = f"INSERT INTO events ({', '.join(columns)}) VALUES " + ", ".join([one] * per)
        for start in range(0, whole, per):
            db.execute(statement, list(chain.from_iterable(rows[start : start + per])))
    if whole < len(rows):
        db.executemany(_insert(columns), rows[whole:])


# For readers: the row's resource, shared or (rows of an earlier collector) its own.
SHARED_RESOURCE = "resources.resource AS shared_resource"
JOIN_RESOURCE = "LEFT JOIN resources ON resources.id = events.resource_id"
RESOURCE_SQL = (
    "INSERT OR IGNORE INTO resources (resource) VALUES (?)",
    "SELECT id FROM resources WHERE resource = ?",
)


def prepare(db: sqlite3.Connection) -> None:
    """Create the tables, or bring a file an earlier collector wrote up to date."""
    with db:
        db.execute("BEGIN IMMEDIATE")  # one writer migrates; another waits, then sees it done
        for statement in _statements(_TABLES):
            db.execute(statement)
        columns = {row[1] for row in db.execute("PRAGMA table_info(events)")}
        if "resource_id" not in columns:
            db.execute("ALTER TABLE events ADD COLUMN resource_id INTEGER")
        for statement in _statements(_INDEXES):
            db.execute(statement)


def _statements(script: str) -> list[str]:
    return [part.strip() for part in script.split(";") if part.strip()]
