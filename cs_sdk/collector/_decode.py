"""Decoding OTLP/HTTP logs requests (protobuf or JSON, gzip or not) into plain records.

    records = decode_export_request(
        body, content_type="application/x-protobuf", content_encoding="gzip"
    )
    records[0].name, records[0].user_id, records[0].body

Exceptions::

    DecodeError (ValueError)        the body is not a valid ExportLogsServiceRequest -> 400
    +-- UnsupportedMediaType        neither protobuf nor JSON, or not gzip/identity   -> 415
    +-- TooLarge                    more records than ``Limits.max_records``          -> 413

Every step is bounded by :class:`Limits`: gzip inflates only to ``max_inflated``, records are
counted on the wire before protobuf builds them (10^6 empty records fit in 2 KiB of gzip),
a JSON document's containers are counted before it is parsed, and nesting is limited, so
that a small hostile body cannot turn into gigabytes or a RecursionError.
"""

from __future__ import annotations

import base64
import json
import os
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from google.protobuf import json_format
from google.protobuf.message import DecodeError as ProtobufDecodeError
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest

from .. import _attributes as attr
from ._limits import Limits
from ._wirecount import count_log_records


def _load_fast() -> Callable[[bytes, type, tuple[Any, ...], int, int, int, int], Any] | None:
    # CS_SDK_SPEEDUPS=false turns every C accelerator off, this one included (CI runs the
    # suite once that way, so the Python decoder keeps being tested end to end).
    if os.environ.get("CS_SDK_SPEEDUPS", "").strip().lower() == "false":
        return None
    try:
        from ._wire_speedups import decode
    except ImportError:  # not built (no compiler at install time, or not CPython)
        return None
    return decode


_fast_decode = _load_fast()

_DEFAULT = Limits()
_PIECE = 1 << 20


class DecodeError(ValueError):
    """The request body is not a valid ExportLogsServiceRequest."""


class UnsupportedMediaType(DecodeError):
    """The Content-Type is neither protobuf nor JSON."""


class TooLarge(DecodeError):
    """The request holds more records than the collector takes in one request."""


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


class _Budget:
    """Values (attributes, map entries, array items) a request may still decode: the
    inflated size alone allows 32 million two-byte values, each a Python object."""

    __slots__ = ("left",)

    def __init__(self, values: int) -> None:
        self.left = values

    def take(self, count: int) -> None:
        self.left -= count
        if self.left < 0:
            raise TooLarge("too many values in one request")


_SCALARS = frozenset({"string_value", "int_value", "double_value", "bool_value", "bytes_value"})


def any_value(value: Any, depth: int = _DEFAULT.max_depth, budget: _Budget | None = None) -> Any:
    """An OTLP AnyValue message as a Python value; nesting deeper than ``depth`` is a
    :class:`DecodeError` (not a RecursionError, which would be a 500)."""
    kind = value.WhichOneof("value")
    if kind is None:
        return None
    if kind == "kvlist_value" or kind == "array_value":
        if depth <= 0:
            raise DecodeError("values are nested too deeply")
        budget = budget or _Budget(_DEFAULT.max_values)
        if kind == "kvlist_value":
            return _pairs(value.kvlist_value.values, depth - 1, budget)
        items = value.array_value.values
        budget.take(len(items))
        return [any_value(item, depth - 1, budget) for item in items]
    return getattr(value, kind)


def _pairs(items: Any, depth: int, budget: _Budget) -> dict[str, Any]:
    budget.take(len(items))
    out: dict[str, Any] = {}
    # any_value inlined for scalars: this loop runs for every attribute of every event.
    for kv in items:
        value = kv.value
        kind = value.WhichOneof("value")
        if kind in _SCALARS:
            out[kv.key] = getattr(value, kind)
        else:
            out[kv.key] = any_value(value, depth, budget)
    return out


def _attributes(items: Any, limits: Limits, budget: _Budget) -> dict[str, Any]:
    if len(items) > limits.max_attributes:
        raise DecodeError(f"{len(items)} attributes on one item, over {limits.max_attributes}")
    return _pairs(items, limits.max_depth, budget)


def _json_shape(document: Any, limits: Limits) -> None:
    """Refuse a JSON document nested deeper than the limit, iteratively (no recursion)."""
    stack: list[tuple[Any, int]] = [(document, 0)]
    # An OTLP/JSON record sits at depth 6 and its values nest ~3 levels per AnyValue level.
    ceiling = 8 + 3 * limits.max_depth
    while stack:
        node, depth = stack.pop()
        if depth > ceiling:
            raise DecodeError("the JSON document is nested too deeply")
        if isinstance(node, dict):
            stack.extend((item, depth + 1) for item in node.values())
        elif isinstance(node, list):
            stack.extend((item, depth + 1) for item in node)


def _decompress(body: bytes, content_encoding: str | None, cap: int) -> bytes:
    encoding = (content_encoding or "identity").strip().lower()
    if encoding in ("", "identity"):
        return body
    if encoding != "gzip":
        raise UnsupportedMediaType(f"unsupported Content-Encoding {content_encoding!r}")
    chunks: list[bytes] = []
    total = 0
    rest = body
    # A gzip stream may hold several members (RFC 1952); each gets its own decompressor.
    # Inflated a piece at a time: a bomb costs the cap, not the cap plus a copy of it.
    while True:
        decompressor = zlib.decompressobj(31)
        data = rest
        while True:
            try:
                piece = decompressor.decompress(data, _PIECE)
            except zlib.error as error:
                raise DecodeError(f"invalid gzip body: {error}") from error
            total += len(piece)
            if total > cap:
                raise DecodeError(f"the body inflates past {cap} bytes")
            chunks.append(piece)
            data = decompressor.unconsumed_tail
            if decompressor.eof or not data:
                break
        if not decompressor.eof:
            # zlib returns what it could of a cut stream without complaint.
            raise DecodeError("invalid gzip body: truncated")
        rest = decompressor.unused_data
        if not rest:
            return chunks[0] if len(chunks) == 1 else b"".join(chunks)


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


