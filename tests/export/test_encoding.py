"""The hand-written encoders against opentelemetry-proto: bytes, decoded values, OTLP/JSON.

``ProtobufEncoder`` promises the exact bytes ``SerializeToString()`` gives for the same
request built from message objects. ``reference_request`` below builds that request from
the mapping documented in ``_otlp_types.py`` and ``_protobuf.py``, independently of the
encoder, and hypothesis feeds both the same random records. OTLP has no protobuf maps
(attributes are repeated KeyValue), so field order is fully determined and exact byte
equality is asserted everywhere, with no decode-equality fallback.
"""

from __future__ import annotations

import base64
import dataclasses
import enum
import json
import math
import re
import struct
from collections.abc import Mapping, Sequence
from typing import Any

import pytest
from google.protobuf import json_format
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
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

from cs_sdk._export._json import JsonEncoder
from cs_sdk._export._mapping import MAPPED_ATTRIBUTES, build_scope, to_otlp
from cs_sdk._export._otlp_types import OtlpLogRecord, OtlpScope
from cs_sdk._export._protobuf import ProtobufEncoder
from cs_sdk._record import EventRecord
from cs_sdk.events._base import SchemaRef
from cs_sdk.events._builtin import FEEDBACK, MILESTONE, OUTCOME

INT64_MIN = -(2**63)
INT64_MAX = 2**63 - 1
MAX_DEPTH = 32  # containers this deep are written as str(value), by both encoders

PROPERTIES = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])


# -- the reference: the documented mapping, built with opentelemetry-proto messages ----------


def wire_text(text: str) -> str:
    """A str as both encoders write it: lone surrogates replaced, so always valid UTF-8."""
    return text.encode("utf-8", "replace").decode()


def reference_any_value(value: Any, depth: int = 0) -> AnyValue:
    """The AnyValue for ``value``, from the table in ``_otlp_types.py``."""
    if value is None:
        return AnyValue()  # present but unset
    if isinstance(value, bool):
        return AnyValue(bool_value=value)
    if isinstance(value, int):  # IntEnum too: the number it holds
        value = int(value)
        if INT64_MIN <= value <= INT64_MAX:
            return AnyValue(int_value=value)
        return AnyValue(string_value=str(value))  # out of int64: the decimal digits
    if isinstance(value, float):
        return AnyValue(double_value=float(value))
    if isinstance(value, str):
        return AnyValue(string_value=wire_text(str.__str__(value)))
    if isinstance(value, (bytes, bytearray, memoryview)):
        return AnyValue(bytes_value=bytes(value))
    if depth >= MAX_DEPTH:
        return AnyValue(string_value=wire_text(str(value)))
    if isinstance(value, Mapping):
        return AnyValue(kvlist_value=KeyValueList(values=reference_key_values(value, depth + 1)))
    if isinstance(value, (list, tuple)):
        items = [reference_any_value(item, depth + 1) for item in value]
        return AnyValue(array_value=ArrayValue(values=items))
    raise TypeError(f"no documented mapping for {type(value).__name__}")


def reference_key_values(values: Mapping[str, Any], depth: int) -> list[KeyValue]:
    return [
        KeyValue(key=wire_text(key), value=reference_any_value(value, depth))
        for key, value in values.items()
    ]


def reference_log_record(record: OtlpLogRecord) -> LogRecord:
    message = LogRecord(
        time_unix_nano=record.time_unix_nano,
        observed_time_unix_nano=record.observed_time_unix_nano,
        severity_number=record.severity_number,
        severity_text=wire_text(record.severity_text),
        attributes=reference_key_values(record.attributes, 0),
        flags=record.flags,
        trace_id=record.trace_id,
        span_id=record.span_id,
        event_name=wire_text(record.event_name),
    )
    if record.body is not None:
        message.body.CopyFrom(reference_any_value(record.body))
    return message


