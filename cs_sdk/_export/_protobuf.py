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

import struct
from collections.abc import Mapping, Sequence
from typing import Any, Final

from .._accelerated import encode_pairs
from .._record import EventRecord
from ..events._base import SchemaRef
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

__all__ = ["ProtobufEncoder"]

_pack_double = struct.Struct("<d").pack
_pack_fixed64 = struct.Struct("<Q").pack
_pack_fixed32 = struct.Struct("<I").pack

_INT64_MIN: Final = -(2**63)
_INT64_MAX: Final = 2**63 - 1
_TWO_TO_64: Final = 2**64

# Attribute and property names repeat from record to record but are user data, so unbounded
# in principle: the cache is dropped wholesale when it grows past this many entries.
_KEY_CACHE_LIMIT: Final = 4096
# Distinct short string values remembered per key before the key stops remembering them.
_TEXT_CACHE_LIMIT: Final = 2048
# ... and by all keys of one encoder together (a few MB at most).
_TEXT_BUDGET: Final = 32_768
# Upstream validation caps nesting at 10; past this a value is written as str(value) so
# that a self-containing list cannot recurse without end.
_MAX_DEPTH: Final = 32

# Single-byte varints: nearly every length, enum and small int is below 128.
_SMALL: Final[tuple[bytes, ...]] = tuple(bytes((n,)) for n in range(128))
# Whole AnyValue messages for the commonest scalars.
_SMALL_INTS: Final[tuple[bytes, ...]] = tuple(b"\x18" + bytes((n,)) for n in range(128))
_TRUE: Final = b"\x10\x01"
_FALSE: Final = b"\x10\x00"


# Two-byte varints (128..16383: record and batch-part lengths), built on first use.
_TWO_BYTES: list[bytes | None] = [None] * 0x4000


