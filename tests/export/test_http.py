"""Precise request/response cases for the OTLP/HTTP exporter, with respx."""

from __future__ import annotations

import datetime as dt
import gzip
import logging
import ssl
import time
from email.utils import format_datetime

import httpx
import pytest
import respx
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import (
    ExportLogsServiceRequest,
    ExportLogsServiceResponse,
)

import cs_sdk
from cs_sdk._export._transport import parse_retry_after

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


@respx.mock
@pytest.mark.parametrize(
    ("base", "expected"),
    [
        ("https://otel.example.test:4318", "https://otel.example.test:4318/v1/logs"),
        ("https://otel.example.test/", "https://otel.example.test/v1/logs"),
        ("https://otel.example.test/ingest", "https://otel.example.test/ingest/v1/logs"),
    ],
)
def test_the_base_endpoint_from_the_environment_gets_v1_logs_appended(
    base: str, expected: str
) -> None:
    route = respx.post(expected).mock(return_value=OK)
    client = cs_sdk.Client(
        environ={"OTEL_EXPORTER_OTLP_ENDPOINT": base, "OTEL_BLRP_SCHEDULE_DELAY": "50"}
    )
    client.milestone("m")
    assert client.flush(timeout=5)
    client.shutdown()
    assert route.call_count == 1
    assert str(route.calls.last.request.url) == expected


@respx.mock
@pytest.mark.parametrize(
    ("environ", "seconds"),
    [
        ({"OTEL_EXPORTER_OTLP_TIMEOUT": "2500"}, 2.5),
        ({"OTEL_EXPORTER_OTLP_TIMEOUT": "2500", "OTEL_EXPORTER_OTLP_LOGS_TIMEOUT": "700"}, 0.7),
    ],
)
def test_the_timeout_from_the_environment_in_milliseconds_reaches_the_request(
    environ: dict[str, str], seconds: float
) -> None:
    route = respx.post(URL).mock(return_value=OK)
    client = cs_sdk.Client(
        environ={"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4318", **environ}
    )
    client.milestone("m")
    assert client.flush(timeout=5)
    client.shutdown()
    timeout = route.calls.last.request.extensions["timeout"]
    assert timeout == {"connect": seconds, "read": seconds, "write": seconds, "pool": seconds}


@respx.mock
def test_502_and_504_are_retried() -> None:
    route = respx.post(URL).mock(side_effect=[httpx.Response(502), httpx.Response(504), OK])
    client = fast_client()
    client.milestone("m")
    assert client.flush(timeout=10)  # two backoffs of at most 0.5 s and 1 s
    client.shutdown()
    assert route.call_count == 3
    assert client.stats()["retried"] == 2
    assert client.stats()["sent"] == 1


@respx.mock
def test_the_message_of_a_json_error_body_is_logged(caplog: pytest.LogCaptureFixture) -> None:
    respx.post(URL).mock(
        return_value=httpx.Response(
            400, json={"code": 3, "message": "log record attribute too long", "details": []}
        )
    )
    client = fast_client(protocol="http/json")
    with caplog.at_level(logging.WARNING, logger="cs_sdk"):
        client.milestone("m")
        assert client.flush(timeout=5) is False
    client.shutdown()
    rejected = [r.getMessage() for r in caplog.records if "rejected" in r.getMessage()]
    assert len(rejected) == 1
    assert "log record attribute too long" in rejected[0]
    assert '"code"' not in rejected[0]  # the message, not the raw body


@respx.mock
def test_retry_after_as_an_http_date_is_honoured() -> None:
    sent_at: list[float] = []

    def answer(request: httpx.Request) -> httpx.Response:
        sent_at.append(time.monotonic())
        if len(sent_at) > 1:
            return OK
        # HTTP dates have whole seconds: two seconds ahead is a wait of one to two seconds,
        # longer than the first backoff could be (at most 0.5 s).
        when = dt.datetime.now(dt.timezone.utc) + dt.timedelta(seconds=2)
        return httpx.Response(503, headers={"retry-after": format_datetime(when, usegmt=True)})

    respx.post(URL).mock(side_effect=answer)
    client = fast_client()
    client.milestone("m")
    assert client.flush(timeout=10)
    client.shutdown()
    assert len(sent_at) == 2
    assert sent_at[1] - sent_at[0] >= 0.9


def test_retry_after_is_read_as_seconds_or_as_an_http_date() -> None:
    now = dt.datetime(2025, 3, 1, 12, 0, tzinfo=dt.timezone.utc).timestamp()
    assert parse_retry_after("7", now=now) == 7.0
    assert parse_retry_after("Sat, 01 Mar 2025 12:00:05 GMT", now=now) == 5.0
    assert parse_retry_after("Sat, 01 Mar 2025 11:59:00 GMT", now=now) == 0.0  # in the past
    assert parse_retry_after("soon", now=now) is None
    assert parse_retry_after(None, now=now) is None


def refuse_to_send(request: httpx.Request) -> httpx.Response:
    raise AssertionError(f"nothing should have been sent, got {request.url}")


def test_plain_http_to_a_remote_host_is_warned_about_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    http_client = httpx.Client(transport=httpx.MockTransport(refuse_to_send))
    with caplog.at_level(logging.WARNING, logger="cs_sdk"):
        clients = [
            cs_sdk.Client(
                environ={}, endpoint="http://collector.example.com:4318", http_client=http_client
            )
            for _ in range(2)
        ]
        for client in clients:
            client.shutdown(timeout=1)
    warnings = [r for r in caplog.records if "plain http" in r.getMessage()]
    assert len(warnings) == 1
    assert warnings[0].levelno == logging.WARNING
    assert "http://collector.example.com:4318/v1/logs" in warnings[0].getMessage()
    http_client.close()


@pytest.mark.parametrize(
    "endpoint",
    [
        "http://127.0.0.1:4318",
        "http://localhost:4318",
        "http://[::1]:4318",
        "https://collector.example.com:4318",
    ],
)
def test_loopback_or_https_endpoints_are_not_warned_about(
    endpoint: str, caplog: pytest.LogCaptureFixture
) -> None:
    http_client = httpx.Client(transport=httpx.MockTransport(refuse_to_send))
    with caplog.at_level(logging.WARNING, logger="cs_sdk"):
        client = cs_sdk.Client(environ={}, endpoint=endpoint, http_client=http_client)
        client.shutdown(timeout=1)
    assert not [r for r in caplog.records if "plain http" in r.getMessage()]
    http_client.close()


def built_ssl_context(client: cs_sdk.Client) -> ssl.SSLContext:
    """The SSL context of the httpx client the SDK built for itself."""
    http_client = client._pipeline._delivery.exporter._transport._client  # type: ignore[attr-defined]
    context: ssl.SSLContext = http_client._transport._pool._ssl_context
    return context


def test_tls_certificates_and_host_names_are_verified_by_default() -> None:
    client = cs_sdk.Client(environ={}, endpoint="https://collector.example.com")
    context = built_ssl_context(client)
    client.shutdown(timeout=1)
    assert context.verify_mode == ssl.CERT_REQUIRED
    assert context.check_hostname is True


def test_turning_verification_off_is_explicit() -> None:
    client = cs_sdk.Client(environ={}, endpoint="https://collector.example.com", verify=False)
    context = built_ssl_context(client)
    client.shutdown(timeout=1)
    assert context.verify_mode == ssl.CERT_NONE