def reference_request(
    scope: OtlpScope, records: Sequence[OtlpLogRecord]
) -> ExportLogsServiceRequest:
    """One ResourceLogs with one ScopeLogs; resource and scope always present, even empty."""
    instrumentation = InstrumentationScope(
        name=wire_text(scope.scope_name), version=wire_text(scope.scope_version)
    )
    scope_logs = ScopeLogs(
        scope=instrumentation, log_records=[reference_log_record(r) for r in records]
    )
    resource = Resource(attributes=reference_key_values(scope.resource_attributes, 0))
    return ExportLogsServiceRequest(
        resource_logs=[ResourceLogs(resource=resource, scope_logs=[scope_logs])]
    )


def protobuf_body(scope: OtlpScope, records: Sequence[OtlpLogRecord]) -> bytes:
    encoder = ProtobufEncoder(scope)
    return encoder.encode_request([encoder.encode_record(r) for r in records])


def json_body(scope: OtlpScope, records: Sequence[OtlpLogRecord]) -> bytes:
    encoder = JsonEncoder(scope)
    return encoder.encode_request([encoder.encode_record(r) for r in records])


def log_records(request: ExportLogsServiceRequest) -> list[LogRecord]:
    return [r for rl in request.resource_logs for sl in rl.scope_logs for r in sl.log_records]


# -- decoded values: what a collector reads back, as plain Python ----------------------------


def decoded(value: AnyValue) -> Any:
    """Arrays as lists, kvlists as tuples of (key, value) pairs (order and all kept)."""
    kind = value.WhichOneof("value")
    if kind is None:
        return None
    if kind == "array_value":
        return [decoded(item) for item in value.array_value.values]
    if kind == "kvlist_value":
        return tuple((kv.key, decoded(kv.value)) for kv in value.kvlist_value.values)
    return getattr(value, kind)


def expected(value: Any, depth: int = 0) -> Any:
    """What ``decoded`` must give back for a recorded ``value``, in the same shape.

    A whole attribute map is passed with ``depth=-1``, so that its values are at depth 0.
    """
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, float):
        return float(value)
    if isinstance(value, int):
        value = int(value)
        return value if INT64_MIN <= value <= INT64_MAX else str(value)
    if isinstance(value, str):
        return wire_text(str.__str__(value))
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value)
    if depth >= MAX_DEPTH:
        return wire_text(str(value))
    if isinstance(value, Mapping):
        return tuple((wire_text(k), expected(v, depth + 1)) for k, v in value.items())
    return [expected(item, depth + 1) for item in value]


def canonical(value: Any) -> Any:
    """A form in which == is exact: types kept, NaN equal to NaN, -0.0 unequal to 0.0."""
    if isinstance(value, float):
        return ("float", "nan" if math.isnan(value) else struct.pack("<d", value))
    if isinstance(value, list):
        return ("array", [canonical(item) for item in value])
    if isinstance(value, tuple):
        return ("kvlist", [(key, canonical(item)) for key, item in value])
    return (type(value).__name__, value)


def record_fields(message: LogRecord) -> dict[str, Any]:
    return {
        "time_unix_nano": message.time_unix_nano,
        "observed_time_unix_nano": message.observed_time_unix_nano,
        "event_name": message.event_name,
        "attributes": canonical(tuple((kv.key, decoded(kv.value)) for kv in message.attributes)),
        "body": canonical(decoded(message.body)) if message.HasField("body") else "absent",
        "trace_id": message.trace_id,
        "span_id": message.span_id,
        "flags": message.flags,
        "severity_number": message.severity_number,
        "severity_text": message.severity_text,
    }


def expected_fields(record: OtlpLogRecord) -> dict[str, Any]:
    return {
        "time_unix_nano": record.time_unix_nano,
        "observed_time_unix_nano": record.observed_time_unix_nano,
        "event_name": wire_text(record.event_name),
        "attributes": canonical(expected(record.attributes, -1)),
        "body": "absent" if record.body is None else canonical(expected(record.body)),
        "trace_id": record.trace_id,
        "span_id": record.span_id,
        "flags": record.flags,
        "severity_number": record.severity_number,
        "severity_text": wire_text(record.severity_text),
    }


