"""Pilot tags and opt-outs are right across processes sharing a state store.

Real processes (``_app_worker.py``), a real SQLite file or redis-server, the local collector:
what one worker changes, the others honour from the moment the call returned, with no store
round trip on the recording path (the worker checks the store's change marker per batch).
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from queue import Empty, Queue
from typing import Any

import pytest

from cs_sdk.collector import LocalCollector, ReceivedRecord

WORKER = Path(__file__).with_name("_app_worker.py")
TIMEOUT = 60.0  # a hang guard: each answer normally takes milliseconds


class AppWorker:
    """One application process, driven line by line."""

    def __init__(self, state: str, endpoint: str) -> None:
        self.process = subprocess.Popen(
            [sys.executable, str(WORKER), state, endpoint],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        self._answers: Queue[str] = Queue()
        threading.Thread(target=self._read, daemon=True).start()
        assert self._next() == "ready"

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self._answers.put(line)

    def _next(self) -> Any:
        try:
            return json.loads(self._answers.get(timeout=TIMEOUT))
        except Empty:
            self.process.kill()
            raise AssertionError("the application worker did not answer") from None

    def __call__(self, *command: Any) -> Any:
        assert self.process.stdin is not None
        self.process.stdin.write(json.dumps(command) + "\n")
        self.process.stdin.flush()
        return self._next()

    def stop(self) -> None:
        if self.process.poll() is None:
            try:
                assert self.process.stdin is not None
                self.process.stdin.write(json.dumps(["quit"]) + "\n")
                self.process.stdin.flush()
            except OSError:
                pass
            try:
                self.process.wait(timeout=TIMEOUT)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        for stream in (self.process.stdin, self.process.stdout):
            if stream is not None:
                stream.close()


@pytest.fixture(params=["sqlite", "redis"])
def state_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'state.db'}"
    url: str = request.getfixturevalue("fresh_redis_url")
    return url


@pytest.fixture
def collector() -> Iterator[LocalCollector]:
    with LocalCollector() as running:
        yield running


@pytest.fixture
def start_worker(state_url: str, collector: LocalCollector) -> Iterator[Callable[[], AppWorker]]:
    """Starts application workers on the same store; all are stopped after the test."""
    started: list[AppWorker] = []

    def start() -> AppWorker:
        started.append(AppWorker(state_url, collector.endpoint))
        return started[-1]

    yield start
    for worker in started:
        worker.stop()


def _by_id(collector: LocalCollector, ids: list[str]) -> list[ReceivedRecord]:
    found = {record.event_id: record for record in collector.records}
    return [found[event_id] for event_id in ids if event_id in found]


def test_an_event_recorded_after_enroll_returned_in_another_process_is_tagged(
    start_worker: Callable[[], AppWorker], collector: LocalCollector
) -> None:
    admin, app = start_worker(), start_worker()
    # The app worker has seen u1 untagged: its cache holds u1's (empty) memberships.
    before = app("record", "before", "u1", 5)
    assert app("flush")[0]
    assert admin("enroll", "u1", "beta")
    during = app("record", "during", "u1", 50)
    assert app("flush")[0]
    assert admin("exit", "u1", "beta")
    after = app("record", "after", "u1", 50)
    assert app("flush")[0]
    assert collector.wait_for(105 + 2, timeout=TIMEOUT)  # and the enrol/exit events

    def pilots(ids: list[str]) -> list[Any]:
        records = _by_id(collector, ids)
        assert len(records) == len(ids)  # every event delivered
        return [record.attributes.get("cs.pilot.ids") for record in records]

    assert pilots(before) == [None] * 5
    assert pilots(during) == [["beta"]] * 50
    assert pilots(after) == [None] * 50


def test_an_opt_out_holds_in_a_sibling_worker_and_after_a_restart(
    start_worker: Callable[[], AppWorker], collector: LocalCollector
) -> None:
    first, sibling = start_worker(), start_worker()
    sent = sibling("record", "before", "u2", 3)
    assert sibling("flush")[0]
    assert first("enroll", "u2", "beta")
    first("opt_out", "u2")
    # The sibling heard nothing from this process: the store told it.
    refused = sibling("record", "after_opt_out", "u2", 40)
    others = sibling("record", "someone_else", "u3", 5)
    delivered, stats = sibling("flush")
    assert delivered
    # Checked in the books: each of the 40 refused at the call or dropped as opted_out.
    refused_ids = [event_id for event_id in refused if event_id is not None]
    assert stats["dropped"].get("opted_out", 0) == 40
    assert not sibling("shown", "nps", "u2")  # no prompt, and no show recorded
    assert not sibling("enroll", "u2", "gamma")  # nothing new stored about them
    # "The app restarted": a new process on the same store.
    sibling.stop()
    restarted = start_worker()
    after_restart = restarted("record", "after_restart", "u2", 20)
    delivered, stats = restarted("flush")
    assert delivered
    assert stats["dropped"].get("opted_out", 0) == 20
    # The enrolment event was still queued in the first worker when it opted u2 out: it is
    # dropped too. What arrives is the 3 events before and the 5 of another user.
    assert collector.wait_for(3 + 5, timeout=TIMEOUT)
    assert first("flush")[0]
    received = collector.records
    users = {(record.user_id, record.name) for record in received}
    assert ("u2", "after_opt_out") not in users and ("u2", "after_restart") not in users
    assert [r for r in received if r.event_id in set(refused_ids) | set(after_restart)] == []
    assert len(_by_id(collector, sent)) == 3 and len(_by_id(collector, others)) == 5
