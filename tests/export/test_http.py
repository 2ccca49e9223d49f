"""Precise request/response cases for the OTLP/HTTP exporter, with respx."""

from __future__ import annotations

import gzip
import logging

import httpx
import pytest
import respx
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import (
    ExportLogsServiceRequest,
    ExportLogsServiceResponse,
)

import cs_sdk

URL = "http://127.0.0.1:4318/v1/logs"
OK = httpx.Response(
    200,
    content=ExportLogsServiceResponse().SerializeToString(),
    headers={"content-type": "application/x-protobuf"},
)


def status_body(code: int, message: str) -> bytes:
    """A google.rpc.Status message: field 1 code (varint), field 2 message (string)."""
    text = message.encode()
    return bytes([0x08, code, 0x12, len(text)]) + text


def decoded(request: httpx.Request) -> ExportLogsServiceRequest:
    body = request.content
    if request.headers.get("content-encoding") == "gzip":
        body = gzip.decompress(body)
    return ExportLogsServiceRequest.FromString(body)


def record_count(request: httpx.Request) -> int:
    message = decoded(request)
    return sum(len(s.log_records) for r in message.resource_logs for s in r.scope_logs)


def fast_client(**options: object) -> cs_sdk.Client:
    options.setdefault("endpoint", "http://127.0.0.1:4318")
    options.setdefault("service_name", "checkout")
    options.setdefault("schedule_delay", 0.05)
    return cs_sdk.Client(environ={}, **options)  # type: ignore[arg-type]


@respx.mock
def test_posts_gzipped_protobuf_with_configured_headers() -> None:
    route = respx.post(URL).mock(return_value=OK)
    client = fast_client(headers={"Authorization": "Bearer t0k3n", "X-Team": "growth"})
    client.milestone("first_report_created", user_id="u1")
    assert client.flush(timeout=5)
    client.shutdown()
    request = route.calls.last.request
    assert request.headers["content-type"] == "application/x-protobuf"
    assert request.headers["content-encoding"] == "gzip"
    assert request.headers["authorization"] == "Bearer t0k3n"
    assert request.headers["x-team"] == "growth"
    assert request.headers["user-agent"].startswith("cs-sdk-python")
    assert record_count(request) == 1


@respx.mock
def test_json_protocol_without_compression() -> None:
    route = respx.post(URL).mock(
        return_value=httpx.Response(200, json={}, headers={"content-type": "application/json"})
    )
    client = fast_client(protocol="http/json", compression="none")
    client.milestone("m")
    assert client.flush(timeout=5)
    client.shutdown()
    request = route.calls.last.request
    assert request.headers["content-type"] == "application/json"
    assert "content-encoding" not in request.headers
    assert b'"eventName":"cs.milestone"' in request.content


@respx.mock
def test_endpoint_and_headers_come_from_the_environment() -> None:
    route = respx.post("https://otel.example.test/custom/logs").mock(return_value=OK)
    env = {
        "OTEL_EXPORTER_OTLP_LOGS_ENDPOINT": "https://otel.example.test/custom/logs",
        "OTEL_EXPORTER_OTLP_HEADERS": "api-key=abc%3D%3D",
        "OTEL_SERVICE_NAME": "from-env",
        "OTEL_BLRP_SCHEDULE_DELAY": "50",
    }
    client = cs_sdk.Client(environ=env)
    client.milestone("m")
    assert client.flush(timeout=5)
    client.shutdown()
    request = route.calls.last.request
    assert request.headers["api-key"] == "abc=="
    resource = decoded(request).resource_logs[0].resource
    assert {a.key: a.value.string_value for a in resource.attributes}["service.name"] == "from-env"


@respx.mock
def test_a_400_is_not_retried_and_is_logged_once_with_the_collectors_message(
    caplog: pytest.LogCaptureFixture,
) -> None:
    route = respx.post(URL).mock(
        return_value=httpx.Response(
            400,
            content=status_body(3, "log record too large"),
            headers={"content-type": "application/x-protobuf"},
        )
    )
    client = fast_client()
    with caplog.at_level(logging.WARNING, logger="cs_sdk"):
        client.milestone("a")
        assert client.flush(timeout=5) is False
        client.milestone("b")
        assert client.flush(timeout=5) is False
    client.shutdown()
    assert route.call_count == 2  # one request per batch: no retries
    stats = client.stats()
    assert stats["dropped"]["rejected_by_collector"] == 2
    assert stats["retried"] == 0
    rejected = [r.getMessage() for r in caplog.records if "rejected" in r.getMessage()]
    assert len(rejected) == 1
    assert "log record too large" in rejected[0]


@respx.mock
def test_retryable_answers_are_retried_honouring_retry_after() -> None:
    route = respx.post(URL).mock(
        side_effect=[
            httpx.Response(503, headers={"retry-after": "0"}),
            httpx.Response(429, headers={"retry-after": "0"}),
            OK,
        ]
    )
    client = fast_client()
    client.milestone("m")
    assert client.flush(timeout=10)
    client.shutdown()
    assert route.call_count == 3
    assert client.stats()["retried"] == 2
    assert client.stats()["sent"] == 1


@respx.mock
def test_timeouts_are_retried_until_the_export_budget_then_counted() -> None:
    route = respx.post(URL).mock(side_effect=httpx.ReadTimeout("slow collector"))
    client = fast_client(export_timeout=0.5, timeout=0.1)
    client.milestone("m")
    assert client.flush(timeout=10) is False
    client.shutdown()
    assert route.call_count >= 1
    assert client.stats()["dropped"]["retry_exhausted"] == 1
    assert client.stats()["sent"] == 0


@respx.mock
def test_partial_success_is_counted_as_rejected_by_collector(
    caplog: pytest.LogCaptureFixture,
) -> None:
    response = ExportLogsServiceResponse()
    response.partial_success.rejected_log_records = 2
    response.partial_success.error_message = "2 records had no body"
    respx.post(URL).mock(
        return_value=httpx.Response(
            200,
            content=response.SerializeToString(),
            headers={"content-type": "application/x-protobuf"},
        )
    )
    client = fast_client()
    with caplog.at_level(logging.WARNING, logger="cs_sdk"):
        for index in range(5):
            client.milestone(f"m{index}")
        assert client.flush(timeout=5) is False
    client.shutdown()
    stats = client.stats()
    assert stats["sent"] == 3
    assert stats["dropped"]["rejected_by_collector"] == 2
    assert "2 records had no body" in caplog.text


@respx.mock
def test_secrets_in_headers_never_reach_the_logs(caplog: pytest.LogCaptureFixture) -> None:
    respx.post(URL).mock(return_value=httpx.Response(400, text="bad request"))
    with caplog.at_level(logging.DEBUG, logger="cs_sdk"):
        client = fast_client(headers={"Authorization": "Bearer super-secret-token"})
        client.milestone("m")
        client.flush(timeout=5)
        client.shutdown()
    assert "super-secret-token" not in caplog.text
    assert "super-secret-token" not in repr(client) + repr(client.config)


def test_an_injected_http_client_is_used() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return OK

    client = fast_client(http_client=httpx.Client(transport=httpx.MockTransport(handler)))
    client.milestone("m")
    assert client.flush(timeout=5)
    client.shutdown()
    assert len(seen) == 1