def _too_many(count: int, limits: Limits) -> TooLarge:
    return TooLarge(f"{count} log records in one request, over {limits.max_records}")


def _media(content_type: str | None) -> str:
    media = (content_type or "").split(";", 1)[0].strip().lower()
    if media not in ("application/x-protobuf", "application/json"):
        raise UnsupportedMediaType(f"unsupported Content-Type {content_type!r}")
    return media


def parse_request(
    body: bytes,
    *,
    content_type: str | None,
    content_encoding: str | None,
    limits: Limits = _DEFAULT,
) -> ExportLogsServiceRequest:
    """The ExportLogsServiceRequest in a request body, within ``limits``."""
    media = _media(content_type)
    return _parse(_decompress(body, content_encoding, limits.max_inflated), media, limits)


def _parse(data: bytes, media: str, limits: Limits) -> ExportLogsServiceRequest:
    message = ExportLogsServiceRequest()
    if media == "application/x-protobuf":
        # Counted on the wire first: protobuf would build every record before we could.
        count = count_log_records(data, limits.max_records)
        if count > limits.max_records:
            raise _too_many(count, limits)
        try:
            message.ParseFromString(data)
        except ProtobufDecodeError as error:
            raise DecodeError(f"invalid protobuf body: {error}") from error
    else:
        # Each "{" or "[" becomes a Python object: bound them before json builds them all.
        containers = data.count(b"{") + data.count(b"[")
        if containers > limits.max_json_containers:
            raise TooLarge(
                f"{containers} JSON objects and arrays in one request, over "
                f"{limits.max_json_containers}; send protobuf for large batches"
            )
        try:
            document = json.loads(data)
        except (ValueError, RecursionError) as error:  # bad UTF-8 is a ValueError too
            raise DecodeError(f"invalid JSON body: {error}") from error
        if not isinstance(document, dict):
            raise DecodeError("invalid OTLP/JSON body: not a JSON object")
        _json_shape(document, limits)
        try:
            # OTLP/JSON: receivers must ignore fields they do not know (forward compatibility).
            json_format.ParseDict(_hex_ids_to_base64(document), message, ignore_unknown_fields=True)
        except (json_format.ParseError, TypeError, ValueError) as error:
            raise DecodeError(f"invalid OTLP/JSON body: {error}") from error
        count = sum(len(s.log_records) for r in message.resource_logs for s in r.scope_logs)
        if count > limits.max_records:
            raise _too_many(count, limits)
    return message


_NEW = object.__new__
# Frozen dataclasses set each field through object.__setattr__ in __init__, 4x the cost of
# the slot descriptors used here; this runs once per event.
_SLOTS = tuple(getattr(ReceivedRecord, name) for name in ReceivedRecord.__slots__)
_SETTERS = tuple(slot.__set__ for slot in _SLOTS)


def _record(*values: Any) -> ReceivedRecord:
    record: ReceivedRecord = _NEW(ReceivedRecord)
    for setter, value in zip(_SETTERS, values, strict=True):
        setter(record, value)
    return record


def records_of(
    message: ExportLogsServiceRequest, limits: Limits = _DEFAULT
) -> list[ReceivedRecord]:
    """Flatten a request into records, each carrying its resource and scope."""
    records: list[ReceivedRecord] = []
    depth = limits.max_depth
    budget = _Budget(limits.max_values)
    for resource_logs in message.resource_logs:
        resource = _attributes(resource_logs.resource.attributes, limits, budget)
        for scope_logs in resource_logs.scope_logs:
            scope = scope_logs.scope
            scope_name, scope_version = scope.name, scope.version
            for log in scope_logs.log_records:
                # In the order of ReceivedRecord's fields.
                records.append(
                    _record(
                        resource,
                        scope_name,
                        scope_version,
                        log.time_unix_nano,
                        log.observed_time_unix_nano,
                        log.event_name,
                        int(log.severity_number),
                        log.severity_text,
                        any_value(log.body, depth, budget) if log.HasField("body") else None,
                        _attributes(log.attributes, limits, budget),
                        log.trace_id.hex(),
                        log.span_id.hex(),
                        log.flags,
                    )
                )
    return records


def decode_export_request(
    body: bytes,
    *,
    content_type: str | None,
    content_encoding: str | None,
    limits: Limits = _DEFAULT,
) -> list[ReceivedRecord]:
    """Decode an OTLP/HTTP logs request body into records. Raises :class:`DecodeError`."""
    media = _media(content_type)
    data = _decompress(body, content_encoding, limits.max_inflated)
    if _fast_decode is not None and media == "application/x-protobuf":
        # The C decoder gives the same records 3-4x faster, or None for anything it does
        # not fully understand (malformed, over a limit, unusual): then the protobuf
        # runtime below decides, so a refusal is always this module's.
        fast = _fast_decode(
            data,
            ReceivedRecord,
            _SLOTS,
            limits.max_records,
            limits.max_attributes,
            limits.max_depth,
            limits.max_values,
        )
        if fast is not None:
            records: list[ReceivedRecord] = fast
            return records
    message = _parse(data, media, limits)
    try:
        return records_of(message, limits)
    except RecursionError as error:  # protobuf's own nesting limit is deeper than ours
        raise DecodeError("values are nested too deeply") from error
