"""docs/production.md's promise on the demo's own events: the report from the OpenTelemetry
Collector ClickHouse exporter's ``otel_logs`` (on chdb, the in-process ClickHouse, with the
exporter's own table definition) has the same figures as the report from ``cs-sdk
collector``'s SQLite file."""

from __future__ import annotations

import datetime as dt
import json
import re
import sqlite3
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from cs_sdk._demo import run_demo
from cs_sdk.report import ClickHouseExecutor, build_report, open_sqlite

# The exporter's CREATE TABLE template (vendored by the report's tests from the exporter).
DDL = Path(__file__).parents[1] / "report" / "otel_logs.sql"
INSERT_BATCH = 400  # rows per INSERT: chdb's default max_query_size is 256 KiB


def _as_string(value: Any) -> str:
    # What the exporter stores in a Map(String, String): pcommon.Value.AsString().
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value) if value != int(value) else str(int(value))
    if isinstance(value, (list, dict)):
        return json.dumps(value, separators=(",", ":"))
    return str(value)


class ChdbQuery:
    """``query(sql, params) -> rows`` on a chdb session (what clickhouse-connect does)."""

    def __init__(self, session: Any) -> None:
        self.session = session

    def __call__(self, sql: str, params: Mapping[str, Any]) -> list[list[Any]]:
        text = self.session.query(sql, "JSONCompact", params=dict(params)).bytes()
        return json.loads(text)["data"] if text else []


def copy_to_otel_logs(events_db: Path, session: Any) -> int:
    """Every event the local collector stored, as the ClickHouse exporter writes it."""
    values = iter(['"default"', '"otel_logs"', "", "MergeTree()", ""])
    session.query(re.sub(r"%[qs]", lambda _m: next(values), DDL.read_text()))
    with sqlite3.connect(events_db) as conn:
        rows = conn.execute(
            # A row's resource: the shared one of its request, or (an older collector's
            # rows) its own.
            "SELECT time_unix_nano, event_name, service_name, attributes, "
            "coalesce(resources.resource, events.resource) "
            "FROM events LEFT JOIN resources ON resources.id = events.resource_id "
            "ORDER BY events.id"
        ).fetchall()
    conn.close()
    for start in range(0, len(rows), INSERT_BATCH):
        lines = [
            json.dumps(
                {
                    "t": t,
                    "e": event_name,
                    "s": service or "",
                    "a": {k: _as_string(v) for k, v in json.loads(attributes).items()},
                    "r": {k: _as_string(v) for k, v in json.loads(resource or "{}").items()},
                }
            )
            for t, event_name, service, attributes, resource in rows[start : start + INSERT_BATCH]
        ]
        session.query(
            "INSERT INTO otel_logs (Timestamp, EventName, ServiceName, SeverityText, "
            "SeverityNumber, LogAttributes, ResourceAttributes) "
            "SELECT fromUnixTimestamp64Nano(t), e, s, 'INFO', 9, a, r FROM format(JSONEachRow, "
            "'t Int64, e String, s String, a Map(String, String), r Map(String, String)', "
            "$cs$" + "\n".join(lines) + "$cs$)"
        )
    return len(rows)


def differences(a: Any, b: Any, path: str = "") -> list[str]:
    """Where two JSON documents differ (floats within a relative 1e-9)."""
    if isinstance(a, dict) and isinstance(b, dict):
        keys = sorted(set(a) | set(b))
        return [d for k in keys for d in differences(a.get(k), b.get(k), f"{path}.{k}")]
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        pairs = enumerate(zip(a, b, strict=True))
        return [d for i, (x, y) in pairs for d in differences(x, y, f"{path}[{i}]")]
    if isinstance(a, float) and isinstance(b, (int, float)):
        return [] if b == pytest.approx(a, rel=1e-9, abs=1e-9) else [f"{path}: {a} != {b}"]
    return [] if a == b else [f"{path}: {a!r} != {b!r}"]


def compare(directory: Path) -> dict[str, Any]:
    """Run the demo into ``directory`` and build its report from both stores."""
    from chdb import session

    demo = run_demo(directory, today=dt.date(2026, 3, 2))
    chdb_session = session.Session(str(directory / "chdb"))
    try:
        copied = copy_to_otel_logs(demo.paths.events_db, chdb_session)
        # Every copied row carries its resource, as the exporter writes it.
        (with_resource,) = ChdbQuery(chdb_session)(
            "SELECT count() FROM otel_logs WHERE ResourceAttributes['service.name'] != ''", {}
        )[0]
        sqlite = open_sqlite(demo.paths.events_db)
        try:
            from_sqlite = build_report(sqlite, config=demo.paths.document).to_dict()
        finally:
            sqlite.close()
        from_clickhouse = build_report(
            ClickHouseExecutor(ChdbQuery(chdb_session)), config=demo.paths.document
        ).to_dict()
    finally:
        chdb_session.close()
    for document in (from_sqlite, from_clickhouse):
        document.pop("generated_at")
    return {
        "stored": demo.stored,
        "copied": copied,
        "with_resource": int(with_resource),
        "events": from_sqlite["events"],
        "differences": differences(from_sqlite, from_clickhouse),
    }


def test_the_demo_report_is_the_same_from_sqlite_and_from_the_exporters_table(
    tmp_path: Path,
) -> None:
    # In a child process: chdb's engine stays resident (~500 MB) once loaded, and would
    # inflate every later memory measurement of this test process and of its children.
    child = subprocess.run(
        [sys.executable, __file__, str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert child.returncode == 0, child.stderr[-3000:]
    result = json.loads(child.stdout.splitlines()[-1])
    assert result["copied"] == result["stored"] == result["events"] > 5000
    assert result["with_resource"] == result["copied"]
    assert result["differences"] == []


if __name__ == "__main__":
    print(json.dumps(compare(Path(sys.argv[1]))))
