"""SqliteStore: one row per event, mapped fields as columns, a private WAL file."""

from __future__ import annotations

import contextlib
import json
import math
import sqlite3
import stat
import threading
from pathlib import Path
from typing import Any

import httpx

from cs_sdk.collector import LocalCollector, ReceivedRecord, SqliteStore
from cs_sdk.collector._store import to_json

from .conftest import ATTRIBUTES, RESOURCE, SPAN_ID, TIME, TRACE_ID, export_request, post


def record(attributes: dict[str, Any], body: Any = None, **fields: Any) -> ReceivedRecord:
    values: dict[str, Any] = {
        "resource": RESOURCE,
        "scope_name": "cs_sdk",
        "scope_version": "0.1.0",
        "time_unix_nano": TIME,
        "observed_time_unix_nano": TIME,
        "event_name": "cs.milestone",
        "severity_number": 9,
        "severity_text": "INFO",
        "body": body,
        "attributes": attributes,
        "trace_id": TRACE_ID,
        "span_id": SPAN_ID,
    }
    values.update(fields)
    return ReceivedRecord(**values)


FEEDBACK = {
    "cs.event.id": "ev-2",
    "cs.event.name": "nps",
    "cs.schema.name": "cs.feedback",
    "cs.schema.version": "1.0.0",
    "user.id": "u1",
    "cs.feedback.kind": "nps",
    "cs.feedback.score": 9,
    "cs.feedback.comment": "Love it",
    "cs.prompt.id": "nps-1",
    "cs.product.area": "reports",
}
OUTCOME = {"cs.event.id": "ev-3", "cs.event.name": "hours_saved", "cs.outcome.value": 4.5}


def test_the_mapped_fields_are_columns(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "events.db")
    stored = store.add(
        [
            record(ATTRIBUTES, {"pages": 3, "raw": b"\x00\xff", "ratio": math.nan}),
            record(FEEDBACK, event_name="cs.feedback", trace_id="", span_id=""),
            record({**OUTCOME, "cs.outcome.unit": "hours"}, event_name="cs.outcome"),
        ]
    )
    assert stored == 3
    assert store.count() == 3
    milestone, feedback, outcome = store.rows()
    store.close()

    assert milestone["id"] < feedback["id"] < outcome["id"]
    assert milestone["received_at"] > 0
    assert {key: milestone[key] for key in ("event_id", "event_name", "name")} == {
        "event_id": "ev-1",
        "event_name": "cs.milestone",
        "name": "first_report_created",
    }
    assert (milestone["schema_name"], milestone["schema_version"]) == ("cs.milestone", "1.0.0")
    assert milestone["time_unix_nano"] == TIME
    assert (milestone["user_id"], milestone["account_id"], milestone["session_id"]) == (
        "u1",
        "acme",
        "s9",
    )
    assert (milestone["trace_id"], milestone["span_id"]) == (TRACE_ID, SPAN_ID)
    assert milestone["service_name"] == "web"
    assert json.loads(milestone["pilot_ids"]) == ["p1", "p2"]
    assert json.loads(milestone["pilot_cohorts"]) == ["early", "control"]
    assert json.loads(milestone["body"]) == {
        "pages": 3,
        "raw": {"$base64": "AP8="},
        "ratio": "nan",
    }
    assert json.loads(milestone["attributes"]) == ATTRIBUTES
    assert json.loads(milestone["resource"]) == RESOURCE

    assert (feedback["trace_id"], feedback["span_id"], feedback["pilot_ids"]) == (None, None, None)
    assert [feedback[key] for key in ("feedback_kind", "feedback_score", "feedback_comment")] == [
        "nps",
        9,
        "Love it",
    ]
    assert (feedback["prompt_id"], feedback["product_area"]) == ("nps-1", "reports")
    assert (outcome["outcome_value"], outcome["outcome_unit"]) == (4.5, "hours")
    assert outcome["body"] is None


def test_odd_attribute_values_do_not_fail_the_batch(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "events.db")
    # time_unix_nano is a fixed64: it may be past SQLite's signed 64-bit integers.
    store.add([record({"user.id": ["not", "a", "string"]}, time_unix_nano=2**64 - 1)])
    (row,) = store.rows()
    store.close()
    # Each column takes its own type or NULL; the value as sent stays in ``attributes``.
    assert row["user_id"] is None
    assert json.loads(row["attributes"])["user.id"] == ["not", "a", "string"]
    assert row["time_unix_nano"] is None