# -- OTLP/JSON ---------------------------------------------------------------------------------

HEX_ID = re.compile(r"[0-9a-f]+")


def reject_constant(name: str) -> None:
    raise AssertionError(f"bare {name} in OTLP/JSON: the spec wants the string form")


def parse_otlp_json(body: bytes) -> tuple[ExportLogsServiceRequest, list[tuple[str, str]]]:
    """The request, and each record's (traceId, spanId) as written ("" when absent).

    OTLP/JSON writes the two ids as hex, while json_format reads every bytes field as
    base64 (and would take 32 hex digits for 24 bytes of base64 without complaint), so the
    ids are rewritten to base64 before parsing and returned for a check of their own.
    """
    document = json.loads(body.decode("utf-8"), parse_constant=reject_constant)
    ids: list[tuple[str, str]] = []
    for resource_logs in document["resourceLogs"]:
        for scope_logs in resource_logs["scopeLogs"]:
            for record in scope_logs.get("logRecords", []):
                ids.append((record.get("traceId", ""), record.get("spanId", "")))
                for name in ("traceId", "spanId"):
                    if name in record:
                        raw = bytes.fromhex(record[name])
                        record[name] = base64.b64encode(raw).decode("ascii")
    message = json_format.Parse(json.dumps(document), ExportLogsServiceRequest())
    return message, ids


def canonical_nans(value: Any) -> Any:
    """``value`` with every NaN made float("nan"): OTLP/JSON has one NaN, without sign or
    payload, so those bits are the only thing the JSON encoding cannot carry."""
    if isinstance(value, float) and math.isnan(value):
        return math.nan
    if isinstance(value, Mapping):
        return {key: canonical_nans(item) for key, item in value.items()}
    if isinstance(value, list):
        return [canonical_nans(item) for item in value]
    if isinstance(value, tuple):
        return tuple(canonical_nans(item) for item in value)
    return value


# -- strategies --------------------------------------------------------------------------------


class Plan(enum.IntEnum):
    TEAM = 2
    NEGATIVE = -7
    HUGE = 2**70  # out of int64 once unwrapped: a decimal string


class Tier(str, enum.Enum):
    GOLD = "gold"  # str(Tier.GOLD) is "Tier.GOLD"; the wire carries "gold"


INT64_EDGES = (0, 1, -1, 127, 128, -128, 16383, 16384, 2**31 - 1, -(2**31), 2**32)
int64s = st.one_of(
    st.sampled_from((*INT64_EDGES, INT64_MAX, INT64_MIN, INT64_MAX - 1, INT64_MIN + 1)),
    st.integers(INT64_MIN, INT64_MAX),
)
outside_int64 = st.one_of(
    st.sampled_from((INT64_MAX + 1, INT64_MIN - 1, 2**64, -(2**64), 10**40)),
    st.integers(min_value=INT64_MAX + 1),
    st.integers(max_value=INT64_MIN - 1),
)
doubles = st.one_of(
    st.sampled_from((math.nan, -math.nan, math.inf, -math.inf, -0.0, 0.0, 5e-324, 1.5e308)),
    st.floats(),  # NaNs with any sign and payload included
)
lone_surrogates = st.characters(categories=["Cs"])
short_texts = st.one_of(
    st.text(max_size=30),
    st.lists(st.one_of(st.characters(), lone_surrogates), max_size=8).map("".join),
    st.sampled_from(("", "é", "€uro", "😀", "👩‍👩‍👧", "\x00", "a\ud800b")),
)


