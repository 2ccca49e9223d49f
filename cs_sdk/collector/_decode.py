"""Decoding OTLP/HTTP logs requests (protobuf or JSON, gzip or not) into plain records.

    records = decode_export_request(
        body, content_type="application/x-protobuf", content_encoding="gzip"
    )
    records[0].name, records[0].user_id, records[0].body

Exceptions::

    DecodeError (ValueError)        the body is not a valid ExportLogsServiceRequest -> 400
    +-- UnsupportedMediaType        neither protobuf nor JSON, or not gzip/identity   -> 415
"""

from __future__ import annotations

import base64
import json
import zlib
from dataclasses import dataclass, field
from typing import Any

from google.protobuf import json_format
from google.protobuf.message import DecodeError as ProtobufDecodeError
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest

from .. import _attributes as attr

# A gzip bomb must not take the collector's memory: 64 MiB on the wire may inflate a lot.
MAX_DECOMPRESSED = 256 * 1024 * 1024


class DecodeError(ValueError):
    """The request body is not a valid ExportLogsServiceRequest."""


class UnsupportedMediaType(DecodeError):
    """The Content-Type is neither protobuf nor JSON."""


@dataclass(frozen=True, slots=True)
class ReceivedRecord:
    """One LogRecord as it arrived, with its resource and scope, as plain Python values."""

    resource: dict[str, Any]
    scope_name: str
    scope_version: str
    time_unix_nano: int
    observed_time_unix_nano: int
    event_name: str
    severity_number: int
    severity_text: str
    body: Any
    attributes: dict[str, Any] = field(default_factory=dict)
    trace_id: str = ""
    span_id: str = ""
    flags: int = 0

    @property
    def event_id(self) -> str | None:
        return self._text(attr.EVENT_ID)

    @property
    def name(self) -> str | None:
        return self._text(attr.EVENT_NAME)

    @property
    def user_id(self) -> str | None:
        return self._text(attr.USER_ID)

    @property
    def account_id(self) -> str | None:
        return self._text(attr.ACCOUNT_ID)

    @property
    def session_id(self) -> str | None:
        return self._text(attr.SESSION_ID)

    @property
    def schema_version(self) -> str | None:
        return self._text(attr.SCHEMA_VERSION)

    @property
    def service_name(self) -> str | None:
        value = self.resource.get("service.name")
        return value if isinstance(value, str) else None

    def _text(self, key: str) -> str | None:
        value = self.attributes.get(key)
        return value if isinstance(value, str) else None


def any_value(value: Any) -> Any:
    """An OTLP AnyValue message as a Python value."""
    kind = value.WhichOneof("value")
    if kind is None:
        return None
    if kind == "kvlist_value":
        return {kv.key: any_value(kv.value) for kv in value.kvlist_value.values}
    if kind == "array_value":
        return [any_value(item) for item in value.array_value.values]
    return getattr(value, kind)


def _attributes(items: Any) -> dict[str, Any]:
    return {kv.key: any_value(kv.value) for kv in items}


def _decompress(body: bytes, content_encoding: str | None) -> bytes:
    encoding = (content_encoding or "identity").strip().lower()
    if encoding in ("", "identity"):
        return body
    if encoding != "gzip":
        raise UnsupportedMediaType(f"unsupported Content-Encoding {content_encoding!r}")
    out = bytearray()
    rest = body
    # A gzip stream may hold several members (RFC 1952); each gets its own decompressor.
    while True:
        decompressor = zlib.decompressobj(31)
        try:
            out += decompressor.decompress(rest, MAX_DECOMPRESSED + 1 - len(out))
        except zlib.error as error:
            raise DecodeError(f"invalid gzip body: {error}") from error
        if len(out) > MAX_DECOMPRESSED or decompressor.unconsumed_tail:
            raise DecodeError("decompressed body is too large")
        if not decompressor.eof:
            # zlib returns what it could of a cut stream without complaint.
            raise DecodeError("invalid gzip body: truncated")
        rest = decompressor.unused_data
        if not rest:
            return bytes(out)


def _hex_ids_to_base64(node: Any) -> Any:
    # OTLP/JSON sends trace and span ids as hex; protobuf's JSON parser expects base64.
    if isinstance(node, dict):
        out = {}
        for key, value in node.items():
            if key in ("traceId", "spanId", "trace_id", "span_id") and isinstance(value, str):
                try:
                    out[key] = base64.b64encode(bytes.fromhex(value)).decode()
                except ValueError as error:
                    raise DecodeError(f"{key} is not hex: {value!r}") from error
            else:
                out[key] = _hex_ids_to_base64(value)
        return out
    if isinstance(node, list):
        return [_hex_ids_to_base64(item) for item in node]
    return node


def parse_request(
    body: bytes, *, content_type: str | None, content_encoding: str | None
) -> ExportLogsServiceRequest:
    """The ExportLogsServiceRequest in a request body."""
    media = (content_type or "").split(";", 1)[0].strip().lower()
    data = _decompress(body, content_encoding)
    message = ExportLogsServiceRequest()
    if media == "application/x-protobuf":
        try:
            message.ParseFromString(data)
        except ProtobufDecodeError as error:
            raise DecodeError(f"invalid protobuf body: {error}") from error
    elif media == "application/json":
        try:
            document = json.loads(data)
        except (ValueError, RecursionError) as error:  # bad UTF-8 is a ValueError too
            raise DecodeError(f"invalid JSON body: {error}") from error
        if not isinstance(document, dict):
            raise DecodeError("invalid OTLP/JSON body: not a JSON object")
        try:
            # OTLP/JSON: receivers must ignore fields they do not know (forward compatibility).
            json_format.ParseDict(_hex_ids_to_base64(document), message, ignore_unknown_fields=True)
        except (json_format.ParseError, TypeError, ValueError) as error:
            raise DecodeError(f"invalid OTLP/JSON body: {error}") from error
    else:
        raise UnsupportedMediaType(f"unsupported Content-Type {content_type!r}")
    return message


def records_of(message: ExportLogsServiceRequest) -> list[ReceivedRecord]:
    """Flatten a request into records, each carrying its resource and scope."""
    records: list[ReceivedRecord] = []
    for resource_logs in message.resource_logs:
        resource = _attributes(resource_logs.resource.attributes)
        for scope_logs in resource_logs.scope_logs:
            scope = scope_logs.scope
            for log in scope_logs.log_records:
                records.append(
                    ReceivedRecord(
                        resource=resource,
                        scope_name=scope.name,
                        scope_version=scope.version,
                        time_unix_nano=log.time_unix_nano,
                        observed_time_unix_nano=log.observed_time_unix_nano,
                        event_name=log.event_name,
                        severity_number=int(log.severity_number),
                        severity_text=log.severity_text,
                        body=any_value(log.body) if log.HasField("body") else None,
                        attributes=_attributes(log.attributes),
                        trace_id=log.trace_id.hex(),
                        span_id=log.span_id.hex(),
                        flags=log.flags,
                    )
                )
    return records


def decode_export_request(
    body: bytes, *, content_type: str | None, content_encoding: str | None
) -> list[ReceivedRecord]:
    """Decode an OTLP/HTTP logs request body into records. Raises :class:`DecodeError`."""
    message = parse_request(body, content_type=content_type, content_encoding=content_encoding)
    return records_of(message)