def test_the_file_is_private_and_in_wal_mode_with_indexes(tmp_path: Path) -> None:
    path = tmp_path / "events.db"
    store = SqliteStore(path)
    store.add([record(ATTRIBUTES)])
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    for side in tmp_path.glob("events.db-*"):
        assert stat.S_IMODE(side.stat().st_mode) == 0o600
    with contextlib.closing(sqlite3.connect(path)) as reader:
        assert reader.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        indexed = {
            row[0]
            for row in reader.execute("SELECT sql FROM sqlite_master WHERE type = 'index'")
            if row[0]
        }
    reader.close()
    store.close()
    # Every report statement starts from an event name; no other index slows inserts
    # (the resources' UNIQUE has an index of its own, without SQL).
    assert any("events (event_name)" in sql for sql in indexed)
    assert len(indexed) == 2  # and event_pilots (pilot_id, event_rowid)


# The table as the collector created it before ``resources`` (each row its own resource).
OLDER_SCHEMA = """
CREATE TABLE events (
    id INTEGER PRIMARY KEY AUTOINCREMENT, received_at REAL NOT NULL, event_id TEXT,
    event_name TEXT, name TEXT, schema_name TEXT, schema_version TEXT,
    time_unix_nano INTEGER, user_id TEXT, account_id TEXT, session_id TEXT, trace_id TEXT,
    span_id TEXT, service_name TEXT, pilot_ids TEXT, pilot_cohorts TEXT, feedback_kind TEXT,
    feedback_score INTEGER, feedback_comment TEXT, prompt_id TEXT, product_area TEXT,
    outcome_value REAL, outcome_unit TEXT, body TEXT, attributes TEXT, resource TEXT
);
CREATE INDEX events_event_name ON events (event_name);
CREATE INDEX events_user_id ON events (user_id);
CREATE INDEX events_account_id ON events (account_id);
CREATE INDEX events_time ON events (time_unix_nano);
CREATE INDEX events_event_id ON events (event_id);
CREATE INDEX events_name_time ON events (event_name, time_unix_nano);
CREATE TABLE event_pilots (event_rowid INTEGER NOT NULL, pilot_id TEXT NOT NULL, cohort TEXT);
CREATE INDEX event_pilots_pilot ON event_pilots (pilot_id, event_rowid);
INSERT INTO events (received_at, event_id, event_name, name, user_id, attributes, resource)
VALUES (1.5, 'old-1', 'cs.milestone', 'signed_up', 'u0', '{}', '{"service.name": "old"}');
"""


def test_a_database_an_earlier_collector_wrote_is_migrated_and_keeps_its_rows(
    tmp_path: Path,
) -> None:
    path = tmp_path / "events.db"
    with contextlib.closing(sqlite3.connect(path)) as older:
        older.executescript(OLDER_SCHEMA)
    store = SqliteStore(path)
    store.add([record(ATTRIBUTES)])
    old, new = store.rows()
    store.close()
    assert (old["event_id"], old["resource"], old["resource_id"]) == (
        "old-1",
        '{"service.name": "old"}',
        None,
    )
    assert new["id"] == 2 and json.loads(new["resource"]) == RESOURCE
    with contextlib.closing(sqlite3.connect(path)) as reader:
        names = {row[0] for row in reader.execute("SELECT name FROM sqlite_master")}
    # The indexes no query uses are gone; the report's stays.
    assert names & {"events_user_id", "events_account_id", "events_time"} == set()
    assert "events_event_id" not in names and "events_name_time" not in names
    assert "events_event_name" in names
    # An older collector can still append: its rows carry their own resource.
    with contextlib.closing(sqlite3.connect(path)) as older:
        older.execute(
            "INSERT INTO events (received_at, event_id, resource) VALUES (2.0, 'old-2', '{}')"
        )
        older.commit()
    again = SqliteStore(path)
    again.add([record(ATTRIBUTES)])
    assert [(row["event_id"], row["resource"] is not None) for row in again.rows()][2:] == [
        ("old-2", True),
        (ATTRIBUTES["cs.event.id"], True),
    ]
    again.close()


