"""The examples, each run the way its docstring says, against the local collector."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from cs_sdk.collector import LocalCollector, ReceivedRecord

from .conftest import free_port

ROOT = Path(__file__).parents[2]
WAIT = 60.0  # a hang guard


@pytest.fixture
def collector() -> Iterator[LocalCollector]:
    with LocalCollector() as running:
        yield running


def _until(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + WAIT
    while not condition():
        assert time.monotonic() < deadline, f"timed out: {what}"
        time.sleep(0.05)


@contextmanager
def running(*command: str, env: dict[str, str]) -> Iterator[subprocess.Popen[str]]:
    process = subprocess.Popen(
        command, cwd=ROOT, env={**os.environ, **env}, text=True,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        yield process
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
        try:
            process.communicate(timeout=WAIT)
        except subprocess.TimeoutExpired:
            process.kill()
            process.communicate()


def _named(collector: LocalCollector, name: str) -> list[ReceivedRecord]:
    return [r for r in collector.records if r.name == name]


def test_the_django_example_serves_the_widget_and_records_answers(
    collector: LocalCollector,
) -> None:
    port = free_port()
    env = {"OTEL_EXPORTER_OTLP_ENDPOINT": collector.endpoint, "OTEL_BLRP_SCHEDULE_DELAY": "100"}
    command = (sys.executable, "examples/django_app/app.py", "runserver", "--noreload",
               f"127.0.0.1:{port}")  # fmt: skip
    with running(*command, env=env) as server, httpx.Client(timeout=WAIT) as http:
        base = f"http://127.0.0.1:{port}"

        def up() -> bool:
            assert server.poll() is None, server.stdout.read() if server.stdout else ""
            try:
                return http.get(base + "/").status_code == 200
            except httpx.TransportError:
                return False

        _until(up, "the Django example did not start")
        page = http.get(base + "/login?user=u1", follow_redirects=True)
        assert '<script src="/cs/feedback/widget.js" defer></script>' in page.text
        assert http.get(base + "/cs/feedback/widget.js").status_code == 200
        prompt = http.get(base + "/cs/feedback/prompt").json()["prompt"]
        assert prompt["id"] == "nps-dashboard"
        answer = {"prompt_id": prompt["id"], "score": 10, "comment": "Great"}
        # Django's own CSRF middleware is on; the route applies its rule instead.
        refused = http.post(base + "/cs/feedback/answer", json=answer)
        assert refused.status_code == 403 and refused.json()["error"] == "csrf"
        headers = {"X-CS-Feedback": "1", "Origin": base}
        sent = http.post(base + "/cs/feedback/answer", json=answer, headers=headers)
        assert sent.status_code == 200, sent.text
        _until(lambda: bool(_named(collector, "nps")), "the answer never arrived")
    [feedback] = _named(collector, "nps")
    assert feedback.event_id == sent.json()["event_id"]
    assert (feedback.user_id, feedback.attributes["cs.account.id"]) == ("u1", "acme")
    assert feedback.attributes["cs.pilot.ids"] == ["new-dashboard"]
    assert {r.user_id for r in _named(collector, "dashboard_viewed")} == {"u1"}


def test_the_celery_example_worker_records_outcomes_as_the_sender(
    collector: LocalCollector, redis_broker: str
) -> None:
    env = {
        "OTEL_EXPORTER_OTLP_ENDPOINT": collector.endpoint,
        # Only the flush after each task can deliver before this delay.
        "OTEL_BLRP_SCHEDULE_DELAY": "600000",
        "CELERY_BROKER_URL": redis_broker,
    }
    worker_dir = ROOT / "examples" / "celery_worker"
    command = (sys.executable, "-m", "celery", "--workdir", str(worker_dir), "-A", "tasks",
               "worker", "--pool=prefork", "--concurrency=2", "--loglevel=WARNING")  # fmt: skip
    with running(*command, env=env) as worker:
        sender = subprocess.run(
            [sys.executable, str(worker_dir / "send.py"), "u7", "6"],
            env={**os.environ, **env}, capture_output=True, text=True, timeout=WAIT * 2,
        )  # fmt: skip
        assert sender.returncode == 0, sender.stderr
        ids = sender.stdout.split()
        assert len(ids) == 6 and "None" not in ids
        # Delivered while the worker still runs: each child flushed after its task.
        _until(lambda: len(_named(collector, "invoice_paid")) >= 6, "outcomes not flushed")
        assert worker.poll() is None
    assert worker.returncode == 0, worker.stdout.read() if worker.stdout else ""
    outcomes = {r.event_id: r for r in _named(collector, "invoice_paid")}
    assert set(ids) == set(outcomes)
    for record in outcomes.values():
        assert (record.user_id, record.attributes["cs.account.id"]) == ("u7", "acme")
        assert record.attributes["cs.outcome.unit"] == "USD"
