"""Several processes race to show show-once prompts: for each user exactly one may win.

Each process has its own cache and its own store connection, exactly like gunicorn workers
or a fleet of app servers; only the store's atomic check-and-record keeps them honest. The
processes start once and race over several rounds of new users (a barrier lines them up
before each round), so one lucky interleaving cannot pass the test on its own.
"""

from __future__ import annotations

import collections
import multiprocessing
import queue
import sqlite3
import time
from pathlib import Path
from typing import Any

import pytest

from cs_sdk._wal import switch_to_wal
from cs_sdk.state import SqliteStore

from ._race import race, users

PROCESSES = 4
ROUNDS = 5
USERS = 3


def run_race(state_url: str) -> collections.Counter[tuple[int, str]]:
    """How many processes won each ``(round, user)``."""
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(PROCESSES)
    results = context.Queue()
    processes = [
        context.Process(
            target=race, args=(state_url, i, ROUNDS, USERS, barrier, results), daemon=True
        )
        for i in range(PROCESSES)
    ]
    for process in processes:
        process.start()
    try:
        outcomes = dict(results.get(timeout=60) for _ in processes)
    except queue.Empty:
        raise AssertionError("a racing process did not report in time") from None
    finally:
        for process in processes:
            process.join(timeout=10)
            if process.is_alive():
                process.kill()
                process.join()
    assert all(process.exitcode == 0 for process in processes)
    return collections.Counter(pair for won in outcomes.values() for pair in won)


def assert_each_user_was_prompted_once(wins: collections.Counter[tuple[int, str]]) -> None:
    expected = {(r, user): 1 for r in range(ROUNDS) for user in users(r, USERS)}
    assert dict(wins) == expected


def test_processes_sharing_one_sqlite_file_show_a_prompt_once(tmp_path: Path) -> None:
    # The file does not exist yet: the processes also race to create it.
    assert_each_user_was_prompted_once(run_race(f"sqlite:///{tmp_path}/state.db"))


def test_processes_sharing_one_redis_show_a_prompt_once(fresh_redis_url: str) -> None:
    assert_each_user_was_prompted_once(run_race(fresh_redis_url))


class _BusyAtFirst:
    """A connection whose WAL switch SQLite refuses ``busy`` times with "locked", at once."""

    def __init__(self, busy: int, error: str = "database is locked") -> None:
        self.busy, self.error, self.mode, self.switches = busy, error, "delete", 0

    def execute(self, sql: str) -> Any:
        if sql == "PRAGMA journal_mode":
            return _Row(self.mode)
        self.switches += 1
        if self.busy:
            self.busy -= 1
            raise sqlite3.OperationalError(self.error)
        self.mode = "wal"
        return _Row(self.mode)


class _Row:
    def __init__(self, value: str) -> None:
        self.value = value

    def fetchone(self) -> tuple[str]:
        return (self.value,)


def test_a_wal_switch_refused_at_once_is_retried_until_the_busy_timeout() -> None:
    conn = _BusyAtFirst(busy=3)
    switch_to_wal(conn, time.monotonic() + 30)  # type: ignore[arg-type]
    assert conn.mode == "wal" and conn.switches == 4


def test_a_wal_switch_still_refused_at_the_deadline_raises_and_other_errors_at_once() -> None:
    with pytest.raises(sqlite3.OperationalError, match="locked"):
        switch_to_wal(_BusyAtFirst(busy=10**6), time.monotonic() + 0.05)  # type: ignore[arg-type]
    broken = _BusyAtFirst(busy=1, error="disk I/O error")
    with pytest.raises(sqlite3.OperationalError, match="disk I/O"):
        switch_to_wal(broken, time.monotonic() + 30)  # type: ignore[arg-type]
    assert broken.switches == 1


def test_a_file_already_in_wal_is_not_switched_again(tmp_path: Path) -> None:
    SqliteStore(tmp_path / "state.db").close()
    conn = sqlite3.connect(tmp_path / "state.db")
    try:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    finally:
        conn.close()
    already = _BusyAtFirst(busy=10**6)
    already.mode = "wal"
    switch_to_wal(already, time.monotonic() + 30)  # type: ignore[arg-type]
    assert already.switches == 0