def test_a_request_s_resource_is_stored_once(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "events.db")
    store.add([record({"cs.event.id": f"e{n}"}) for n in range(50)])
    store.add([record({"cs.event.id": "again"})])
    rows = store.rows()
    store.close()
    with contextlib.closing(sqlite3.connect(tmp_path / "events.db")) as reader:
        (resources,) = reader.execute("SELECT count(*) FROM resources").fetchone()
        (inline,) = reader.execute(
            "SELECT count(*) FROM events WHERE resource IS NOT NULL"
        ).fetchone()
    assert (resources, inline) == (1, 0)
    assert {row["resource"] for row in rows} == {to_json(RESOURCE)}


def test_iter_events_pages_by_id_and_a_reopened_store_appends(tmp_path: Path) -> None:
    path = tmp_path / "events.db"
    store = SqliteStore(path)
    store.add([record({"cs.event.id": f"e{index}"}) for index in range(5)])
    first = list(store.iter_events(limit=2))
    rest = list(store.iter_events(after_id=first[-1]["id"]))
    assert [row["event_id"] for row in first + rest] == [f"e{index}" for index in range(5)]
    store.close()
    store.close()  # harmless
    again = SqliteStore(path)
    again.add([record({"cs.event.id": "e5"})])
    assert again.count() == 6
    assert again.add([]) == 0
    again.close()


def test_concurrent_adds_are_all_stored(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "events.db")

    def add_many(thread: int) -> None:
        for index in range(50):
            store.add([record({"cs.event.id": f"{thread}-{index}"})] * 2)

    threads = [threading.Thread(target=add_many, args=(number,)) for number in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert store.count() == 8 * 50 * 2
    store.close()


def test_a_collector_with_a_db_stores_what_it_receives(tmp_path: Path) -> None:
    path = tmp_path / "collector.db"
    with LocalCollector(db=str(path)) as collector, httpx.Client(timeout=5) as http:
        assert post(http, collector, export_request()).status_code == 200
    store = SqliteStore(path)
    (row,) = store.rows()
    store.close()
    assert (row["event_id"], row["name"], row["user_id"]) == ("ev-1", "first_report_created", "u1")


def test_json_columns_are_the_text_json_dumps_writes() -> None:
    # The collector's JSON columns are read back by tail, the report and other tools: the
    # encoder built once for speed writes exactly what json.dumps does.
    values: list[Any] = [
        {"é": '\u2028 "quoted" \\ \x00', "n": [1, 2.5, -0.0, True, None, {"k": []}]},
        {"big": 2**70, "nested": {"a": {"b": {"c": [[], {}]}}}},
        ["a", 1e300, -(2**63)],
    ]
    for value in values:
        assert to_json(value) == json.dumps(value, ensure_ascii=False)
    assert to_json(None) is None
    assert json.loads(to_json({"raw": b"\x00\xff", "x": math.inf}) or "") == {
        "raw": {"$base64": "AP8="},
        "x": "inf",
    }


def test_a_large_mixed_batch_is_stored_in_order_with_every_value(tmp_path: Path) -> None:
    # Enough rows for the multi-row inserts and their remainder, plain events (the core
    # columns) mixed with feedback (every column).
    records = [
        record({"cs.event.id": f"e{n}", "user.id": f"u{n}"}, trace_id="", span_id="")
        if n % 3
        else record(
            {"cs.event.id": f"e{n}", "cs.feedback.kind": "nps", "cs.feedback.score": n % 11}
        )
        for n in range(1000)
    ]
    store = SqliteStore(tmp_path / "events.db")
    assert store.add(records) == 1000
    rows = store.rows()
    store.close()
    assert [row["id"] for row in rows] == list(range(1, 1001))
    assert [row["event_id"] for row in rows] == [f"e{n}" for n in range(1000)]
    assert [row["user_id"] for row in rows] == [f"u{n}" if n % 3 else None for n in range(1000)]
    assert [(row["feedback_score"], row["trace_id"]) for row in rows] == [
        (None, None) if n % 3 else (n % 11, TRACE_ID) for n in range(1000)
    ]
    assert {row["resource"] for row in rows} == {to_json(RESOURCE)}
