"""The tables of :class:`~cs_sdk.state.SqliteStore` and the reads its parts share (each runs
inside the caller's transaction, on the caller's connection)."""

from __future__ import annotations

import sqlite3

from ._base import NO_HISTORY, PromptHistory

SCHEMA = """
CREATE TABLE IF NOT EXISTS cs_memberships (
    user_id TEXT NOT NULL, pilot_id TEXT NOT NULL, cohort TEXT, enrolled_at REAL NOT NULL,
    PRIMARY KEY (user_id, pilot_id)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS cs_milestones (
    user_id TEXT NOT NULL, name TEXT NOT NULL, reached_at REAL NOT NULL,
    PRIMARY KEY (user_id, name)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS cs_prompt_history (
    user_id TEXT NOT NULL, prompt_id TEXT NOT NULL, shows INTEGER NOT NULL DEFAULT 0,
    last_shown_at REAL, answered_at REAL, dismissed_at REAL,
    PRIMARY KEY (user_id, prompt_id)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS cs_users (
    user_id TEXT NOT NULL PRIMARY KEY, last_prompt_at REAL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS cs_pilot_exits (
    user_id TEXT NOT NULL, pilot_id TEXT NOT NULL, cohort TEXT, enrolled_at REAL NOT NULL,
    exited_at REAL NOT NULL, PRIMARY KEY (user_id, pilot_id)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS cs_feedback (
    feedback_id TEXT NOT NULL PRIMARY KEY, recorded_at REAL NOT NULL, summary TEXT NOT NULL
    ) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS cs_feedback_recorded_at ON cs_feedback (recorded_at);
CREATE TABLE IF NOT EXISTS cs_answers (
    user_id TEXT NOT NULL, response_id TEXT NOT NULL, answered_at REAL NOT NULL,
    answer TEXT NOT NULL, PRIMARY KEY (user_id, response_id)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS cs_opt_outs (
    user_id TEXT NOT NULL PRIMARY KEY, opted_out_at REAL NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS cs_versions (
    name TEXT NOT NULL PRIMARY KEY, version INTEGER NOT NULL) WITHOUT ROWID;
"""

# Bumped inside the transaction of the change it marks, so a reader that sees the new
# version also sees the change.
BUMP = (
    "INSERT INTO cs_versions VALUES (?, 1) ON CONFLICT (name) DO UPDATE SET version = version + 1"
)

HISTORY_COLUMNS = "shows, last_shown_at, answered_at, dismissed_at"


def prompt_history(conn: sqlite3.Connection, user_id: str, prompt_id: str) -> PromptHistory:
    row = conn.execute(
        f"SELECT {HISTORY_COLUMNS} FROM cs_prompt_history WHERE user_id=? AND prompt_id=?",
        (user_id, prompt_id),
    ).fetchone()
    return NO_HISTORY if row is None else PromptHistory(*row)


def last_prompt_at(conn: sqlite3.Connection, user_id: str) -> float | None:
    row = conn.execute("SELECT last_prompt_at FROM cs_users WHERE user_id=?", (user_id,)).fetchone()
    return None if row is None else row[0]


def opted_out_in(conn: sqlite3.Connection, user_id: str) -> bool:
    row = conn.execute("SELECT 1 FROM cs_opt_outs WHERE user_id=?", (user_id,)).fetchone()
    return row is not None
