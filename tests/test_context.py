"""Identity scopes are per thread and per asyncio task; span ids come from the active span."""

from __future__ import annotations

import asyncio
import threading

import pytest
from opentelemetry.sdk.trace import TracerProvider

import cs_sdk
from cs_sdk.testing import capture


def test_scopes_nest_and_inner_values_win() -> None:
    with capture() as events:
        with cs_sdk.identify(user_id="u1", account_id="acme", session_id="s1"):
            with cs_sdk.identify(user_id="u2"):
                cs_sdk.milestone("inner")
            cs_sdk.milestone("outer")
        cs_sdk.milestone("outside")
    inner, outer, outside = events
    assert (inner.user_id, inner.account_id, inner.session_id) == ("u2", "acme", "s1")
    assert (outer.user_id, outer.account_id, outer.session_id) == ("u1", "acme", "s1")
    assert (outside.user_id, outside.account_id, outside.session_id) == (None, None, None)


def test_explicit_arguments_win_over_the_scope() -> None:
    with capture() as events, cs_sdk.identify(user_id="u1", account_id="acme"):
        cs_sdk.milestone("m", user_id="explicit")
    assert (events[0].user_id, events[0].account_id) == ("explicit", "acme")


def test_scopes_are_isolated_between_threads() -> None:
    barrier = threading.Barrier(4)
    with capture() as events:

        def work(index: int) -> None:
            with cs_sdk.identify(user_id=f"user-{index}"):
                barrier.wait(timeout=5)  # every thread is inside its scope at once
                cs_sdk.milestone("threaded", properties={"index": index})

        threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=5)
    assert len(events) == 4
    assert all(event.user_id == f"user-{event.properties['index']}" for event in events)


def test_scopes_are_isolated_between_asyncio_tasks() -> None:
    entered: list[int] = []

    async def task(index: int, everyone_in: asyncio.Event) -> None:
        with cs_sdk.identify(user_id=f"user-{index}", session_id=f"session-{index}"):
            entered.append(index)
            if len(entered) == 10:
                everyone_in.set()
            await everyone_in.wait()  # all tasks hold their scope while the others run
            cs_sdk.milestone("async", properties={"index": index})

    async def main() -> None:
        everyone_in = asyncio.Event()
        await asyncio.gather(*(task(i, everyone_in) for i in range(10)))

    with capture() as events:
        asyncio.run(main())
    assert len(events) == 10
    for event in events:
        index = event.properties["index"]
        assert (event.user_id, event.session_id) == (f"user-{index}", f"session-{index}")


def test_an_event_inside_a_span_carries_its_trace_and_span_ids() -> None:
    tracer = TracerProvider().get_tracer("test")
    with capture() as events:
        with tracer.start_as_current_span("request") as span:
            cs_sdk.milestone("in_span")
        cs_sdk.milestone("no_span")
    context = span.get_span_context()
    assert events[0].trace_id == f"{context.trace_id:032x}"
    assert events[0].span_id == f"{context.span_id:016x}"
    assert events[0].record.flags == int(context.trace_flags)
    assert (events[1].trace_id, events[1].span_id) == ("", "")


def test_identify_keeps_int_ids_as_their_digits() -> None:
    with cs_sdk.identify(user_id=42, account_id=7) as who:  # type: ignore[arg-type]
        assert who == cs_sdk.Identity("42", "7", None)


def test_identify_ignores_an_invalid_id_in_production_and_raises_when_strict(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with cs_sdk.identify(user_id=object(), account_id="acme") as who:  # type: ignore[arg-type]
        assert who == cs_sdk.Identity(None, "acme", None)
    assert "identify() ignored an invalid id" in caplog.text
    cs_sdk.init(service_name="strict", endpoint="http://127.0.0.1:9", strict=True, environ={})
    with pytest.raises(cs_sdk.InvalidEventError, match="user_id"), cs_sdk.identify(user_id=""):
        pass
