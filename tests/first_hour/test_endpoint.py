"""The endpoint a newcomer passes works, or says clearly what was expected.

The OpenTelemetry specification separates a base URL (``OTEL_EXPORTER_OTLP_ENDPOINT``, to
which ``/v1/logs`` is appended) from the per-signal full URL
(``OTEL_EXPORTER_OTLP_LOGS_ENDPOINT``, used as-is). ``endpoint=`` is the base and also
accepts the full ``/v1/logs`` URL; ``logs_endpoint=`` is the per-signal URL.
"""

from __future__ import annotations

import logging

import pytest

import cs_sdk
from cs_sdk._config import resolve
from cs_sdk.collector import LocalCollector


@pytest.mark.parametrize("suffix", ["", "/", "/v1/logs", "/v1/logs/"])
def test_a_base_or_a_full_logs_url_as_endpoint_both_deliver(suffix: str) -> None:
    with LocalCollector() as collector:
        client = cs_sdk.Client(environ={}, service_name="t", endpoint=collector.endpoint + suffix)
        try:
            assert client.config.logs_endpoint == collector.endpoint + "/v1/logs"
            client.milestone("first_report_created", user_id="u1")
            assert client.flush(timeout=10)
        finally:
            client.shutdown(timeout=5)
        assert [record.name for record in collector.records] == ["first_report_created"]
        assert client.stats()["sent"] == 1


def test_logs_endpoint_is_the_per_signal_url_used_as_is_and_wins_over_endpoint() -> None:
    assert resolve({}, logs_endpoint="https://logs.example/custom/path").logs_endpoint == (
        "https://logs.example/custom/path"
    )
    both = resolve({}, endpoint="https://base.example", logs_endpoint="https://logs.example/x")
    assert both.logs_endpoint == "https://logs.example/x"
    with LocalCollector() as collector:
        client = cs_sdk.Client(
            environ={}, service_name="t", logs_endpoint=collector.endpoint + "/v1/logs"
        )
        try:
            client.milestone("first_report_created", user_id="u1")
            assert client.flush(timeout=10)
        finally:
            client.shutdown(timeout=5)
        assert len(collector.records) == 1


def test_a_logs_endpoint_without_a_path_is_used_as_is_with_one_warning(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.WARNING, logger="cs_sdk"):
        config = resolve({}, logs_endpoint="https://logs.example")
        resolve({}, logs_endpoint="https://logs.example")
    assert config.logs_endpoint == "https://logs.example"
    (line,) = [r.getMessage() for r in caplog.records]
    assert "used as-is" in line and "endpoint=" in line


@pytest.mark.parametrize("option", ["endpoint", "logs_endpoint"])
@pytest.mark.parametrize("given", ["127.0.0.1:4318", "localhost:4318", "localhost:4318/v1/logs"])
def test_an_endpoint_without_a_scheme_says_what_was_given_and_what_was_expected(
    option: str, given: str
) -> None:
    with pytest.raises(cs_sdk.ConfigError) as caught:
        cs_sdk.Client(environ={}, **{option: given})
    message = str(caught.value)
    assert repr(given) in message
    assert f"http://{given}" in message
    assert "http://localhost:4318" in message


def test_the_error_for_a_schemeless_endpoint_never_shows_credentials() -> None:
    with pytest.raises(cs_sdk.ConfigError) as caught:
        resolve({}, endpoint="user:s3cret@collector.example:4318?api_key=k3y")
    message = str(caught.value)
    assert "s3cret" not in message and "k3y" not in message
    assert "collector.example:4318" in message


def test_a_wrong_scheme_is_shown_as_given() -> None:
    with pytest.raises(cs_sdk.ConfigError, match=r"got 'ftp://collector\.example/'"):
        resolve({}, endpoint="ftp://collector.example/")
