"""Several processes race to show a show-once prompt: exactly one may win.

Each process has its own cache and its own store connection, exactly like gunicorn workers
or a fleet of app servers; only the store's atomic check-and-record keeps them honest.
"""

from __future__ import annotations

import multiprocessing
import queue
from pathlib import Path

from ._race import race

PROCESSES = 4


def run_race(state_url: str) -> list[bool]:
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(PROCESSES)
    results = context.Queue()
    processes = [
        context.Process(target=race, args=(state_url, i, barrier, results), daemon=True)
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
    return [outcomes[i] for i in range(PROCESSES)]


def test_processes_sharing_one_sqlite_file_show_a_prompt_once(tmp_path: Path) -> None:
    # The file does not exist yet: the processes also race to create it.
    outcomes = run_race(f"sqlite:///{tmp_path}/state.db")
    assert outcomes.count(True) == 1, outcomes


def test_processes_sharing_one_redis_show_a_prompt_once(fresh_redis_url: str) -> None:
    outcomes = run_race(fresh_redis_url)
    assert outcomes.count(True) == 1, outcomes
