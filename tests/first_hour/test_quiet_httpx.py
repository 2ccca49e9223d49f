"""The SDK's own HTTP requests do not write httpx INFO lines into the application's logs."""

from __future__ import annotations

import logging

import httpx
import pytest

import cs_sdk
from cs_sdk.collector import LocalCollector


def _httpx_lines(caplog: pytest.LogCaptureFixture, level: int) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "httpx" and r.levelno == level]


def test_export_requests_are_not_info_lines_but_the_apps_own_requests_are(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO)  # an application logging at INFO, httpx included
    with LocalCollector() as collector:
        client = cs_sdk.Client(environ={}, service_name="t", endpoint=collector.endpoint)
        client.milestone("first_report_created", user_id="u1")
        assert client.flush(timeout=10)
        client.shutdown(timeout=5)
        assert len(collector.records) == 1
        assert _httpx_lines(caplog, logging.INFO) == []
        # The application's own httpx logging is untouched.
        httpx.post(collector.endpoint + "/v1/logs", content=b"", timeout=10)
    (line,) = _httpx_lines(caplog, logging.INFO)
    assert "HTTP Request: POST" in line


def test_asking_httpx_for_debug_shows_the_sdks_requests_at_debug(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO)
    caplog.set_level(logging.DEBUG, logger="httpx")
    with LocalCollector() as collector:
        client = cs_sdk.Client(environ={}, service_name="t", endpoint=collector.endpoint)
        client.milestone("first_report_created", user_id="u1")
        assert client.flush(timeout=10)
        client.shutdown(timeout=5)
    assert _httpx_lines(caplog, logging.INFO) == []
    assert any("HTTP Request: POST" in line for line in _httpx_lines(caplog, logging.DEBUG))
