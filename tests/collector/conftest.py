"""Fixtures and hand-built OTLP requests for the collector tests.

Requests are built here with opentelemetry-proto messages (protobuf) and OTLP/JSON dicts, not
with the SDK's encoder, so the collector is checked against the wire format itself.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import (
    AnyValue,
    ArrayValue,
    InstrumentationScope,
    KeyValue,
    KeyValueList,
)
from opentelemetry.proto.logs.v1.logs_pb2 import LogRecord, ResourceLogs, ScopeLogs
from opentelemetry.proto.resource.v1.resource_pb2 import Resource

from cs_sdk.collector import LocalCollector

TRACE_ID = "5b8efff798038103d269b633813fc60c"
SPAN_ID = "eee19b7ec3c1b174"
TIME = 1_767_268_801_123_456_789
RESOURCE = {"service.name": "web", "deployment.environment.name": "staging"}
BODY = {
    "pages": 3,
    "ratio": 0.25,
    "ok": True,
    "title": "Q3 ✓",
    "raw": b"\x00\xff",
    "tags": ["a", 2],
    "nested": {"depth": 2, "empty": None},
}
ATTRIBUTES = {
    "cs.event.id": "ev-1",
    "cs.event.name": "first_report_created",
    "cs.schema.name": "cs.milestone",
    "cs.schema.version": "1.0.0",
    "user.id": "u1",
    "session.id": "s9",
    "cs.account.id": "acme",
    "cs.pilot.ids": ["p1", "p2"],
    "cs.pilot.cohorts": ["early", "control"],
}
PROTOBUF = "application/x-protobuf"
JSON = "application/json"


@pytest.fixture
def collector() -> Iterator[LocalCollector]:
    with LocalCollector() as running:
        yield running


@pytest.fixture
def http() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=5.0) as client:
        yield client


# -- protobuf -----------------------------------------------------------------------------


def any_value(value: Any) -> AnyValue:
    """A Python value as an OTLP AnyValue (None is the empty AnyValue)."""
    if value is None:
        return AnyValue()
    if isinstance(value, bool):
        return AnyValue(bool_value=value)
    if isinstance(value, int):
        return AnyValue(int_value=value)
    if isinstance(value, float):
        return AnyValue(double_value=value)
    if isinstance(value, str):
        return AnyValue(string_value=value)
    if isinstance(value, bytes):
        return AnyValue(bytes_value=value)
    if isinstance(value, list):
        return AnyValue(array_value=ArrayValue(values=[any_value(item) for item in value]))
    return AnyValue(kvlist_value=KeyValueList(values=key_values(value)))


def key_values(mapping: dict[str, Any]) -> list[KeyValue]:
    return [KeyValue(key=key, value=any_value(value)) for key, value in mapping.items()]


def log_record(
    *,
    event_name: str = "cs.milestone",
    body: Any = BODY,
    attributes: dict[str, Any] | None = None,
    with_trace: bool = True,
) -> LogRecord:
    record = LogRecord(
        time_unix_nano=TIME,
        observed_time_unix_nano=TIME + 1,
        severity_number=9,  # type: ignore[arg-type]
        severity_text="INFO",
        event_name=event_name,
        attributes=key_values(ATTRIBUTES if attributes is None else attributes),
    )
    if body is not None:
        record.body.CopyFrom(any_value(body))
    if with_trace:
        record.trace_id = bytes.fromhex(TRACE_ID)
        record.span_id = bytes.fromhex(SPAN_ID)
        record.flags = 1
    return record


def export_request(*records: LogRecord, resource: dict[str, Any] = RESOURCE) -> bytes:
    """A serialized ExportLogsServiceRequest with one resource and the cs_sdk scope."""
    request = ExportLogsServiceRequest(
        resource_logs=[
            ResourceLogs(
                resource=Resource(attributes=key_values(resource)),
                scope_logs=[
                    ScopeLogs(
                        scope=InstrumentationScope(name="cs_sdk", version="0.1.0"),
                        log_records=list(records) or [log_record()],
                    )
                ],
            )
        ]
    )
    data: bytes = request.SerializeToString()
    return data


def milestones(count: int) -> bytes:
    """One request carrying ``count`` milestones named m0, m1, ..."""
    return export_request(
        *(
            log_record(attributes={**ATTRIBUTES, "cs.event.name": f"m{index}"})
            for index in range(count)
        )
    )


# -- OTLP/JSON ----------------------------------------------------------------------------


def json_any(value: Any) -> dict[str, Any]:
    """A Python value as OTLP/JSON AnyValue (int64 as a string, bytes as base64)."""
    import base64

    if value is None:
        return {}
    if isinstance(value, bool):
        return {"boolValue": value}
    if isinstance(value, int):
        return {"intValue": str(value)}
    if isinstance(value, float):
        return {"doubleValue": value}
    if isinstance(value, str):
        return {"stringValue": value}
    if isinstance(value, bytes):
        return {"bytesValue": base64.b64encode(value).decode()}
    if isinstance(value, list):
        return {"arrayValue": {"values": [json_any(item) for item in value]}}
    return {"kvlistValue": {"values": json_attributes(value)}}


def json_attributes(mapping: dict[str, Any]) -> list[dict[str, Any]]:
    return [{"key": key, "value": json_any(value)} for key, value in mapping.items()]


def json_request(**overrides: Any) -> dict[str, Any]:
    """An OTLP/JSON ExportLogsServiceRequest with one record: hex ids, the time as a
    string and the observed time as a number (both are allowed for int64)."""
    record: dict[str, Any] = {
        "timeUnixNano": str(TIME),
        "observedTimeUnixNano": TIME + 1,
        "severityNumber": 9,
        "severityText": "INFO",
        "eventName": "cs.milestone",
        "body": json_any(BODY),
        "attributes": json_attributes(ATTRIBUTES),
        "traceId": TRACE_ID,
        "spanId": SPAN_ID,
        "flags": 1,
        **overrides,
    }
    return {
        "resourceLogs": [
            {
                "resource": {"attributes": json_attributes(RESOURCE)},
                "scopeLogs": [
                    {"scope": {"name": "cs_sdk", "version": "0.1.0"}, "logRecords": [record]}
                ],
            }
        ]
    }


def encode_json(document: dict[str, Any]) -> bytes:
    return json.dumps(document).encode()


def body_for(content_type: str) -> bytes:
    """The standard one-record request in ``content_type``."""
    return export_request() if content_type == PROTOBUF else encode_json(json_request())


def post(
    http: httpx.Client,
    collector: LocalCollector,
    body: bytes,
    content_type: str = PROTOBUF,
    *,
    gzipped: bool = False,
    path: str = "/v1/logs",
) -> httpx.Response:
    headers = {"Content-Type": content_type}
    if gzipped:
        body = gzip.compress(body)
        headers["Content-Encoding"] = "gzip"
    return http.post(collector.endpoint + path, content=body, headers=headers)
