"""The WSGI middleware with Flask's own test client, and the OTel WSGI instrumentation."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask, Response, stream_with_context
from opentelemetry import trace
from opentelemetry.instrumentation.wsgi import OpenTelemetryMiddleware
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.trace import format_trace_id

import cs_sdk
from cs_sdk._context import current_identity
from cs_sdk.integrations.wsgi import CsMiddleware
from cs_sdk.testing import capture


def from_header(environ: dict[str, Any]) -> dict[str, Any] | None:
    user = environ.get("HTTP_X_USER")
    return None if user is None else {"user_id": user, "account_id": "acme"}


def make_app(identify: Any = from_header) -> Flask:
    app = Flask(__name__)
    app.wsgi_app = CsMiddleware(app.wsgi_app, identify=identify)  # type: ignore[method-assign]

    @app.get("/report")
    def report() -> dict[str, Any]:
        return {"id": cs_sdk.milestone("first_report_created")}

    @app.get("/boom")
    def boom() -> None:
        cs_sdk.milestone("before_boom")
        raise RuntimeError("handler failed")

    @app.get("/stream")
    def stream() -> Response:
        def body() -> Iterator[str]:
            for index in range(3):
                cs_sdk.milestone(f"chunk_{index}")
                yield "x"

        return Response(stream_with_context(body()))

    @app.get("/plain-stream")
    def plain_stream() -> Response:
        def body() -> Iterator[str]:
            cs_sdk.milestone("plain_chunk")
            yield "y"

        return Response(body())

    return app


def test_events_in_a_view_carry_the_resolved_identity() -> None:
    app = make_app()
    with capture() as events:
        http = app.test_client()
        assert http.get("/report", headers={"X-User": "u1"}).status_code == 200
        assert http.get("/report").status_code == 200
    assert [(e.user_id, e.account_id) for e in events] == [("u1", "acme"), (None, None)]


def test_streamed_bodies_are_inside_the_scope() -> None:
    app = make_app()
    with capture() as events:
        http = app.test_client()
        assert http.get("/stream", headers={"X-User": "u2"}).data == b"xxx"
        assert http.get("/plain-stream", headers={"X-User": "u3"}).data == b"y"
    assert [(e.name, e.user_id) for e in events] == [
        ("chunk_0", "u2"),
        ("chunk_1", "u2"),
        ("chunk_2", "u2"),
        ("plain_chunk", "u3"),
    ]


def test_the_server_thread_never_keeps_a_scope_on_any_path() -> None:
    """The middleware called as a server would, on one thread: after each request (a raising
    app, a body iterated then closed, a body closed early) the thread has no identity."""

    def raising(environ: Any, start_response: Any) -> Any:
        raise RuntimeError("app failed")

    def streaming(environ: Any, start_response: Any) -> Iterator[bytes]:
        start_response("200 OK", [])
        yield current_identity().user_id.encode()  # type: ignore[union-attr]
        yield b"!"

    seen: list[object] = []
    middleware = CsMiddleware(raising, identify=lambda environ: {"user_id": "u1"})
    with pytest.raises(RuntimeError):
        middleware({}, lambda *a: None)
    seen.append(current_identity())
    middleware = CsMiddleware(streaming, identify=lambda environ: {"user_id": "u1"})
    body = middleware({}, lambda *a: None)
    assert list(body) == [b"u1", b"!"]
    body.close()  # type: ignore[attr-defined]
    seen.append(current_identity())
    early = middleware({}, lambda *a: None)
    assert next(iter(early)) == b"u1"
    early.close()  # type: ignore[attr-defined]
    seen.append(current_identity())
    assert seen == [cs_sdk.Identity()] * 3


@pytest.mark.parametrize("answer", [["u1"], {"uid": "u1"}, {"user_id": ""}, 7])
def test_a_resolver_returning_garbage_is_logged_once(
    answer: object, caplog: pytest.LogCaptureFixture
) -> None:
    app = make_app(lambda environ: answer)
    with capture() as events, caplog.at_level(logging.WARNING, "cs_sdk"):
        http = app.test_client()
        assert [http.get("/report").status_code for _ in range(3)] == [200] * 3
    assert [e.user_id for e in events] == [None] * 3
    assert len([r for r in caplog.records if "resolver" in r.getMessage()]) == 1


def test_a_raising_or_async_resolver_never_fails_the_request(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def coroutine_resolver(environ: Any) -> dict[str, str]:
        return {"user_id": "u1"}

    def raising(environ: Any) -> None:
        raise LookupError

    for resolver in (raising, coroutine_resolver):
        app = make_app(resolver)
        with capture() as events, caplog.at_level(logging.WARNING, "cs_sdk"):
            assert app.test_client().get("/report").status_code == 200
        assert events[0].user_id is None
    messages = [r.getMessage() for r in caplog.records]
    assert any("raised (LookupError)" in m for m in messages)
    assert any("async resolver" in m for m in messages)


def test_a_raising_view_closes_the_scope_for_the_next_request_on_the_thread() -> None:
    app = make_app()
    app.config["PROPAGATE_EXCEPTIONS"] = False
    with capture() as events:
        http = app.test_client()
        assert http.get("/boom", headers={"X-User": "u1"}).status_code == 500
        assert http.get("/report").status_code == 200
    assert [(e.name, e.user_id) for e in events] == [
        ("before_boom", "u1"),
        ("first_report_created", None),
    ]


def test_concurrent_requests_each_see_their_own_user() -> None:
    app = make_app()
    seen: dict[str, list[str | None]] = {}
    with capture() as events:

        def run(user: str) -> None:
            http = app.test_client()
            for _ in range(20):
                http.get("/report", headers={"X-User": user})

        threads = [threading.Thread(target=run, args=(f"u{n}",)) for n in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
    for event in events:
        seen.setdefault(str(event.user_id), []).append(event.account_id)
    assert sorted(seen) == ["u0", "u1", "u2", "u3"]
    assert all(len(accounts) == 20 for accounts in seen.values())


def test_events_carry_the_trace_of_the_request_with_otel_wsgi_instrumentation() -> None:
    provider = TracerProvider()
    app = make_app()
    traces: list[str] = []

    @app.get("/traced")
    def traced() -> str:
        traces.append(format_trace_id(trace.get_current_span().get_span_context().trace_id))
        cs_sdk.milestone("traced")
        return "ok"

    # The instrumentation outside ours: its span is active while our scope is.
    app.wsgi_app = OpenTelemetryMiddleware(app.wsgi_app, tracer_provider=provider)  # type: ignore[method-assign]
    with capture() as events:
        http = app.test_client()
        http.get("/traced", headers={"X-User": "u1"})
        http.get("/traced", headers={"X-User": "u1"})
    provider.shutdown()
    assert [e.trace_id for e in events] == traces and len(set(traces)) == 2
    assert {e.user_id for e in events} == {"u1"}