def sized_text(size: int, unit: str) -> str:
    """A str of exactly ``size`` UTF-8 bytes once written: ``unit`` repeated, "a"s to fill."""
    width = len(wire_text(unit).encode())
    return unit * (size // width) + "a" * (size % width)


# Lengths either side of the 1-, 2- and 3-byte varints (and for a map value, 126 and 127:
# its AnyValue, 2 bytes longer, takes a 2-byte length while the string itself takes 1).
BOUNDARY_SIZES = (125, 126, 127, 128, 129, 16381, 16382, 16383, 16384, 16385)
sized_texts = st.builds(
    sized_text, st.sampled_from(BOUNDARY_SIZES), st.sampled_from(("a", "é", "€", "😀", "\ud800"))
)
texts = st.one_of(short_texts, sized_texts)
keys = st.one_of(st.text(max_size=12), short_texts, st.sampled_from(("", "user.id", "k" * 200)))

scalars = st.one_of(
    st.none(),
    st.booleans(),
    int64s,
    outside_int64,
    doubles,
    texts,
    texts,
    st.binary(max_size=40),
    st.binary(max_size=8).map(bytearray),
    st.sampled_from((*Plan, *Tier)),
)


def nest(depth: int, leaf: Any, dicts: bool) -> Any:
    """``leaf`` inside ``depth`` containers: lists, or lists and dicts alternating."""
    value = leaf
    for level in range(depth):
        value = {"d": value} if dicts and level % 2 else [value]
    return value


deep_values = st.builds(nest, st.integers(MAX_DEPTH - 3, MAX_DEPTH + 6), scalars, st.booleans())
values = st.one_of(
    st.recursive(
        scalars,
        lambda children: st.one_of(
            st.lists(children, max_size=4),
            st.lists(children, max_size=4).map(tuple),
            st.dictionaries(keys, children, max_size=4),
        ),
        max_leaves=8,
    ),
    deep_values,
)
attribute_maps = st.dictionaries(keys, values, max_size=4)
times = st.one_of(
    st.sampled_from((0, 1, 2**64 - 1, 1_763_980_000_123_456_789)), st.integers(0, 2**64 - 1)
)
records = st.builds(
    OtlpLogRecord,
    time_unix_nano=times,
    observed_time_unix_nano=times,
    event_name=st.one_of(st.sampled_from(("", "cs.milestone")), texts),
    attributes=attribute_maps,
    body=st.one_of(st.none(), attribute_maps, values),
    trace_id=st.one_of(st.just(b""), st.binary(min_size=16, max_size=16)),
    span_id=st.one_of(st.just(b""), st.binary(min_size=8, max_size=8)),
    flags=st.one_of(st.sampled_from((0, 1, 2**32 - 1)), st.integers(0, 2**32 - 1)),
    severity_number=st.one_of(st.integers(0, 24), st.integers(-(2**31), 2**31 - 1)),
    severity_text=st.one_of(st.sampled_from(("", "INFO", "ERROR")), texts),
)
scopes = st.builds(
    OtlpScope,
    resource_attributes=attribute_maps,
    scope_name=st.one_of(st.sampled_from(("cs_sdk", "")), texts),
    scope_version=st.one_of(st.sampled_from(("", "1.2.0")), texts),
)
batches = st.lists(records, max_size=3)


# -- protobuf: random records ------------------------------------------------------------------


@PROPERTIES
@given(scope=scopes, batch=batches)
def test_protobuf_request_is_byte_identical_to_serialize_to_string(
    scope: OtlpScope, batch: list[OtlpLogRecord]
) -> None:
    """Twice with one encoder: the key, severity and event-name caches cold, then warm."""
    reference = reference_request(scope, batch).SerializeToString()
    encoder = ProtobufEncoder(scope)
    for _ in range(2):
        assert encoder.encode_request([encoder.encode_record(r) for r in batch]) == reference


@PROPERTIES
@given(scope=scopes, batch=batches)
def test_protobuf_request_parses_back_to_the_recorded_values(
    scope: OtlpScope, batch: list[OtlpLogRecord]
) -> None:
    request = ExportLogsServiceRequest.FromString(protobuf_body(scope, batch))
    (resource_logs,) = request.resource_logs
    (scope_logs,) = resource_logs.scope_logs
    resource = tuple((kv.key, decoded(kv.value)) for kv in resource_logs.resource.attributes)
    assert canonical(resource) == canonical(expected(scope.resource_attributes, -1))
    assert scope_logs.scope.name == wire_text(scope.scope_name)
    assert scope_logs.scope.version == wire_text(scope.scope_version)
    assert [record_fields(m) for m in scope_logs.log_records] == [expected_fields(r) for r in batch]


# -- OTLP/JSON: the same random records --------------------------------------------------------


@PROPERTIES
@given(scope=scopes, batch=batches)
def test_json_request_parses_into_the_protobuf_request(
    scope: OtlpScope, batch: list[OtlpLogRecord]
) -> None:
    """Lossless but for NaN sign and payload bits, so NaNs are made canonical first."""
    scope = dataclasses.replace(
        scope, resource_attributes=canonical_nans(scope.resource_attributes)
    )
    batch = [
        dataclasses.replace(r, attributes=canonical_nans(r.attributes), body=canonical_nans(r.body))
        for r in batch
    ]
    message, ids = parse_otlp_json(json_body(scope, batch))
    assert message.SerializeToString() == protobuf_body(scope, batch)
    assert ids == [(r.trace_id.hex(), r.span_id.hex()) for r in batch]
    for trace_id, span_id in ids:
        assert trace_id == "" or (len(trace_id) == 32 and HEX_ID.fullmatch(trace_id))
        assert span_id == "" or (len(span_id) == 16 and HEX_ID.fullmatch(span_id))


def test_json_writes_trace_and_span_ids_as_lowercase_hex() -> None:
    record = OtlpLogRecord(
        1,
        1,
        "e",
        {},
        trace_id=bytes.fromhex("0AF7651916CD43DD8448EB211C80319C"),
        span_id=bytes.fromhex("B7AD6B7169203331"),
        flags=1,
    )
    fragment = JsonEncoder(OtlpScope()).encode_record(record)
    assert b'"traceId":"0af7651916cd43dd8448eb211c80319c"' in fragment
    assert b'"spanId":"b7ad6b7169203331"' in fragment


def test_json_writes_int64_as_decimal_strings_and_non_finite_doubles_as_names() -> None:
    record = OtlpLogRecord(
        2**64 - 1,
        0,
        "",
        {"min": INT64_MIN, "big": 2**64, "nan": math.nan, "inf": math.inf, "ninf": -math.inf},
    )
    document = json.loads(JsonEncoder(OtlpScope()).encode_record(record))
    assert document["timeUnixNano"] == "18446744073709551615"
    assert "observedTimeUnixNano" not in document
    assert [a["value"] for a in document["attributes"]] == [
        {"intValue": "-9223372036854775808"},
        {"stringValue": "18446744073709551616"},
        {"doubleValue": "NaN"},
        {"doubleValue": "Infinity"},
        {"doubleValue": "-Infinity"},
    ]


# -- deterministic corners ---------------------------------------------------------------------

EVERY_VALUE_TYPE: dict[str, Any] = {
    "none": None,
    "true": True,
    "false": False,
    "zero": 0,
    "small": 127,
    "two_bytes": 128,
    "negative": -1,
    "int64_max": INT64_MAX,
    "int64_min": INT64_MIN,
    "above_int64": INT64_MAX + 1,
    "below_int64": INT64_MIN - 1,
    "double": 0.1,
    "negative_zero": -0.0,
    "nan": math.nan,
    "inf": math.inf,
    "-inf": -math.inf,
    "empty": "",
    "emoji": "😀 ünïcödé",
    "long": "x" * 300,
    "longer": "€" * 6000,  # 18000 bytes: a 3-byte length
    "surrogate": "a\udc80b",
    "bytes": b"\x00\xff",
    "no_bytes": b"",
    "list": [1, "a", None, [2.5, {"k": False}]],
    "tuple": ("a", b"b"),
    "empty_list": [],
    "dict": {"nested": {"deeper": [INT64_MIN, {}]}, "": "empty key"},
    "int_enum": Plan.TEAM,
    "str_enum": Tier.GOLD,
    "": "empty key",
    "k" * 200: "a 2-byte key length",
}


@pytest.mark.parametrize(
    "body",
    [None, dict(EVERY_VALUE_TYPE), {}, "text", 0, False, math.nan, [1, [2]], [], b"raw", Plan.HUGE],
    ids=lambda body: type(body).__name__ + ("" if body else "-empty"),
)
def test_every_value_type_encodes_like_serialize_to_string(body: Any) -> None:
    record = OtlpLogRecord(
        1_763_980_000_123_456_789,
        1_763_980_000_123_456_790,
        "cs.milestone",
        dict(EVERY_VALUE_TYPE),
        body,
        trace_id=bytes(range(16)),
        span_id=bytes(range(8)),
        flags=1,
    )
    body_bytes = protobuf_body(OtlpScope(), [record])
    assert body_bytes == reference_request(OtlpScope(), [record]).SerializeToString()
    (message,) = log_records(ExportLogsServiceRequest.FromString(body_bytes))
    assert record_fields(message) == expected_fields(record)


def test_a_record_of_defaults_writes_only_the_oneof_and_present_fields() -> None:
    record = OtlpLogRecord(0, 0, "", {"zero": 0}, severity_number=0, severity_text="")
    encoded = ProtobufEncoder(OtlpScope()).encode_record(record)
    # LogRecord.attributes[0] = KeyValue{key: "zero", value: AnyValue{int_value: 0}}
    assert encoded == b"\x32\x0a\x0a\x04zero\x12\x02\x18\x00"
    assert encoded == reference_log_record(record).SerializeToString()


@pytest.mark.parametrize("where", ["attribute", "body dict", "nested dict", "resource"])
@pytest.mark.parametrize(
    "size", [0, 1, 125, 126, 127, 128, 129, 16381, 16382, 16383, 16384, 16385, 2**21]
)
def test_map_string_values_at_varint_length_boundaries_encode_exactly(
    where: str, size: int
) -> None:
    """126 and 127 bytes: the AnyValue (n + 2) needs a 2-byte length, the string 1."""
    text = "a" * size
    scope = OtlpScope({"service.name": text}) if where == "resource" else OtlpScope()
    attributes = {"k": text} if where == "attribute" else {}
    body = (
        {"k": text} if where == "body dict" else [{"k": text}] if where == "nested dict" else None
    )
    record = OtlpLogRecord(1, 1, "e", attributes, body)
    assert protobuf_body(scope, [record]) == reference_request(scope, [record]).SerializeToString()


@pytest.mark.parametrize("where", ["list item", "body", "key", "event name", "severity text"])
@pytest.mark.parametrize("size", [0, 1, 125, 126, 127, 128, 129, 16382, 16383, 16384, 2**21])
def test_other_strings_at_varint_length_boundaries_encode_exactly(where: str, size: int) -> None:
    text = "a" * size
    record = OtlpLogRecord(
        1,
        1,
        text if where == "event name" else "e",
        {text: 1} if where == "key" else {"list": [text]} if where == "list item" else {},
        text if where == "body" else None,
        severity_text=text if where == "severity text" else "INFO",
    )
    assert protobuf_body(OtlpScope(), [record]) == (
        reference_request(OtlpScope(), [record]).SerializeToString()
    )


def test_ints_outside_int64_are_written_as_their_decimal_digits() -> None:
    values = {"above": 2**63, "below": -(2**63) - 1, "huge": 10**30, "enum": Plan.HUGE}
    (message,) = log_records(
        ExportLogsServiceRequest.FromString(
            protobuf_body(OtlpScope(), [OtlpLogRecord(1, 1, "", values)])
        )
    )
    assert [(kv.key, kv.value.string_value) for kv in message.attributes] == [
        ("above", "9223372036854775808"),
        ("below", "-9223372036854775809"),
        ("huge", "1" + "0" * 30),
        ("enum", str(2**70)),
    ]


def test_lone_surrogates_are_replaced_so_both_bodies_are_valid_utf8() -> None:
    record = OtlpLogRecord(1, 1, "ev\ud800", {"k\udfff": "a\ud800b"}, ["\udc00"])
    scope = OtlpScope({"host\ud800": "x"}, "cs\ud800", "1\ud800")
    for body in (protobuf_body(scope, [record]), json_body(scope, [record])):
        assert "\ufffd" not in body.decode("utf-8")  # 'replace' on encode gives "?"
    (message,) = log_records(ExportLogsServiceRequest.FromString(protobuf_body(scope, [record])))
    assert (message.event_name, message.attributes[0].key) == ("ev?", "k?")
    assert message.attributes[0].value.string_value == "a?b"
    json_message, _ = parse_otlp_json(json_body(scope, [record]))
    assert json_message.SerializeToString() == protobuf_body(scope, [record])


def test_containers_nested_32_deep_are_written_as_their_str() -> None:
    leaf: Any = 7
    for _ in range(MAX_DEPTH + 1):
        leaf = [leaf]
    (message,) = log_records(
        ExportLogsServiceRequest.FromString(
            protobuf_body(OtlpScope(), [OtlpLogRecord(1, 1, "", {"deep": leaf})])
        )
    )
    value = message.attributes[0].value
    for _ in range(MAX_DEPTH):  # depths 0..31 stay arrays
        (value,) = value.array_value.values
    assert value.string_value == "[7]"  # the list at depth 32


def test_key_severity_and_event_name_caches_overflowing_keep_the_output_exact() -> None:
    """5000 distinct keys (cache limit 4096), 100 severities (64), then the first ones again."""
    batch = [
        OtlpLogRecord(
            i,
            i,
            f"event-{i}",
            {f"key-{i}-{j}": j for j in range(50)},
            severity_number=i % 25,
            severity_text=f"S{i}",
        )
        for i in range(100)
    ]
    batch += batch[:3]
    assert protobuf_body(OtlpScope(), batch) == (
        reference_request(OtlpScope(), batch).SerializeToString()
    )


# -- resource, scope, request structure --------------------------------------------------------


@pytest.mark.parametrize(
    "scope",
    [
        OtlpScope(),
        OtlpScope({}, "", ""),
        OtlpScope({}, "", "1.0"),
        build_scope({"service.name": "checkout", "deployment.environment": "prod"}, "1.2.0"),
        OtlpScope(
            {
                "service.name": "svc",
                "host.cpus": 2,
                "ratio": 0.5,
                "tags": ["a", "b"],
                "nested": {"k": None},
                "raw": b"\x01",
            },
            "cs_sdk",
            "",
        ),
    ],
    ids=["default", "all-empty", "version-only", "build_scope", "typed-resource"],
)
def test_resource_and_scope_are_written_once_around_the_records(scope: OtlpScope) -> None:
    batch = [OtlpLogRecord(1, 1, "a", {}), OtlpLogRecord(2, 2, "b", {})]
    body = protobuf_body(scope, batch)
    assert body == reference_request(scope, batch).SerializeToString()
    request = ExportLogsServiceRequest.FromString(body)
    (resource_logs,) = request.resource_logs
    assert resource_logs.HasField("resource")
    assert [kv.key for kv in resource_logs.resource.attributes] == list(scope.resource_attributes)
    (scope_logs,) = resource_logs.scope_logs
    assert scope_logs.HasField("scope")
    assert (scope_logs.scope.name, scope_logs.scope.version) == (
        scope.scope_name,
        scope.scope_version,
    )
    json_message, _ = parse_otlp_json(json_body(scope, batch))
    assert json_message == request


def test_records_keep_their_order_in_one_request() -> None:
    batch = [OtlpLogRecord(i + 1, i + 1, f"e{i}", {"i": i}) for i in range(300)]
    scope = build_scope({"service.name": "checkout"}, "1.2.0")
    names = [r.event_name for r in batch]
    request = ExportLogsServiceRequest.FromString(protobuf_body(scope, batch))
    assert [r.event_name for r in log_records(request)] == names
    json_message, _ = parse_otlp_json(json_body(scope, batch))
    assert [r.event_name for r in log_records(json_message)] == names


def test_an_empty_fragment_list_is_a_valid_request() -> None:
    scope = build_scope({"service.name": "checkout"}, "1.2.0")
    body = ProtobufEncoder(scope).encode_request([])
    assert body == reference_request(scope, []).SerializeToString()
    request = ExportLogsServiceRequest.FromString(body)
    assert len(request.resource_logs) == 1 and log_records(request) == []
    json_message = json_format.Parse(
        JsonEncoder(scope).encode_request([]), ExportLogsServiceRequest()
    )
    assert json_message == request


# -- the worker's one-pass path: EventRecord straight to bytes -------------------------------

ids_or_none = st.one_of(st.none(), st.sampled_from(("u1", "acme", "")), short_texts)
event_records = st.builds(
    EventRecord,
    event_id=st.one_of(
        st.just("c0ffee" * 5 + "00"), texts, st.sampled_from(("", "é" * 64, "x" * 127))
    ),
    time_unix_nano=times,
    schema=st.one_of(
        st.sampled_from((MILESTONE, OUTCOME, FEEDBACK)),
        st.builds(SchemaRef, short_texts, st.sampled_from(("1.0.0", ""))),
    ),
    name=st.one_of(st.sampled_from(("report_created", "nps")), texts),
    body=st.one_of(st.none(), st.just({}), attribute_maps, values),
    attributes=st.one_of(
        st.none(),
        st.just({}),
        attribute_maps,
        st.dictionaries(st.sampled_from(sorted(MAPPED_ATTRIBUTES)), values, max_size=2),
    ),
    user_id=ids_or_none,
    account_id=ids_or_none,
    session_id=ids_or_none,
    trace_id=st.one_of(st.just(0), st.integers(1, 2**128 - 1)),
    span_id=st.one_of(st.just(0), st.integers(1, 2**64 - 1)),
    trace_flags=st.one_of(st.just(0), st.integers(0, 255)),
)
pilot_tags = st.lists(st.tuples(short_texts, st.one_of(st.none(), short_texts)), max_size=2).map(
    tuple
)


@PROPERTIES
@given(batch=st.lists(st.tuples(event_records, pilot_tags), max_size=4))
def test_encode_event_writes_exactly_what_mapping_then_encoding_writes(
    batch: list[tuple[EventRecord, tuple[tuple[str, str | None], ...]]],
) -> None:
    one_pass, two_steps = ProtobufEncoder(OtlpScope()), ProtobufEncoder(OtlpScope())
    for _ in range(2):  # the second time from the encoders' caches
        for record, pilots in batch:
            record.pilots = pilots
            assert one_pass.encode_event(record) == two_steps.encode_record(to_otlp(record))


def test_json_encode_event_is_mapping_then_encoding() -> None:
    record = EventRecord("e1", 5, MILESTONE, "m", {"a": 1}, None, "u1", None, None, 0, 0, 0)
    encoder = JsonEncoder(OtlpScope())
    assert encoder.encode_event(record) == encoder.encode_record(to_otlp(record))
