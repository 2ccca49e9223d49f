"""The books' rules, one by one: refusals apart, clamped partial success, every byte of an
event against max_queue_bytes, and a recording call that never raises at the recursion limit
or out of memory (both the C and the Python path)."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable

import httpx
import pytest
from _books import assert_balanced

import cs_sdk
from cs_sdk import _accelerated

PATHS = ["c", "python"]


def client_on(path: str, handler: Callable[[httpx.Request], httpx.Response], **options: object):
    if path == "c" and not _accelerated.AVAILABLE:
        pytest.skip("the C accelerator is not built here")
    client = cs_sdk.Client(
        environ={},
        endpoint="http://127.0.0.1:4318",
        http_client=httpx.Client(transport=httpx.MockTransport(handler)),
        speedups=path == "c",
        **options,  # type: ignore[arg-type]
    )
    assert client._accelerated is (path == "c")
    return client


def json_answer(body: object) -> Callable[[httpx.Request], httpx.Response]:
    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            200, content=json.dumps(body).encode(), headers={"content-type": "application/json"}
        )

    return answer


@pytest.mark.parametrize(
    ("rejected", "sent"), [("-5", 100), (-5, 100), ("1000000", 0), (7, 93), ("x", 100)]
)
def test_a_collector_reported_rejected_count_is_clamped_to_the_batch(
    rejected: object, sent: int
) -> None:
    answer = json_answer({"partialSuccess": {"rejectedLogRecords": rejected}})
    client = client_on("python", answer, protocol="http/json", schedule_delay=60)
    for index in range(100):
        client.milestone("m", properties={"i": index})
    client.flush(timeout=10)
    client.shutdown(timeout=5)
    stats = client.stats()
    assert stats["sent"] == sent  # never 105 of 100
    assert stats["dropped"]["rejected_by_collector"] == 100 - sent
    assert_balanced(stats)


@pytest.mark.parametrize("path", PATHS)
def test_ids_count_against_max_queue_bytes(path: str) -> None:
    """The same events with long ids fill the byte bound sooner: ids are counted."""

    def held(request: httpx.Request) -> httpx.Response:
        raise AssertionError("nothing is sent: the worker waits for its schedule")

    bound = 200_000
    queued = {}
    for id_length in (1, 200):
        client = client_on(path, held, schedule_delay=60, max_queue_bytes=bound)
        ids = {"user_id": "u" * id_length, "account_id": "a" * id_length}
        for index in range(2_000):
            client.milestone("m", session_id="s" * id_length, properties={"i": index}, **ids)
        queued[id_length] = client.stats()["queued"]
        assert_balanced(client.stats())
        client.shutdown(timeout=0)
    # Each event holds 600 more characters with long ids: each counts 600 bytes more than a
    # short-id event (whose estimate the queue's count of them gives, within one event).
    short = bound / queued[1]
    assert queued[200] <= bound / (short + 600) + 2 < queued[1]


@pytest.mark.parametrize("path", PATHS)
def test_a_recording_call_at_the_recursion_limit_never_raises(path: str) -> None:
    client = client_on(path, json_answer({}), schedule_delay=60)
    calls: list[Callable[[], object]] = [
        lambda: client.milestone("m", user_id="u", properties={"a": 1}),
        lambda: client.milestone("m", properties={"a": {"b": [1, 2]}}),
        lambda: client.outcome("o", value=1.0, user_id="u"),
        lambda: client.feedback("nps", score=3, user_id="u"),
    ]

    def at_the_limit(call: Callable[[], object]) -> object:
        try:
            return at_the_limit(call)
        except RecursionError:
            return call()  # a few frames from the limit, in an except block like a real app

    for call in calls:
        for _ in range(10):
            at_the_limit(call)  # raises RecursionError if the guard lets it out
    stats = client.stats()
    assert_balanced(stats)
    assert stats["recorded"] + stats["refused_total"] == 40  # each call counted once
    client.shutdown(timeout=1)


@pytest.mark.parametrize("path", PATHS)
def test_memory_error_while_recording_is_counted_not_raised(
    path: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = client_on(path, json_answer({}), schedule_delay=60)

    def out_of_memory(queued: object) -> bool:
        raise MemoryError

    client._submit = out_of_memory  # type: ignore[method-assign]
    assert client.milestone("m", user_id="u", properties={"a": 1}) is None
    assert client.outcome("o", user_id="u") is None
    stats = client.stats()
    # Accepted (the commit point passed), then lost: on the loss side of the books.
    assert stats["recorded"] == 2
    assert stats["dropped"]["internal_error"] == 2
    client._submit = client._pipeline.submit  # type: ignore[method-assign]
    client.shutdown(timeout=1)


def test_stats_answers_while_a_slow_before_send_holds_the_worker() -> None:
    """The worker is mid-move while before_send runs; stats() must not wait for it."""
    entered, release = threading.Event(), threading.Event()

    def slow(event: cs_sdk.EventRecord) -> cs_sdk.EventRecord:
        entered.set()
        release.wait(30)
        return event

    client = client_on("python", json_answer({}), schedule_delay=60, before_send=slow)
    client.milestone("m")
    client.flush(timeout=0)
    assert entered.wait(10)
    started = time.monotonic()
    stats = client.stats()  # neither raises nor waits for before_send
    assert time.monotonic() - started < 10  # a hang guard: before_send holds for 30 s
    assert stats["recorded"] == 1
    release.set()
    assert client.flush(timeout=10)
    assert_balanced(client.stats())
    client.shutdown(timeout=1)


def test_the_books_stay_balanced_through_a_capture_block() -> None:
    from cs_sdk.testing import capture

    client = client_on("python", json_answer({}), schedule_delay=60)
    client.milestone("before")
    with capture(client) as events:
        client.milestone("captured")
        assert_balanced(client.stats())
    client.milestone("after")
    assert [event.name for event in events] == ["captured"]
    assert client.flush(timeout=10)
    stats = client.stats()
    assert_balanced(stats)
    assert stats["queued"] == 0 and stats["sent"] == 3  # two to the collector, one captured
    assert client.shutdown(timeout=1) is True
