"""``SqliteStore``: the default for a single host, safe with several processes.

    >>> store = SqliteStore("/tmp/cs_state.db")   # doctest: +SKIP
    >>> store.try_show("u1", "nps", time.time(), ShowRules(max_shows=1))   # doctest: +SKIP
    True

Several processes (gunicorn workers, cron jobs) may open the same file. WAL mode lets readers
run beside a writer; ``busy_timeout`` makes a writer wait for the lock instead of failing;
:meth:`SqliteStore.try_show` runs in a ``BEGIN IMMEDIATE`` transaction, which takes the
write lock *before* reading, so two processes can never both pass the check.

A connection never crosses a fork: the child of a fork opens its own on first use, and
the lock a parent thread may have held at that moment is replaced (see ``cs_sdk/_fork.py``).
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from .._fork import register_for_fork
from .._private_files import open_private_file, same_file, tighten_sidecars
from ._base import (
    NO_HISTORY,
    Membership,
    PilotPeriod,
    PromptHistory,
    ShowRules,
    UserState,
    Versions,
)

__all__ = ["SqliteStore"]

_SCHEMA = """
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
CREATE TABLE IF NOT EXISTS cs_opt_outs (
    user_id TEXT NOT NULL PRIMARY KEY, opted_out_at REAL NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS cs_versions (
    name TEXT NOT NULL PRIMARY KEY, version INTEGER NOT NULL) WITHOUT ROWID;
"""

# Bumped inside the transaction of the change it marks, so a reader that sees the new
# version also sees the change.
_BUMP = (
    "INSERT INTO cs_versions VALUES (?, 1) ON CONFLICT (name) DO UPDATE SET version = version + 1"
)

_HISTORY_COLUMNS = "shows, last_shown_at, answered_at, dismissed_at"

# Connections a forked child inherited. They are kept referenced for the life of the
# process and never used: closing one (which garbage collection would do) may checkpoint
# the WAL from a copy of the parent's lock state. The spool does the same.
_INHERITED: list[sqlite3.Connection] = []


class SqliteStore:
    """A :class:`~cs_sdk.state.StateStore` in one SQLite file.

    Args:
        path: the database file; created with mode 0600 (it holds user ids) if missing, an
            existing one tightened to 0600; a symbolic link there is refused.
        busy_timeout: seconds a writer waits for another process's lock.
    """

    def __init__(self, path: str | os.PathLike[str], *, busy_timeout: float = 5.0) -> None:
        self.path = Path(path)
        self._busy_timeout = busy_timeout
        self._closed = False
        self._lock = threading.Lock()
        self._pid = os.getpid()
        self._conn: sqlite3.Connection | None = self._connect()
        register_for_fork(self)

    def _reinit_after_fork(self) -> None:
        # A parent thread may have held the lock, or been inside a transaction on the
        # connection, when the process forked: the child gets a new lock and, on first use,
        # a connection of its own.
        self._lock = threading.Lock()
        if self._conn is not None and self._pid != os.getpid():
            _INHERITED.append(self._conn)
            self._conn = None
        self._pid = os.getpid()

    def __repr__(self) -> str:
        return f"SqliteStore({str(self.path)!r})"

    def _connect(self) -> sqlite3.Connection:
        # The directory is the application's (its mode is its owner's choice); the file is
        # ours: created 0600, or an existing one checked and tightened at every open, its
        # -wal/-shm too, and a symbolic link refused (see _private_files.py).
        self.path.parent.mkdir(parents=True, exist_ok=True)
        checked = open_private_file(self.path)
        conn = sqlite3.connect(
            self.path,
            timeout=self._busy_timeout,
            isolation_level=None,  # explicit BEGIN: we decide where transactions start
            check_same_thread=False,  # shared by the caller's threads and the worker, locked
        )
        conn.execute(f"PRAGMA busy_timeout = {int(self._busy_timeout * 1000)}")
        # Switching to WAL needs a moment of exclusive access; with many processes starting
        # at once the busy handler covers it.
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = NORMAL")
        try:
            same_file(self.path, checked)  # SQLite opened the file checked above
            tighten_sidecars(self.path)  # and the -wal/-shm it created are private
        except BaseException:
            conn.close()
            raise
        conn.execute("BEGIN IMMEDIATE")
        try:
            for statement in _SCHEMA.split(";"):
                if statement.strip():
                    conn.execute(statement)
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        return conn

    @contextmanager
    def _cursor(self, *, write: bool = False) -> Iterator[sqlite3.Connection]:
        with self._lock:
            if self._pid != os.getpid():
                # Forked without the hook having run (it always should): same as the hook.
                if self._conn is not None:
                    _INHERITED.append(self._conn)
                self._pid, self._conn = os.getpid(), None
            conn = self._conn
            if conn is None:
                if self._closed:
                    raise sqlite3.ProgrammingError("Cannot operate on a closed database.")
                conn = self._conn = self._connect()
            if not write:
                yield conn
                return
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")

    def put_membership(self, user_id: str, membership: Membership) -> tuple[Membership, bool]:
        with self._cursor(write=True) as conn:
            if _opted_out(conn, user_id):
                return membership, False  # nothing new is stored about an opted-out user
            row = conn.execute(
                "SELECT cohort, enrolled_at FROM cs_memberships WHERE user_id=? AND pilot_id=?",
                (user_id, membership.pilot),
            ).fetchone()
            if row is not None:
                old = Membership.from_ts(membership.pilot, row[0], row[1])
                if old.cohort == membership.cohort:
                    return old, False
                conn.execute(
                    "UPDATE cs_memberships SET cohort=? WHERE user_id=? AND pilot_id=?",
                    (membership.cohort, user_id, membership.pilot),
                )
                conn.execute(_BUMP, ("memberships",))
                return Membership(membership.pilot, membership.cohort, old.enrolled_at), True
            conn.execute(
                "INSERT INTO cs_memberships VALUES (?, ?, ?, ?)",
                (user_id, membership.pilot, membership.cohort, membership.enrolled_ts),
            )
            conn.execute(_BUMP, ("memberships",))
            return membership, True

    def remove_membership(
        self, user_id: str, pilot_id: str, at: float | None = None
    ) -> Membership | None:
        exited_at = time.time() if at is None else at
        with self._cursor(write=True) as conn:
            row = conn.execute(
                "SELECT cohort, enrolled_at FROM cs_memberships WHERE user_id=? AND pilot_id=?",
                (user_id, pilot_id),
            ).fetchone()
            if row is None:
                return None
            conn.execute(
                "DELETE FROM cs_memberships WHERE user_id=? AND pilot_id=?", (user_id, pilot_id)
            )
            conn.execute(
                "INSERT OR REPLACE INTO cs_pilot_exits VALUES (?, ?, ?, ?, ?)",
                (user_id, pilot_id, row[0], row[1], exited_at),
            )
            conn.execute(_BUMP, ("memberships",))
            return Membership.from_ts(pilot_id, row[0], row[1])

    def memberships(self, user_id: str) -> tuple[Membership, ...]:
        with self._cursor() as conn:
            rows = conn.execute(
                "SELECT pilot_id, cohort, enrolled_at FROM cs_memberships WHERE user_id=? "
                "ORDER BY enrolled_at, pilot_id",
                (user_id,),
            ).fetchall()
        return tuple(Membership.from_ts(*row) for row in rows)

    def pilot_periods(self, user_id: str) -> tuple[PilotPeriod, ...]:
        # One statement: one snapshot of both tables.
        with self._cursor() as conn:
            rows = conn.execute(
                "SELECT pilot_id, cohort, enrolled_at, NULL FROM cs_memberships WHERE user_id=? "
                "UNION ALL SELECT pilot_id, cohort, enrolled_at, exited_at FROM cs_pilot_exits "
                "WHERE user_id=?",
                (user_id, user_id),
            ).fetchall()
        return tuple(PilotPeriod(*row) for row in rows)

    def add_milestone(self, user_id: str, name: str, at: float) -> None:
        with self._cursor() as conn:
            conn.execute(
                "INSERT OR IGNORE INTO cs_milestones SELECT ?, ?, ? "
                "WHERE NOT EXISTS (SELECT 1 FROM cs_opt_outs WHERE user_id=?)",
                (user_id, name, at, user_id),
            )

    def has_milestone(self, user_id: str, name: str) -> bool:
        with self._cursor() as conn:
            row = conn.execute(
                "SELECT 1 FROM cs_milestones WHERE user_id=? AND name=?", (user_id, name)
            ).fetchone()
        return row is not None

    def milestones(self, user_id: str) -> frozenset[str]:
        with self._cursor() as conn:
            rows = conn.execute(
                "SELECT name FROM cs_milestones WHERE user_id=?", (user_id,)
            ).fetchall()
        return frozenset(row[0] for row in rows)

    def history(self, user_id: str, prompt_id: str) -> PromptHistory:
        with self._cursor() as conn:
            return _history(conn, user_id, prompt_id)

    def last_prompt_at(self, user_id: str) -> float | None:
        with self._cursor() as conn:
            return _last_prompt_at(conn, user_id)

    def user_state(self, user_id: str) -> UserState:
        # One read transaction, so the four reads see the same snapshot.
        with self._cursor() as conn:
            conn.execute("BEGIN")
            try:
                memberships = conn.execute(
                    "SELECT pilot_id, cohort, enrolled_at FROM cs_memberships WHERE user_id=? "
                    "ORDER BY enrolled_at, pilot_id",
                    (user_id,),
                ).fetchall()
                milestones = conn.execute(
                    "SELECT name FROM cs_milestones WHERE user_id=?", (user_id,)
                ).fetchall()
                history = conn.execute(
                    f"SELECT prompt_id, {_HISTORY_COLUMNS} FROM cs_prompt_history WHERE user_id=?",
                    (user_id,),
                ).fetchall()
                last = _last_prompt_at(conn, user_id)
                opted_out = _opted_out(conn, user_id)
            finally:
                conn.execute("COMMIT")
        return UserState(
            tuple(Membership.from_ts(*row) for row in memberships),
            frozenset(row[0] for row in milestones),
            {row[0]: PromptHistory(*row[1:]) for row in history},
            last,
            opted_out,
        )

    def try_show(self, user_id: str, prompt_id: str, now: float, rules: ShowRules) -> bool:
        with self._cursor(write=True) as conn:
            if _opted_out(conn, user_id):
                return False
            history = _history(conn, user_id, prompt_id)
            if not rules.allows(history, _last_prompt_at(conn, user_id), now):
                return False
            conn.execute(
                "INSERT INTO cs_prompt_history (user_id, prompt_id, shows, last_shown_at) "
                "VALUES (?, ?, 1, ?) ON CONFLICT (user_id, prompt_id) "
                "DO UPDATE SET shows = shows + 1, last_shown_at = excluded.last_shown_at",
                (user_id, prompt_id, now),
            )
            conn.execute(
                "INSERT INTO cs_users VALUES (?, ?) ON CONFLICT (user_id) "
                "DO UPDATE SET last_prompt_at = excluded.last_prompt_at",
                (user_id, now),
            )
            return True

    def record_answered(self, user_id: str, prompt_id: str, at: float) -> None:
        self._set_history_time(user_id, prompt_id, "answered_at", at)

    def record_dismissed(self, user_id: str, prompt_id: str, at: float) -> None:
        self._set_history_time(user_id, prompt_id, "dismissed_at", at)

    def _set_history_time(self, user_id: str, prompt_id: str, column: str, at: float) -> None:
        # `column` is one of two constants above, never user input.
        with self._cursor() as conn:
            conn.execute(
                f"INSERT INTO cs_prompt_history (user_id, prompt_id, {column}) SELECT ?, ?, ? "
                "WHERE NOT EXISTS (SELECT 1 FROM cs_opt_outs WHERE user_id=?) "
                f"ON CONFLICT (user_id, prompt_id) DO UPDATE SET {column} = excluded.{column}",
                (user_id, prompt_id, at, user_id),
            )

    def set_opted_out(self, user_id: str, opted_out: bool, at: float) -> bool:
        with self._cursor(write=True) as conn:
            if opted_out:
                changed = conn.execute(
                    "INSERT OR IGNORE INTO cs_opt_outs VALUES (?, ?)", (user_id, at)
                ).rowcount
            else:
                changed = conn.execute(
                    "DELETE FROM cs_opt_outs WHERE user_id=?", (user_id,)
                ).rowcount
            if changed:
                conn.execute(_BUMP, ("opt_outs",))
            return bool(changed)

    def is_opted_out(self, user_id: str) -> bool:
        with self._cursor() as conn:
            return _opted_out(conn, user_id)

    def opted_out_users(self) -> frozenset[str]:
        with self._cursor() as conn:
            rows = conn.execute("SELECT user_id FROM cs_opt_outs").fetchall()
        return frozenset(row[0] for row in rows)

    def versions(self) -> Versions:
        with self._cursor() as conn:
            found = dict(conn.execute("SELECT name, version FROM cs_versions").fetchall())
        return Versions(found.get("memberships", 0), found.get("opt_outs", 0))

    def close(self) -> None:
        with self._lock:
            self._closed = True
            if self._conn is not None and self._pid == os.getpid():
                self._conn.close()


def _history(conn: sqlite3.Connection, user_id: str, prompt_id: str) -> PromptHistory:
    row = conn.execute(
        f"SELECT {_HISTORY_COLUMNS} FROM cs_prompt_history WHERE user_id=? AND prompt_id=?",
        (user_id, prompt_id),
    ).fetchone()
    return NO_HISTORY if row is None else PromptHistory(*row)


def _last_prompt_at(conn: sqlite3.Connection, user_id: str) -> float | None:
    row = conn.execute("SELECT last_prompt_at FROM cs_users WHERE user_id=?", (user_id,)).fetchone()
    return None if row is None else row[0]


def _opted_out(conn: sqlite3.Connection, user_id: str) -> bool:
    row = conn.execute("SELECT 1 FROM cs_opt_outs WHERE user_id=?", (user_id,)).fetchone()
    return row is not None
