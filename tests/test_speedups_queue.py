"""The C path queues into the default pipeline's queue itself, exactly as ``EventQueue.submit``.

``_speedups.c`` (queue_submit) takes the accepted case of ``EventQueue.submit`` without a
Python frame when the client's ``_submit`` is that method of a queue; the Python method stays
the reference. Here a C client and a Python client each record into a real ``EventQueue``
(no worker: the test plays the worker's part, taking events out and holding batches), on the
same random sequence of calls, takes, holds, wake-ups and closes; after every step both
queues hold the same events and the same byte accounts, wake their worker alike, and both
clients count the same drops.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from _accelerator import needs_accelerator
from _differential import comparable, outcome
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import cs_sdk
from cs_sdk._client import NullPipeline
from cs_sdk._pipeline._queue import EventQueue
from cs_sdk._record import QUEUED_SIZE
from cs_sdk._stats import Stats

pytestmark = needs_accelerator


class Flag:
    """A wake-up that is not a threading.Event (C asks ``is_set()`` instead of reading it)."""

    def __init__(self) -> None:
        self.state = False

    def is_set(self) -> bool:
        return self.state

    def set(self) -> None:
        self.state = True

    def clear(self) -> None:
        self.state = False


class QueuePipeline(NullPipeline):
    """A real EventQueue and no worker; ``submit`` is the queue's own bound method."""

    def __init__(self, stats: Stats, size: int, nbytes: int, batch: int, event: bool) -> None:
        self.wake: Any = threading.Event() if event else Flag()
        self.queue = EventQueue(
            stats, max_size=size, max_bytes=nbytes, batch_size=batch, wake=self.wake
        )
        self.submit = self.queue.submit  # type: ignore[method-assign]

    def take(self, n: int) -> None:
        """The worker's part: take ``n`` events out (their bytes out of the account)."""
        for _ in range(min(n, len(self.queue.items))):
            item = self.queue.items.popleft()
            self.queue.bytes_out += item[QUEUED_SIZE]  # type: ignore[index]


class QueuePair:
    def __init__(self, size: int, nbytes: int, batch: int, event: bool) -> None:
        self.pipelines: list[QueuePipeline] = []

        def client(speedups: bool) -> cs_sdk.Client:
            def factory(config: Any, stats: Stats, chain: Any) -> QueuePipeline:
                pipeline = QueuePipeline(stats, size, nbytes, batch, event)
                self.pipelines.append(pipeline)
                return pipeline

            return cs_sdk.Client(
                service_name="test", environ={}, speedups=speedups, _pipeline_factory=factory
            )

        self.fast, self.slow = client(True), client(False)
        assert self.fast._accelerated and not self.slow._accelerated

    def state(self, pipeline: QueuePipeline, client: cs_sdk.Client) -> tuple[Any, ...]:
        queue = pipeline.queue
        stats = client.stats()
        return (
            [comparable(item) for item in queue.items],  # type: ignore[arg-type]
            queue.bytes_in,
            queue.bytes_out,
            queue.held,
            pipeline.wake.is_set(),
            stats["recorded"],
            stats["dropped"],
            stats["refused"],
            stats["debug"]["fallbacks"],
        )

    def states(self) -> tuple[tuple[Any, ...], tuple[Any, ...]]:
        fast, slow = self.pipelines
        return self.state(fast, self.fast), self.state(slow, self.slow)

    def close(self) -> None:
        self.fast.shutdown(0)
        self.slow.shutdown(0)


def call(client: cs_sdk.Client, kind: str, i: int, length: int) -> str | None:
    if kind == "milestone":
        return client.milestone(
            "report_created", user_id=f"u{i}", properties={"note": "x" * length}
        )
    if kind == "feedback":
        return client.feedback("nps", score=i % 11, comment="y" * length or None, user_id="u1")
    return client.outcome("renewal", value=float(length), unit="usd", session_id="s1")


