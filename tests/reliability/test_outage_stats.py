"""What stats() and the log say while the collector is down (issue 14): retries counted as
they happen, the batch being retried shown in flight, a spooled batch not called lost, and
a 404 that says which URL answered and what to pass instead."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from _books import assert_balanced
from _waiting import wait_until

import cs_sdk
from cs_sdk._export._exporter import not_found_message
from cs_sdk.collector import FaultPlan, LocalCollector, Status


def test_during_an_outage_stats_show_the_retries_and_the_batch_in_flight() -> None:
    plan = FaultPlan().always(Status(503, retry_after="0"))
    with LocalCollector(faults=plan) as collector:
        client = cs_sdk.Client(
            environ={}, endpoint=collector.endpoint, schedule_delay=60, export_timeout=30
        )
        for index in range(10):
            client.milestone("m", properties={"i": index})
        client.flush(timeout=0)  # start sending now
        assert wait_until(lambda: client.stats()["retried"] >= 2)  # counted while retrying
        stats = client.stats()
        assert stats["in_flight"] == 10  # the batch being retried is visible...
        assert stats["queued"] == stats["dropped_total"] == stats["sent"] == 0  # ...not lost
        assert_balanced(stats)
        assert client.shutdown(timeout=0.5) is False
    stats = client.stats()
    assert stats["dropped"]["shutdown_timeout"] == 10
    assert_balanced(stats)


def test_a_batch_that_goes_to_the_spool_is_not_logged_as_lost(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    plan = FaultPlan().always(Status(503, retry_after="0"))
    with (
        caplog.at_level(logging.WARNING, logger="cs_sdk"),
        LocalCollector(faults=plan) as collector,
    ):
        client = cs_sdk.Client(
            environ={},
            endpoint=collector.endpoint,
            spool_dir=str(tmp_path),
            schedule_delay=60,
            export_timeout=0.5,
        )
        for index in range(10):
            client.milestone("m", properties={"i": index})
        assert client.flush(timeout=0.2) is False
        assert wait_until(lambda: client.stats()["spool_pending"] == 10)
        client.shutdown(timeout=0.5)
    messages = [record.getMessage() for record in caplog.records]
    assert not [m for m in messages if "could not deliver" in m], messages
    assert [m for m in messages if "wait in the spool" in m], messages
    assert client.stats()["dropped_total"] == 0


def test_a_404_says_which_url_answered_and_what_to_pass_instead(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.WARNING, logger="cs_sdk"), LocalCollector() as collector:
        wrong = collector.endpoint + "/otlp"  # not where the collector listens
        client = cs_sdk.Client(environ={}, endpoint=wrong, schedule_delay=60)
        client.milestone("m")
        assert client.flush(timeout=10) is False
        client.shutdown(timeout=1)
    messages = [r.getMessage() for r in caplog.records if "404" in r.getMessage()]
    assert len(messages) == 1, messages
    assert f"{wrong}/v1/logs answered 404" in messages[0]
    assert "endpoint=" in messages[0]
    assert client.stats()["dropped"]["rejected_by_collector"] == 1


def test_a_doubled_logs_path_is_named_with_the_base_url_to_pass() -> None:
    message = not_found_message("http://127.0.0.1:4318/v1/logs/v1/logs")
    assert "answered 404" in message
    assert "endpoint='http://127.0.0.1:4318'" in message
