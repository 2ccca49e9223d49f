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
from .._wal import switch_to_wal
from ._answers import (
    ANSWERS_PER_USER,
    FEEDBACK_RETENTION,
    Answer,
    FeedbackSummary,
    answer_from_json,
    summary_from_json,
    to_json,
)
from ._base import (
    Membership,
    PilotPeriod,
    PromptHistory,
    ShowRules,
    UserState,
    Versions,
)
from ._sqlite_schema import (
    BUMP,
    HISTORY_COLUMNS,
    SCHEMA,
    last_prompt_at,
    opted_out_in,
    prompt_history,
)

__all__ = ["SqliteStore"]

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
        try:
            switch_to_wal(conn, time.monotonic() + self._busy_timeout)
        except BaseException:
            conn.close()
            raise
        conn.execute("PRAGMA synchronous = NORMAL")
        try:
            same_file(self.path, checked)  # SQLite opened the file checked above
            tighten_sidecars(self.path)  # and the -wal/-shm it created are private
        except BaseException:
            conn.close()
            raise
        conn.execute("BEGIN IMMEDIATE")
        try:
            for statement in SCHEMA.split(";"):
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
            if opted_out_in(conn, user_id):
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
                conn.execute(BUMP, ("memberships",))
                return Membership(membership.pilot, membership.cohort, old.enrolled_at), True
            conn.execute(
                "INSERT INTO cs_memberships VALUES (?, ?, ?, ?)",
                (user_id, membership.pilot, membership.cohort, membership.enrolled_ts),
            )
            conn.execute(BUMP, ("memberships",))
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
            conn.execute(BUMP, ("memberships",))
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
            return prompt_history(conn, user_id, prompt_id)

    def last_prompt_at(self, user_id: str) -> float | None:
        with self._cursor() as conn:
            return last_prompt_at(conn, user_id)

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
                    f"SELECT prompt_id, {HISTORY_COLUMNS} FROM cs_prompt_history WHERE user_id=?",
                    (user_id,),
                ).fetchall()
                last = last_prompt_at(conn, user_id)
                opted_out = opted_out_in(conn, user_id)
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
            if opted_out_in(conn, user_id):
                return False
            history = prompt_history(conn, user_id, prompt_id)
            if not rules.allows(history, last_prompt_at(conn, user_id), now):
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

    def remember_feedback(self, summary: FeedbackSummary) -> None:
        # Forgetting what is past the retention rides on each write: the index makes it a
        # range delete of (usually) nothing.
        with self._cursor(write=True) as conn:
            conn.execute(
                "DELETE FROM cs_feedback WHERE recorded_at < ?",
                (time.time() - FEEDBACK_RETENTION,),
            )
            conn.execute(
                "INSERT OR REPLACE INTO cs_feedback VALUES (?, ?, ?)",
                (summary.feedback_id, summary.recorded_ts, to_json(summary)),
            )

    def feedback_summary(self, feedback_id: str) -> FeedbackSummary | None:
        with self._cursor() as conn:
            row = conn.execute(
                "SELECT summary FROM cs_feedback WHERE feedback_id=? AND recorded_at >= ?",
                (feedback_id, time.time() - FEEDBACK_RETENTION),
            ).fetchone()
        return None if row is None else summary_from_json(row[0])

    def add_answer(self, user_id: str, answer: Answer) -> None:
        with self._cursor(write=True) as conn:
            conn.execute(
                "INSERT OR REPLACE INTO cs_answers VALUES (?, ?, ?, ?)",
                (user_id, answer.response_id, answer.answered_ts, to_json(answer)),
            )
            conn.execute(
                "DELETE FROM cs_answers WHERE user_id=? AND response_id NOT IN ("
                "SELECT response_id FROM cs_answers WHERE user_id=? "
                "ORDER BY answered_at DESC, response_id DESC LIMIT ?)",
                (user_id, user_id, ANSWERS_PER_USER),
            )

    def answers(self, user_id: str, limit: int = ANSWERS_PER_USER) -> tuple[Answer, ...]:
        with self._cursor() as conn:
            rows = conn.execute(
                "SELECT answer FROM cs_answers WHERE user_id=? "
                "ORDER BY answered_at DESC, response_id DESC LIMIT ?",
                (user_id, max(limit, 0)),
            ).fetchall()
        return tuple(answer_from_json(row[0]) for row in rows)

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
                conn.execute(BUMP, ("opt_outs",))
            return bool(changed)

    def is_opted_out(self, user_id: str) -> bool:
        with self._cursor() as conn:
            return opted_out_in(conn, user_id)

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
