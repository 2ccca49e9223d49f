"""The Celery integration with Celery's own test worker (in-memory broker)."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import pytest
from celery import Celery
from celery.contrib.testing.worker import start_worker

import cs_sdk
from cs_sdk.collector import LocalCollector
from cs_sdk.integrations.celery import HEADER, instrument_celery


@pytest.fixture(autouse=True)
def root_logging_restored() -> Iterator[None]:
    """Celery's test worker sets up logging (the root logger's level and a handler) for the
    process; later tests' log captures need it as it was."""
    root = logging.getLogger()
    level, handlers = root.level, list(root.handlers)
    try:
        yield
    finally:
        root.setLevel(level)
        root.handlers[:] = handlers


@pytest.fixture
def collector() -> Iterator[LocalCollector]:
    with LocalCollector() as running:
        yield running


def _make_app() -> Celery:
    app = Celery("cs-tests", broker="memory://", backend="cache+memory://")
    app.conf.update(task_default_queue="cs-tests", worker_hijack_root_logger=False)

    @app.task(name="invoice.send")
    def send_invoice(amount: float) -> str | None:
        return cs_sdk.outcome("invoice_sent", value=amount, unit="USD")

    @app.task(name="invoice.fail")
    def fail() -> None:
        cs_sdk.milestone("about_to_fail")
        raise RuntimeError("task failed")

    @app.task(name="whoami")
    def whoami() -> list[str | None]:
        from cs_sdk._context import current_identity

        return list(current_identity())

    instrument_celery(app)
    return app


# One application for the module: Celery keeps task names registered for the process.
_APP = _make_app()


def make_app() -> Celery:
    instrument_celery(_APP)
    return _APP


def test_the_senders_identity_is_restored_in_the_worker_and_each_task_is_flushed(
    collector: LocalCollector,
) -> None:
    # A long batch delay: without the flush after each task nothing would arrive before
    # the worker shuts down.
    cs_sdk.init(service_name="worker", endpoint=collector.endpoint, schedule_delay=60.0)
    app = make_app()
    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=30):
        with cs_sdk.identify(user_id="u1", account_id="acme", session_id="s9"):
            first = app.tasks["invoice.send"].delay(120.0).get(timeout=30)
        anonymous = app.tasks["invoice.send"].delay(5.0).get(timeout=30)
        assert collector.wait_for(2, timeout=30)
        identity_after = app.tasks["whoami"].delay().get(timeout=30)
    by_id = {r.attributes["cs.event.id"]: r for r in collector.records}
    assert by_id[first].attributes["user.id"] == "u1"
    assert by_id[first].attributes["cs.account.id"] == "acme"
    assert by_id[first].attributes["session.id"] == "s9"
    assert "user.id" not in by_id[anonymous].attributes
    # The scope did not outlive its task in the worker thread.
    assert identity_after == [None, None, None]


def test_a_failing_task_resets_the_scope_and_still_flushes(collector: LocalCollector) -> None:
    cs_sdk.init(service_name="worker", endpoint=collector.endpoint, schedule_delay=60.0)
    app = make_app()
    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=30):
        with cs_sdk.identify(user_id="u2"):
            result = app.tasks["invoice.fail"].delay()
            with pytest.raises(RuntimeError):
                result.get(timeout=30)
        assert collector.wait_for(1, timeout=30)
        assert app.tasks["whoami"].delay().get(timeout=30) == [None, None, None]
    assert collector.records[0].attributes["user.id"] == "u2"


def test_the_worker_flushes_and_shuts_the_client_down_at_shutdown(
    collector: LocalCollector,
) -> None:
    cs_sdk.init(service_name="worker", endpoint=collector.endpoint, schedule_delay=60.0)
    app = make_app()
    instrument_celery(app, flush_after_task=False)
    try:
        with start_worker(
            app, pool="solo", perform_ping_check=False, shutdown_timeout=30
        ) as worker:
            ids = [app.tasks["invoice.send"].delay(float(n)).get(timeout=30) for n in range(5)]
            assert collector.records == []  # nothing flushed per task, the batch waits
            worker.stop()  # a warm shutdown, as SIGTERM starts it in a real worker
    finally:
        instrument_celery(app)
    assert collector.wait_for(5, timeout=30)
    assert sorted(r.attributes["cs.event.id"] for r in collector.records) == sorted(ids)
    assert cs_sdk.get_client() is None  # shut down by the worker_shutdown signal


def test_identity_headers_are_added_only_inside_a_scope_and_invalid_ones_are_ignored(
    collector: LocalCollector,
) -> None:
    app = make_app()
    published: list[dict[str, Any]] = []

    from celery import signals

    def spy(headers: dict[str, Any] | None = None, **_: Any) -> None:
        published.append(dict(headers or {}))

    signals.before_task_publish.connect(spy, weak=False)
    try:
        cs_sdk.init(service_name="worker", endpoint=collector.endpoint)
        with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=30):
            app.tasks["whoami"].delay().get(timeout=30)
            with cs_sdk.identify(user_id="u3"):
                app.tasks["whoami"].delay().get(timeout=30)
            forged = app.tasks["whoami"].apply_async(headers={HEADER: {"user_id": ["x"]}})
            assert forged.get(timeout=30) == [None, None, None]
    finally:
        signals.before_task_publish.disconnect(spy)
    assert HEADER not in published[0]
    assert published[1][HEADER] == {"user_id": "u3"}


def test_eager_tasks_keep_the_callers_scope_and_are_not_flushed_in_the_request() -> None:
    from cs_sdk.testing import capture

    app = make_app()
    with capture() as events, cs_sdk.identify(user_id="u4"):
        app.tasks["invoice.send"].apply(args=(1.0,)).get()
    assert events[0].user_id == "u4"