steps = st.lists(
    st.one_of(
        st.tuples(
            st.just("record"),
            st.sampled_from(["milestone", "feedback", "outcome"]),
            st.integers(0, 300),
        ),
        st.tuples(st.just("take"), st.integers(0, 4), st.just(0)),
        st.tuples(st.just("hold"), st.integers(-2, 3), st.integers(-500, 500)),
        st.tuples(st.just("clear_wake"), st.just(0), st.just(0)),
        st.tuples(st.just("close"), st.just(0), st.just(0)),
    ),
    max_size=40,
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    size=st.integers(1, 8),
    nbytes=st.integers(400, 6000),
    batch=st.integers(1, 6),
    event=st.booleans(),
    script=steps,
)
def test_c_and_python_queue_the_same_and_drop_the_same(
    size: int, nbytes: int, batch: int, event: bool, script: list[tuple[Any, ...]]
) -> None:
    pair = QueuePair(size, nbytes, batch, event)
    try:
        for i, (step, a, b) in enumerate(script):
            if step == "record":
                results = [
                    outcome(lambda c=c, a=a, i=i, b=b: call(c, a, i, b))
                    for c in (pair.fast, pair.slow)
                ]
                assert results[0] == results[1]
            for pipeline in pair.pipelines:
                if step == "take":
                    pipeline.take(a)
                elif step == "hold":  # the worker holding (or releasing) encoded batches
                    pipeline.queue.hold(a, b)
                elif step == "clear_wake":
                    pipeline.wake.clear()
                elif step == "close":
                    pipeline.queue.closed = True
            fast, slow = pair.states()
            assert fast == slow
        assert pair.fast.stats()["debug"]["fallbacks"] == {}
    finally:
        pair.close()


@pytest.fixture
def pair() -> Iterator[QueuePair]:
    made = QueuePair(size=1000, nbytes=10_000_000, batch=5, event=True)
    yield made
    made.close()


def test_the_accepted_case_runs_no_python_frame(pair: QueuePair) -> None:
    """The point of the C submit: the Python method is not even called for an accepted event
    (and, as the reference, it is on the Python client)."""
    calls: list[str] = []

    def profile(frame: Any, event: str, arg: Any) -> None:
        if event == "call" and frame.f_code is EventQueue.submit.__code__:
            calls.append("submit")

    sys.setprofile(profile)
    try:
        fast = [
            call(pair.fast, kind, i, 10) for i in range(6) for kind in ("milestone", "feedback")
        ]
        fast_calls = len(calls)
        slow = [call(pair.slow, "milestone", i, 10) for i in range(3)]
    finally:
        sys.setprofile(None)
    assert all(fast) and all(slow)
    assert fast_calls == 0
    assert len(calls) == 3
    fast_state = pair.states()[0]
    assert len(fast_state[0]) == 12 and fast_state[4]  # queued, and the worker woken


def test_a_full_queue_is_the_python_method_s_drop_counted_once(pair: QueuePair) -> None:
    """Past the bound the C path hands the event to the Python method, which counts the drop
    (and warns once): the books show one drop per refused event, never two."""
    for queue in (pipeline.queue for pipeline in pair.pipelines):
        queue._max_size = 3
    results = [call(pair.fast, "milestone", i, 1) for i in range(5)]
    assert [result is not None for result in results] == [True, True, True, False, False]
    stats = pair.fast.stats()
    assert stats["dropped"].get("queue_full") == 2
    assert stats["recorded"] == 5 and len(pair.pipelines[0].queue.items) == 3


def test_a_bound_lowered_after_events_were_queued_applies_to_the_next_one(
    pair: QueuePair,
) -> None:
    """The C path remembers the ints it read from the queue; a bound changed at run time is a
    new int in the slot, read again at the next event."""
    assert all(call(pair.fast, "milestone", i, 1) is not None for i in range(2))
    queue = pair.pipelines[0].queue
    queue._max_size = 3
    results = [call(pair.fast, "milestone", i, 1) for i in range(3)]
    assert [result is not None for result in results] == [True, False, False]
    assert pair.fast.stats()["dropped"].get("queue_full") == 2 and len(queue.items) == 3
    queue._max_size = 10_000  # and raised again
    assert call(pair.fast, "milestone", 9, 1) is not None and len(queue.items) == 4


def test_another_pipeline_s_submit_is_called_as_before(pair: QueuePair) -> None:
    """A pipeline swapped in at run time (testing.capture) gets its own submit called."""
    seen: list[Any] = []
    pair.fast._submit = lambda queued: seen.append(queued) or True  # type: ignore[method-assign]
    assert call(pair.fast, "milestone", 1, 3) is not None
    assert len(seen) == 1 and len(pair.pipelines[0].queue.items) == 0
