"""Every loss shows: flush() reports it, whatever happened to earlier flushes."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import httpx
import pytest

import cs_sdk
from cs_sdk._spool import Spool


class Answers:
    """A MockTransport handler answering from a script of status codes (then 200)."""

    def __init__(self, *codes: int) -> None:
        self.codes = list(codes)
        self.requests = 0
        self.lock = threading.Lock()

    def __call__(self, request: httpx.Request) -> httpx.Response:
        with self.lock:
            self.requests += 1
            code = self.codes.pop(0) if self.codes else 200
        return httpx.Response(code, headers={"retry-after": "0"} if code == 429 else {})

    def client(self, **options: object) -> cs_sdk.Client:
        options.setdefault("endpoint", "http://127.0.0.1:4318")
        return cs_sdk.Client(
            environ={},
            http_client=httpx.Client(transport=httpx.MockTransport(self)),
            **options,  # type: ignore[arg-type]
        )


def test_a_loss_after_a_timed_out_flush_is_still_reported() -> None:
    answers = Answers(400)
    client = answers.client(schedule_delay=60)
    client.milestone("rejected")
    assert client.flush(timeout=0) is False  # gave up at once; its marker is still queued
    time.sleep(0.2)  # the abandoned marker resolves after the loss
    assert client.flush(timeout=5) is False  # the loss is this flush's to report
    assert client.stats()["dropped"]["rejected_by_collector"] == 1
    client.milestone("fine")
    assert client.flush(timeout=5) is True
    client.shutdown()


@pytest.mark.parametrize("timeout", ["5", None, float("nan"), -1.0, float("inf")])
def test_odd_flush_timeouts_neither_raise_nor_hide_a_loss(timeout: object) -> None:
    answers = Answers(400)
    client = answers.client(schedule_delay=60)
    client.milestone("rejected")
    result = client.flush(timeout)  # type: ignore[arg-type]
    assert result is False
    assert client.flush(timeout=5) is (timeout in (float("inf"),) or result)
    client.shutdown(timeout)  # type: ignore[arg-type]


def test_a_spool_that_cannot_be_written_is_a_loss_flush_reports(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken_store(self: Spool, *args: object) -> int:
        raise OSError("disk full")

    monkeypatch.setattr(Spool, "store", broken_store)
    answers = Answers(*([503] * 1000))
    client = answers.client(spool_dir=str(tmp_path), schedule_delay=0.01, export_timeout=0.2)
    for index in range(10):
        client.milestone(f"m{index}")
    assert client.flush(timeout=10) is False
    client.shutdown(timeout=2)
    stats = client.stats()
    assert stats["dropped"]["spool_error"] == 10
    assert stats["sent"] == 0


def test_retry_after_zero_does_not_turn_into_a_retry_storm() -> None:
    answers = Answers(*([429] * 10_000))
    client = answers.client(schedule_delay=0.01, export_timeout=2.0)
    client.milestone("m")
    assert client.flush(timeout=10) is False
    client.shutdown(timeout=1)
    # Full-jitter exponential backoff from 0.5 s: a handful of attempts in 2 s, not thousands.
    assert 2 <= answers.requests <= 20, answers.requests
    assert client.stats()["dropped"]["retry_exhausted"] == 1


def test_a_disabled_client_starts_no_thread_and_opens_no_file(tmp_path: Path) -> None:
    before = {thread.name for thread in threading.enumerate()}
    client = cs_sdk.Client(environ={}, disabled=True, spool_dir=str(tmp_path / "spool"))
    assert client.milestone("m") is None
    assert client.flush() is True
    started = {thread.name for thread in threading.enumerate()} - before
    assert not any(name.startswith("cs_sdk") for name in started)
    assert not (tmp_path / "spool").exists()
    assert client.shutdown() is True
