"""The OTLP/JSON encoder: ExportLogsServiceRequest as ``application/json``.

    encoder = JsonEncoder(OtlpScope({"service.name": "checkout"}, "cs_sdk", "1.2.0"))
    fragments = [encoder.encode_record(record) for record in records]  # one JSON object each
    body = encoder.encode_request(fragments)

The OTLP/JSON mapping (https://opentelemetry.io/docs/specs/otlp/#json-protobuf-encoding)
differs from protobuf's canonical JSON in the places that matter here: ``traceId`` and
``spanId`` are lowercase hex, not base64. The rest is proto3 JSON: lowerCamelCase names,
64-bit integers (``intValue``, ``timeUnixNano``) as decimal strings so that JavaScript
readers keep every digit, ``bytesValue`` in base64, non-finite doubles as the strings
``"NaN"``, ``"Infinity"``, ``"-Infinity"``, enums as numbers, and zero or empty fields left out.
An empty AnyValue (a ``None`` value) is ``{}``.
"""

from __future__ import annotations

import base64
import json
import math
from collections.abc import Mapping, Sequence
from typing import Any, Final

from .._record import EventRecord
from ._mapping import to_otlp
from ._otlp_types import OtlpLogRecord, OtlpScope

__all__ = ["JsonEncoder"]

_INT64_MIN: Final = -(2**63)
_INT64_MAX: Final = 2**63 - 1
# Upstream validation caps nesting at 10; past this a value is written as str(value) so
# that a self-containing list cannot recurse without end (as in the protobuf writer).
_MAX_DEPTH: Final = 32

# One encoder built up front: json.dumps() with any option builds a new JSONEncoder per call.
# allow_nan=False: non-finite doubles are already strings, so a bare NaN would be a bug and
# must fail loudly rather than produce a body the collector rejects.
_dumps = json.JSONEncoder(
    ensure_ascii=False, separators=(",", ":"), check_circular=False, allow_nan=False
).encode


def _utf8(text: str) -> bytes:
    try:
        return text.encode()
    except UnicodeEncodeError:
        # Lone surrogates: a collector rejects invalid UTF-8, and with it the whole batch.
        return text.encode("utf-8", "replace")


def _key_values(values: Mapping[str, Any], depth: int) -> list[dict[str, Any]]:
    """Repeated KeyValue: ``[{"key": ..., "value": AnyValue}, ...]``."""
    return [
        {"key": key if isinstance(key, str) else str(key), "value": _any_value(value, depth)}
        for key, value in values.items()
    ]


def _any_value(value: Any, depth: int) -> dict[str, Any]:
    """The AnyValue JSON object for one Python value (mapped as the protobuf writer does)."""
    kind = type(value)
    if kind is str:
        return {"stringValue": value}
    if kind is bool:
        return {"boolValue": value}
    if kind is int:
        if _INT64_MIN <= value <= _INT64_MAX:
            return {"intValue": str(value)}
        return {"stringValue": str(value)}  # out of int64 range: digits, not a wrapped value
    if kind is float:
        if math.isfinite(value):
            return {"doubleValue": value}
        if value != value:
            return {"doubleValue": "NaN"}
        return {"doubleValue": "Infinity" if value > 0 else "-Infinity"}
    if value is None:
        return {}
    if isinstance(value, bool):
        return {"boolValue": bool(value)}
    if isinstance(value, int):  # IntEnum and the like: the number it holds
        return _any_value(int(value), depth)
    if isinstance(value, float):
        return _any_value(float(value), depth)
    if isinstance(value, str):
        return {"stringValue": str.__str__(value)}
    if isinstance(value, (bytes, bytearray, memoryview)):
        return {"bytesValue": base64.b64encode(value).decode("ascii")}
    if depth >= _MAX_DEPTH:
        return {"stringValue": str(value)}
    if isinstance(value, Mapping):
        return {"kvlistValue": {"values": _key_values(value, depth + 1)}}
    if isinstance(value, (list, tuple)):
        depth += 1
        return {"arrayValue": {"values": [_any_value(item, depth) for item in value]}}
    return {"stringValue": str(value)}


class JsonEncoder:
    """``application/json`` request bodies (OTLP/JSON), one LogRecord fragment at a time.

    Example:
        >>> encoder = JsonEncoder(OtlpScope({"service.name": "svc"}, "cs_sdk", "1.0"))
        >>> record = OtlpLogRecord(5, 5, "cs.milestone", {"user.id": "u1"}, {"step": 2})
        >>> encoder.encode_record(record)[:40]
        b'{"timeUnixNano":"5","observedTimeUnixNan'
    """

    content_type: str = "application/json"

    def __init__(self, scope: OtlpScope) -> None:
        resource: dict[str, Any] = {}
        if scope.resource_attributes:
            resource["attributes"] = _key_values(scope.resource_attributes, 0)
        instrumentation: dict[str, Any] = {}
        if scope.scope_name:
            instrumentation["name"] = scope.scope_name
        if scope.scope_version:
            instrumentation["version"] = scope.scope_version
        # Everything around the records is the same for every request: encoded once.
        self._prefix = (
            b'{"resourceLogs":[{"resource":'
            + _utf8(_dumps(resource))
            + b',"scopeLogs":[{"scope":'
            + _utf8(_dumps(instrumentation))
            + b',"logRecords":['
        )
        self._suffix = b"]}]}]}"

    def encode_event(self, record: EventRecord) -> bytes:
        """Map and encode one event record (``Encoder.encode_event``)."""
        return self.encode_record(to_otlp(record))

    def encode_record(self, record: OtlpLogRecord) -> bytes:
        """One LogRecord as a JSON object (UTF-8), for ``encode_request`` to join."""
        out: dict[str, Any] = {}
        if record.time_unix_nano:
            out["timeUnixNano"] = str(record.time_unix_nano)
        if record.observed_time_unix_nano:
            out["observedTimeUnixNano"] = str(record.observed_time_unix_nano)
        if record.severity_number:
            out["severityNumber"] = record.severity_number
        if record.severity_text:
            out["severityText"] = record.severity_text
        if record.body is not None:
            out["body"] = _any_value(record.body, 0)
        if record.attributes:
            out["attributes"] = _key_values(record.attributes, 0)
        if record.flags:
            out["flags"] = record.flags
        if record.trace_id:
            out["traceId"] = record.trace_id.hex()
        if record.span_id:
            out["spanId"] = record.span_id.hex()
        if record.event_name:
            out["eventName"] = record.event_name
        return _utf8(_dumps(out))

    def encode_request(self, fragments: Sequence[bytes]) -> bytes:
        """The ExportLogsServiceRequest object around ``fragments``, copied once by a join."""
        parts = [self._prefix]
        for fragment in fragments:
            parts += (fragment, b",")
        if fragments:
            parts.pop()  # the trailing comma
        parts.append(self._suffix)
        return b"".join(parts)
