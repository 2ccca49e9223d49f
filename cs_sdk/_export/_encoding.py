"""OTLP encoders (interim: opentelemetry-proto message objects; a direct writer replaces it)."""

from __future__ import annotations

import base64
import json
import math
from collections.abc import Mapping, Sequence
from typing import Any, Literal, Protocol

from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, InstrumentationScope, KeyValue
from opentelemetry.proto.logs.v1.logs_pb2 import LogRecord
from opentelemetry.proto.resource.v1.resource_pb2 import Resource

from ._otlp_types import AttributeValue, OtlpLogRecord, OtlpScope


class Encoder(Protocol):
    content_type: str

    def encode_record(self, record: OtlpLogRecord) -> bytes: ...
    def encode_request(self, fragments: Sequence[bytes]) -> bytes: ...


def _any(value: AttributeValue) -> AnyValue:
    out = AnyValue()
    if value is None:
        return out
    if isinstance(value, bool):
        out.bool_value = value
    elif isinstance(value, int):
        if -(2**63) <= value < 2**63:
            out.int_value = value
        else:
            out.string_value = str(value)
    elif isinstance(value, float):
        out.double_value = value
    elif isinstance(value, str):
        out.string_value = value
    elif isinstance(value, bytes):
        out.bytes_value = value
    elif isinstance(value, Mapping):
        out.kvlist_value.values.extend(KeyValue(key=k, value=_any(v)) for k, v in value.items())
    elif isinstance(value, (list, tuple)):
        out.array_value.values.extend(_any(v) for v in value)
    else:
        out.string_value = str(value)
    return out


def _varint(value: int) -> bytes:
    out = bytearray()
    while value > 0x7F:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def _field(number: int, payload: bytes) -> bytes:
    return _varint(number << 3 | 2) + _varint(len(payload)) + payload


class ProtobufEncoder:
    content_type = "application/x-protobuf"

    def __init__(self, scope: OtlpScope) -> None:
        resource = Resource(
            attributes=[
                KeyValue(key=k, value=_any(v)) for k, v in scope.resource_attributes.items()
            ]
        ).SerializeToString()
        instrumentation = InstrumentationScope(
            name=scope.scope_name, version=scope.scope_version
        ).SerializeToString()
        self._resource_field = _field(1, resource)
        self._scope_field = _field(1, instrumentation)

    def encode_record(self, record: OtlpLogRecord) -> bytes:
        message = LogRecord(
            time_unix_nano=record.time_unix_nano,
            observed_time_unix_nano=record.observed_time_unix_nano,
            severity_number=record.severity_number,  # type: ignore[arg-type]
            severity_text=record.severity_text,
            attributes=[KeyValue(key=k, value=_any(v)) for k, v in record.attributes.items()],
            trace_id=record.trace_id,
            span_id=record.span_id,
            flags=record.flags,
            event_name=record.event_name,
        )
        if record.body is not None:
            message.body.CopyFrom(_any(record.body))
        return bytes(message.SerializeToString())

    def encode_request(self, fragments: Sequence[bytes]) -> bytes:
        scope_logs = self._scope_field + b"".join(_field(2, f) for f in fragments)
        resource_logs = self._resource_field + _field(2, scope_logs)
        return _field(1, resource_logs)


def _json_any(value: AttributeValue) -> dict[str, Any]:
    if value is None:
        return {}
    if isinstance(value, bool):
        return {"boolValue": value}
    if isinstance(value, int):
        if -(2**63) <= value < 2**63:
            return {"intValue": str(value)}
        return {"stringValue": str(value)}
    if isinstance(value, float):
        if math.isnan(value):
            return {"doubleValue": "NaN"}
        if math.isinf(value):
            return {"doubleValue": "Infinity" if value > 0 else "-Infinity"}
        return {"doubleValue": value}
    if isinstance(value, str):
        return {"stringValue": value}
    if isinstance(value, bytes):
        return {"bytesValue": base64.b64encode(value).decode()}
    if isinstance(value, Mapping):
        return {
            "kvlistValue": {"values": [{"key": k, "value": _json_any(v)} for k, v in value.items()]}
        }
    if isinstance(value, (list, tuple)):
        return {"arrayValue": {"values": [_json_any(v) for v in value]}}
    return {"stringValue": str(value)}


def _dumps(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode("utf-8", "replace")


class JsonEncoder:
    content_type = "application/json"

    def __init__(self, scope: OtlpScope) -> None:
        resource = {
            "attributes": [
                {"key": k, "value": _json_any(v)} for k, v in scope.resource_attributes.items()
            ]
        }
        instrumentation = {"name": scope.scope_name, "version": scope.scope_version}
        self._prefix = (
            b'{"resourceLogs":[{"resource":'
            + _dumps(resource)
            + b',"scopeLogs":[{"scope":'
            + _dumps(instrumentation)
            + b',"logRecords":['
        )
        self._suffix = b"]}]}]}"

    def encode_record(self, record: OtlpLogRecord) -> bytes:
        out: dict[str, Any] = {
            "timeUnixNano": str(record.time_unix_nano),
            "observedTimeUnixNano": str(record.observed_time_unix_nano),
            "severityNumber": record.severity_number,
            "severityText": record.severity_text,
            "eventName": record.event_name,
            "attributes": [{"key": k, "value": _json_any(v)} for k, v in record.attributes.items()],
        }
        if record.body is not None:
            out["body"] = _json_any(record.body)
        if record.trace_id:
            out["traceId"] = record.trace_id.hex()
        if record.span_id:
            out["spanId"] = record.span_id.hex()
        if record.flags:
            out["flags"] = record.flags
        return _dumps(out)

    def encode_request(self, fragments: Sequence[bytes]) -> bytes:
        return self._prefix + b",".join(fragments) + self._suffix


def make_encoder(protocol: Literal["http/protobuf", "http/json"], scope: OtlpScope) -> Encoder:
    return JsonEncoder(scope) if protocol == "http/json" else ProtobufEncoder(scope)


_ = ExportLogsServiceRequest