def _varint(value: int) -> bytes:
    """Unsigned LEB128 of a non-negative ``value`` (negative int64s are wrapped by callers)."""
    if value < 0x80:
        return _SMALL[value]
    if value < 0x4000:
        encoded = _TWO_BYTES[value]
        if encoded is None:
            encoded = _TWO_BYTES[value] = bytes((value & 0x7F | 0x80, value >> 7))
        return encoded
    out = bytearray()
    while value > 0x7F:
        out.append(value & 0x7F | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def _utf8(text: str) -> bytes:
    try:
        return text.encode()
    except UnicodeEncodeError:
        # Lone surrogates: a collector rejects invalid UTF-8, and with it the whole batch.
        return text.encode("utf-8", "replace")


def _delimited(tag: bytes, payload: bytes) -> bytes:
    n = len(payload)
    return tag + (_SMALL[n] if n < 0x80 else _varint(n)) + payload


class _KeyFields:
    """Everything about one key that does not depend on its value, in one context (tag).

    A KeyValue of a scalar is ``tag, size, key field, value tag, AnyValue length, AnyValue``
    where everything but the AnyValue's payload depends only on the key and on the payload's
    length. Those prefixes are built once per key and length, so writing a string attribute
    is ``prefix + utf-8 bytes`` and a double ``prefix + 8 bytes``.
    """

    __slots__ = (
        "budget",
        "double",
        "falsy",
        "ints",
        "key",
        "small_ints",
        "strings",
        "tag",
        "texts",
        "truthy",
    )

    def __init__(self, tag: bytes, key_field: bytes, budget: list[int]) -> None:
        self.tag = tag
        self.key = key_field  # KeyValue.key (left out when empty) and KeyValue.value's tag
        # AnyValue {double_value: 8 bytes} is always 9 bytes long.
        self.double = self.prefix(9) + b"\x21"
        self.truthy = self.prefix(2) + _TRUE
        self.falsy = self.prefix(2) + _FALSE
        self.strings: list[bytes | None] = [None] * 0x80  # by utf-8 length, under 128
        self.small_ints: list[bytes | None] = [None] * 0x80  # whole KeyValues for 0..127
        self.ints: list[bytes | None] = [None] * 11  # by varint length (at most 10 bytes)
        # Whole KeyValues of the short strings this key has had (event names, plans, user
        # ids...): most attribute values repeat. A key whose values do not (event ids,
        # free text) outgrows the table and stops using one.
        self.texts: dict[str, bytes] | None = {}
        self.budget = budget  # [entries left] for all keys of the writer together

    def prefix(self, any_value_length: int) -> bytes:
        """Tag, size, key and value tag of a KeyValue whose AnyValue has this length."""
        length = _varint(any_value_length)
        size = len(self.key) + len(length) + any_value_length
        return self.tag + _varint(size) + self.key + length

    def remember(self, value: str, encoded: bytes) -> None:
        texts = self.texts
        if texts is not None:
            if len(texts) >= _TEXT_CACHE_LIMIT or self.budget[0] <= 0:
                self.texts = None  # values of this key do not repeat enough to be worth it
            else:
                texts[value] = encoded
                self.budget[0] -= 1

    def string(self, n: int) -> bytes:
        """The prefix of a string of ``n`` < 128 utf-8 bytes, up to and including its length."""
        encoded = self.strings[n] = self.prefix(n + 2) + b"\x0a" + _SMALL[n]
        return encoded

    def small_int(self, value: int) -> bytes:
        encoded = self.small_ints[value] = self.prefix(2) + _SMALL_INTS[value]
        return encoded

    def int_prefix(self, n: int) -> bytes:
        """The prefix of an int64 whose varint is ``n`` bytes, up to and including its tag."""
        encoded = self.ints[n] = self.prefix(n + 1) + b"\x18"
        return encoded


class _Writer:
    """Serializes AnyValue trees; owns the per-key caches of one encoder."""

    __slots__ = ("_budget", "_fields", "_flat")

    def __init__(self, accelerated: bool = True) -> None:
        # A flat dict of scalars (nearly every body and attribute map) in one C call.
        self._flat = encode_pairs if accelerated else None
        # tag -> key -> _KeyFields. Keys repeat from record to record but are user data, so
        # unbounded in principle: a table is dropped wholesale when it grows too large.
        self._fields: dict[bytes, dict[str, _KeyFields]] = {b"\x0a": {}, b"\x32": {}}
        self._budget = [_TEXT_BUDGET]

    def key_fields(self, key: str, tag: bytes) -> _KeyFields:
        table = self._fields[tag]
        if len(table) >= _KEY_CACHE_LIMIT:
            table.clear()
            self._budget = [_TEXT_BUDGET]  # the old tables keep theirs until they are gone
        # A str subclass (a StrEnum member) is written as the text it holds, as the JSON
        # encoder does; anything else as str(key).
        data = _utf8(str.__str__(key) if isinstance(key, str) else str(key))
        # proto3 leaves out an empty string, even as a key.
        key_field = _delimited(b"\x0a", data) + b"\x12" if data else b"\x12"
        fields = _KeyFields(tag, key_field, self._budget)
        if type(key) is str:
            # Only plain strings are cached: 1 == True == 1.0 would share an entry otherwise.
            table[key] = fields
        return fields

    def pairs(self, values: Mapping[str, Any], tag: bytes, parts: list[bytes], depth: int) -> None:
        """Append each ``key: value`` of ``values`` to ``parts`` as a ``tag``-ged KeyValue.

        The hot loop of the encoder: a scalar costs a cache lookup and one or two appends.
        """
        flat = self._flat
        if flat is not None:
            encoded = flat(values, tag)  # type: ignore[arg-type]
            if encoded is not None:
                parts.append(encoded)
                return
        table = self._fields[tag]
        append = parts.append
        for key, value in values.items():
            fields = table.get(key) or self.key_fields(key, tag)
            kind = type(value)
            if kind is str:
                texts = fields.texts
                if texts is not None:
                    known = texts.get(value)
                    if known is not None:
                        append(known)
                        continue
                try:
                    data = value.encode()
                except UnicodeEncodeError:
                    data = value.encode("utf-8", "replace")
                n = len(data)
                if n < 0x80:
                    prefix = fields.strings[n] or fields.string(n)
                    if texts is not None:
                        fields.remember(value, prefix + data)
                    append(prefix)
                    append(data)
                    continue
                encoded = b"\x0a" + _varint(n) + data
            elif kind is int:
                if 0 <= value < 0x80:
                    append(fields.small_ints[value] or fields.small_int(value))
                    continue
                if _INT64_MIN <= value <= _INT64_MAX:
                    digits = _varint(value if value >= 0 else value + _TWO_TO_64)
                    append(fields.ints[len(digits)] or fields.int_prefix(len(digits)))
                    append(digits)
                    continue
                encoded = self.any_value(value, depth)
            elif kind is float:
                append(fields.double)
                append(_pack_double(value))
                continue
            elif kind is bool:
                append(fields.truthy if value else fields.falsy)
                continue
            else:
                encoded = self.any_value(value, depth)
            append(fields.prefix(len(encoded)))
            append(encoded)

    def any_value(self, value: Any, depth: int) -> bytes:
        """The serialized AnyValue message for one Python value."""
        kind = type(value)
        if kind is str:
            return _delimited(b"\x0a", _utf8(value))
        if kind is bool:
            return _TRUE if value else _FALSE
        if kind is int:
            if 0 <= value < 0x80:
                small_int: bytes = _SMALL_INTS[value]
                return small_int
            if _INT64_MIN <= value <= _INT64_MAX:
                return b"\x18" + _varint(value if value >= 0 else value + _TWO_TO_64)
            # Out of int64 range: the decimal digits keep the value instead of wrapping it.
            return _delimited(b"\x0a", str(value).encode())
        if kind is float:
            return b"\x21" + _pack_double(value)  # NaN and infinities are valid doubles
        if value is None:
            return b""  # an empty AnyValue: the value is present but unset
        if isinstance(value, (bool, int, float, str)):
            # A subclass (IntEnum, StrEnum, ...) is written as the value it holds.
            return self.any_value(_plain(value), depth)
        if isinstance(value, (bytes, bytearray, memoryview)):
            return _delimited(b"\x3a", bytes(value))
        if depth >= _MAX_DEPTH:
            return _delimited(b"\x0a", _utf8(str(value)))
        if isinstance(value, Mapping):
            parts: list[bytes] = []
            self.pairs(value, b"\x0a", parts, depth + 1)
            return _delimited(b"\x32", b"".join(parts))
        if isinstance(value, (list, tuple)):
            any_value = self.any_value
            small = _SMALL
            items: list[bytes] = []
            for item in value:
                encoded = any_value(item, depth + 1)
                n = len(encoded)
                items += (b"\x0a", small[n] if n < 0x80 else _varint(n), encoded)
            return _delimited(b"\x2a", b"".join(items))
        return _delimited(b"\x0a", _utf8(str(value)))


def _plain(value: bool | int | float | str) -> bool | int | float | str:
    """The built-in value inside a subclass instance, as the JSON encoder also writes it."""
    if isinstance(value, bool):
        return bool(value)
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value)
    return str.__str__(value)


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
        self._writer = _Writer(accelerated)
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
        id_fields = self._event_id_fields
        append(id_fields.strings[len(data)] or id_fields.string(len(data)))
        append(data)
        append(self._heads.get((name, schema)) or self._head(name, schema))
        rest: dict[str, Any] = {}
        add_who_and_pilots(record, rest)
        if extra:
            rest.update(extra)
        if rest:
            self._pairs(rest, b"\x32", parts, 0)
        trace_id, span_id = record.trace_id, record.span_id
        self._tail(
            record.trace_flags,
            trace_id.to_bytes(16, "big") if trace_id else b"",
            span_id.to_bytes(8, "big") if span_id else b"",
            parts,
        )
        if stamp:
            append(b"\x59" + stamp)  # observed time: the same instant
        event_name = schema.name
        if event_name:
            append(self._event_names.get(event_name) or self._event_name_field(event_name))
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
