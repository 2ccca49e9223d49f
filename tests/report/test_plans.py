"""The report's SQLite plans stay linear in the number of events, checked without a clock.

A report over a million events once took 150 s instead of 7: the planner nested a lookup
of the answers inside a lookup of the feedback (each "about ten rows" to a planner without
statistics), reading feedback x answers rows. Two checks catch such a plan before anyone
times it: the plan itself (no loop over ``events`` inside another loop), and the work
SQLite does (its virtual-machine steps) on a pilot four times as large: about four times
the steps, not sixteen.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest

from bench import _pilot_events
from cs_sdk._prompts import parse_config
from cs_sdk.report import build_report, open_sqlite
from cs_sdk.report._dialect import Row, SqliteExecutor

# Indexes an earlier collector created (and the current one drops): a database it wrote
# must not lead the planner into a nested scan either.
EARLIER_INDEXES = (
    "CREATE INDEX events_event_id ON events (event_id)",
    "CREATE INDEX events_name_time ON events (event_name, time_unix_nano)",
)


class Recorder:
    """Runs the report's statements one at a time, keeping each with SQLite's step count."""

    workers = 1

    def __init__(self, inner: SqliteExecutor) -> None:
        self.inner = inner
        self.dialect = inner.dialect
        self.statements: list[tuple[str, dict[str, Any], int]] = []

    def query(self, sql: str, params: Mapping[str, Any]) -> list[Row]:
        db = self.inner._connection()
        steps = [0]

        def tick() -> int:
            steps[0] += 1
            return 0  # go on

        db.set_progress_handler(tick, 100)
        try:
            rows = self.inner.query(sql, params)
        finally:
            db.set_progress_handler(None, 0)
        self.statements.append((sql + self.dialect.suffix, dict(params), steps[0]))
        return rows


def _name(sql: str) -> str:
    # The statements share their opening common table expressions: named by their end.
    return "..." + sql[-100:]


def _report_statements(db: Path) -> Recorder:
    executor = open_sqlite(db)
    recorder = Recorder(executor)
    try:
        build_report(recorder, parse_config(_pilot_events.CONFIG), themes=False)
    finally:
        executor.close()
    return recorder


def _nested_event_loops(db: Path, sql: str, params: dict[str, Any]) -> list[str]:
    """The plan's loops over ``events`` that run inside another loop of the same SELECT."""
    with closing(sqlite3.connect(db)) as conn, conn:
        conn.create_function("cs_regexp", 2, lambda p, t: 0)
        plan = conn.execute("EXPLAIN QUERY PLAN " + sql, params).fetchall()
    loops: dict[int, list[str]] = {}
    for _id, parent, _unused, detail in plan:
        if detail.startswith(("SCAN ", "SEARCH ")) and "CONSTANT ROW" not in detail:
            loops.setdefault(parent, []).append(detail)
    return [
        f"{' -> '.join(group)}"
        for group in loops.values()
        if any(detail.split()[1] == "events" for detail in group[1:])
    ]


@pytest.mark.parametrize("indexes", ["collector", "earlier collector"])
def test_no_statement_of_the_report_loops_over_events_inside_another_loop(
    tmp_path: Path, indexes: str
) -> None:
    db = tmp_path / "events.db"
    _pilot_events.write(db, 60)
    if indexes == "earlier collector":
        with closing(sqlite3.connect(db)) as conn, conn:
            for statement in EARLIER_INDEXES:
                conn.execute(statement)
    recorder = _report_statements(db)
    assert len(recorder.statements) >= 15  # every figure's statement, not a short cut
    nested = [
        (_name(sql), found)
        for sql, params, _ in recorder.statements
        if (found := _nested_event_loops(db, sql, params))
    ]
    assert nested == []


def test_the_work_of_every_statement_grows_linearly_with_the_pilot(tmp_path: Path) -> None:
    small, large = tmp_path / "small.db", tmp_path / "large.db"
    _pilot_events.write(small, 150, events=3_000)
    _pilot_events.write(large, 600, events=12_000)
    runs = [_report_statements(small).statements, _report_statements(large).statements]
    assert [sql for sql, _, _ in runs[0]] == [sql for sql, _, _ in runs[1]]
    ratios = [
        (_name(sql), round(big / max(1, few), 1))
        for (sql, _, few), (_, _, big) in zip(runs[0], runs[1], strict=True)
        if big > 200  # a statement that does real work (steps counted by the hundred)
    ]
    assert len(ratios) >= 10  # the check saw the statements that matter
    # Four times the events: about four times the work (sorts add a log factor); a join
    # nested inside another would be about sixteen.
    assert [(name, r) for name, r in ratios if r > 7] == []
