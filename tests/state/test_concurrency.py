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
from pathlib import Path

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
