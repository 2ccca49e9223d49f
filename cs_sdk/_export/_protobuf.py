"""A direct OTLP protobuf writer: ExportLogsServiceRequest bytes without message objects.

    encoder = ProtobufEncoder(OtlpScope({"service.name": "checkout"}, "cs_sdk", "1.2.0"))
    fragments = [encoder.encode_record(record) for record in records]  # one LogRecord each
    body = encoder.encode_request(fragments)  # POST as application/x-protobuf

Building opentelemetry-proto message objects costs tens of microseconds per record in
Python, nearly all of it object creation. Writing the wire format by hand (varints,
length-delimited fields, fixed64) with the resource and scope encoded once and attribute
keys cached is several times faster (bench/encoding.py), and the output is byte-for-byte
what ``SerializeToString()`` gives: fields in number order, proto3 defaults left out, oneof
members written even when zero. tests/export/test_encoding.py checks that on random records.

Field numbers, from opentelemetry-proto (logs.proto, common.proto, resource.proto)::

    ExportLogsServiceRequest  1 resource_logs
    ResourceLogs              1 resource, 2 scope_logs
    ScopeLogs                 1 scope, 2 log_records
    LogRecord                 1 time_unix_nano (fixed64), 2 severity_number, 3 severity_text,
                              5 body, 6 attributes, 8 flags (fixed32), 9 trace_id, 10 span_id,
                              11 observed_time_unix_nano (fixed64), 12 event_name
    AnyValue                  1 string, 2 bool, 3 int (int64), 4 double, 5 array, 6 kvlist,
                              7 bytes
    KeyValue                  1 key, 2 value
    ArrayValue, KeyValueList  1 values
    Resource                  1 attributes
    InstrumentationScope      1 name, 2 version

A tag byte is ``field_number << 3 | wire_type`` (0 varint, 1 fixed64, 2 length-delimited,
5 fixed32): ``b"\\x32"`` below is field 6, length-delimited.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .._accelerated import encode_log_record, encode_pairs
from .._record import EventRecord
from ..events._schema import SchemaRef
from ._mapping import (
    EVENT_ID,
    EVENT_NAME,
    MAPPED_ATTRIBUTES,
    SCHEMA_NAME,
    SCHEMA_VERSION,
    add_who_and_pilots,
    to_otlp,
)
from ._otlp_types import SEVERITY_INFO, OtlpLogRecord, OtlpScope
from ._protobuf_values import (
    _KEY_CACHE_LIMIT,
    _SMALL,
    _TWO_TO_64,
    _delimited,
    _pack_fixed32,
    _pack_fixed64,
    _utf8,
    _varint,
    _Writer,
)

__all__ = ["ProtobufEncoder"]


class ProtobufEncoder:
    """``application/x-protobuf`` request bodies, built one LogRecord fragment at a time.

    Not thread-safe: one encoder belongs to one worker thread.

    Example:
        >>> encoder = ProtobufEncoder(OtlpScope({"service.name": "svc"}, "cs_sdk", "1.0"))
        >>> record = OtlpLogRecord(1, 1, "cs.milestone", {"user.id": "u1"}, {"step": 2})
        >>> body = encoder.encode_request([encoder.encode_record(record)])
        >>> body[:1]  # field 1 (resource_logs), length-delimited
        b'\\n'
    """

    content_type: str = "application/x-protobuf"

    def __init__(self, scope: OtlpScope, *, accelerated: bool = True) -> None:
        # encode_pairs is read here, at construction, as tests expect (they set it to None to
        # keep the whole encoder in Python, encode_log_record included).
        fast = accelerated and encode_pairs is not None
        self._writer = _Writer(encode_pairs if fast else None)
        self._record = encode_log_record if fast else None
        self._pairs = self._writer.pairs
        self._any_value = self._writer.any_value
        resource: list[bytes] = []
        self._pairs(scope.resource_attributes, b"\x0a", resource, 0)
        instrumentation = b""
        if scope.scope_name:
            instrumentation += _delimited(b"\x0a", _utf8(scope.scope_name))
        if scope.scope_version:
            instrumentation += _delimited(b"\x12", _utf8(scope.scope_version))
        # Written once: ResourceLogs.resource and ScopeLogs.scope, with their tags.
        self._resource_field = _delimited(b"\x0a", b"".join(resource))
        self._scope_field = _delimited(b"\x0a", instrumentation)
        # Severity and event name repeat across records: their fields, encoded once each.
        self._severity: dict[tuple[int, str], bytes] = {}
        self._info = self._severity_fields(SEVERITY_INFO, "INFO")
        self._event_names: dict[str, bytes] = {}
        # For encode_event: the event id's key, and the name + schema attributes by event.
        self._event_id_fields = self._writer.key_fields(EVENT_ID, b"\x32")
        self._heads: dict[tuple[str, SchemaRef], bytes] = {}

    @property
    def fallbacks(self) -> int:
        """How many dicts the C value writer handed back to the Python one (0 without C)."""
        return self._writer.fallbacks

    def encode_record(self, record: OtlpLogRecord) -> bytes:
        """One serialized LogRecord message (no tag or length: ``encode_request`` adds them)."""
        parts: list[bytes] = []
        append = parts.append
        time_unix_nano = record.time_unix_nano
        if time_unix_nano:
            append(b"\x09" + _pack_fixed64(time_unix_nano))
        number, text = record.severity_number, record.severity_text
        if number == SEVERITY_INFO and text == "INFO":
            append(self._info)
        else:
            append(self._severity.get((number, text)) or self._severity_fields(number, text))
        body = record.body
        if body is not None:
            self._body(body, parts)
        self._pairs(record.attributes, b"\x32", parts, 0)
        self._tail(record.flags, record.trace_id, record.span_id, parts)
        observed = record.observed_time_unix_nano
        if observed:
            append(b"\x59" + _pack_fixed64(observed))
        name = record.event_name
        if name:
            append(self._event_names.get(name) or self._event_name_field(name))
        return b"".join(parts)

    def encode_event(self, record: EventRecord) -> bytes:
        """``encode_record(to_otlp(record))`` in one pass, the worker's path: no intermediate
        ``OtlpLogRecord`` or attribute dict, and the attributes every event of one name
        shares (its name, schema name and version) written from a cache. The bytes are the
        same (tests/export/test_encoding.py); anything unusual takes the two-step path."""
        event_id, name, schema = record.event_id, record.name, record.schema
        extra = record.attributes
        if type(event_id) is not str or type(name) is not str:
            return self.encode_record(to_otlp(record))
        data = _utf8(event_id)
        if len(data) >= 0x80 or (extra and not MAPPED_ATTRIBUTES.isdisjoint(extra)):
            # A long id (before_send may change it), or an event attribute that would
            # replace a mapped one.
            return self.encode_record(to_otlp(record))
        id_fields = self._event_id_fields
        head = self._heads.get((name, schema)) or self._head(name, schema)
        rest: dict[str, Any] = {}
        add_who_and_pilots(record, rest)
        if extra:
            rest.update(extra)
        trace_id, span_id = record.trace_id, record.span_id
        trace = trace_id.to_bytes(16, "big") if trace_id else b""
        span = span_id.to_bytes(8, "big") if span_id else b""
        event_name = schema.name
        name_field = (
            (self._event_names.get(event_name) or self._event_name_field(event_name))
            if event_name
            else b""
        )
        id_prefix = id_fields.strings[len(data)] or id_fields.string(len(data))
        if self._record is not None:
            # The whole record in one C call; this method below stays the reference.
            encoded = self._record(
                record.time_unix_nano,
                self._info,
                record.body,
                id_prefix + data + head,
                rest,
                record.trace_flags,
                trace,
                span,
                name_field,
            )
            if encoded is not None:
                return encoded
            self._writer.fallbacks += 1
        parts: list[bytes] = []
        append = parts.append
        time_unix_nano = record.time_unix_nano
        stamp = _pack_fixed64(time_unix_nano) if time_unix_nano else b""
        if stamp:
            append(b"\x09" + stamp)
        append(self._info)
        body = record.body
        if body:  # to_otlp sends an empty body as none
            self._body(body, parts)
        # Attributes, in to_otlp's order: the event id, then name and schema, then the rest.
        append(id_prefix)
        append(data)
        append(head)
        if rest:
            self._pairs(rest, b"\x32", parts, 0)
        self._tail(record.trace_flags, trace, span, parts)
        if stamp:
            append(b"\x59" + stamp)  # observed time: the same instant
        if name_field:
            append(name_field)
        return b"".join(parts)

    def encode_request(self, fragments: Sequence[bytes]) -> bytes:
        """ExportLogsServiceRequest{resource_logs: [{resource, scope_logs: [{scope, fragments}]}]}.

        Lengths are summed first so that the records are copied once, by a single join.
        """
        small = _SMALL
        parts: list[bytes] = [b"", self._resource_field, b"\x12", b"", self._scope_field]
        scope_logs_size = len(self._scope_field)
        for fragment in fragments:
            n = len(fragment)
            length = small[n] if n < 0x80 else _varint(n)
            parts += (b"\x12", length, fragment)  # ScopeLogs.log_records
            scope_logs_size += 1 + len(length) + n
        parts[3] = _varint(scope_logs_size)
        resource_logs_size = len(self._resource_field) + 1 + len(parts[3]) + scope_logs_size
        parts[0] = b"\x0a" + _varint(resource_logs_size)
        return b"".join(parts)

    def _body(self, body: Any, parts: list[bytes]) -> None:
        if type(body) is dict:  # the usual body: an event's properties
            kvlist: list[bytes] = []
            self._pairs(body, b"\x0a", kvlist, 1)
            values = b"".join(kvlist)
            # body = AnyValue{kvlist_value = KeyValueList{values}}, without copying twice.
            length = _varint(len(values))
            parts += (b"\x2a", _varint(1 + len(length) + len(values)), b"\x32", length, values)
        else:
            parts.append(_delimited(b"\x2a", self._any_value(body, 0)))

    @staticmethod
    def _tail(flags: int, trace_id: bytes, span_id: bytes, parts: list[bytes]) -> None:
        if flags:
            parts.append(b"\x45" + _pack_fixed32(flags))
        if trace_id:
            parts.append(_delimited(b"\x4a", trace_id))
        if span_id:
            parts.append(_delimited(b"\x52", span_id))

    def _head(self, name: str, schema: SchemaRef) -> bytes:
        """The KeyValues of cs.event.name, cs.schema.name and cs.schema.version, together."""
        heads = self._heads
        if len(heads) >= _KEY_CACHE_LIMIT:
            heads.clear()
        parts: list[bytes] = []
        mapped = {EVENT_NAME: name, SCHEMA_NAME: schema.name, SCHEMA_VERSION: schema.version}
        self._pairs(mapped, b"\x32", parts, 0)
        encoded = heads[(name, schema)] = b"".join(parts)
        return encoded

    def _severity_fields(self, number: int, text: str) -> bytes:
        encoded = b""
        if number:
            # An enum is an int32 varint: a negative one takes its 64-bit two's complement.
            encoded += b"\x10" + _varint(number if number >= 0 else number + _TWO_TO_64)
        if text:
            encoded += _delimited(b"\x1a", _utf8(text))
        if len(self._severity) < 64:
            self._severity[(number, text)] = encoded
        return encoded

    def _event_name_field(self, name: str) -> bytes:
        names = self._event_names
        if len(names) >= _KEY_CACHE_LIMIT:
            names.clear()
        encoded = names[name] = _delimited(b"\x62", _utf8(name))
        return encoded
