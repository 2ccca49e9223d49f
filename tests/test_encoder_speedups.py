"""The export worker's C value writer (``_encoder_speedups.c``) writes exactly what the
pure-Python writer writes, and the worker really uses it for the events people send.

hypothesis feeds both writers the same random nested values: lists, tuples and dicts inside
one another, every scalar kind (unicode, lone surrogates, ints past int64, NaN and
infinities, bytes), subclasses the C writer does not take, empty containers and nesting past
its depth limit. Where the C writer declines (None), the Python writer writes the dict; either
way the bytes must be the same. CI sets ``CS_SDK_REQUIRE_SPEEDUPS=1`` so that an extension
that failed to build fails these tests instead of skipping them.
"""

from __future__ import annotations

import enum
import gc
import math
import os
import struct
import tracemalloc
from typing import Any

import pytest
from google.protobuf import json_format
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValueList

from cs_sdk import _accelerated
from cs_sdk._export._encoding import make_encoder
from cs_sdk._export._json import JsonEncoder
from cs_sdk._export._mapping import build_scope, to_otlp
from cs_sdk._export._protobuf import ProtobufEncoder
from cs_sdk._export._protobuf_values import _MAX_DEPTH, _Writer
from cs_sdk._record import EventRecord
from cs_sdk.events._builtin import MILESTONE

pytestmark = pytest.mark.skipif(
    _accelerated.encode_pairs is None and not os.environ.get("CS_SDK_REQUIRE_SPEEDUPS"),
    reason="the C accelerator is not built here (no compiler, or not CPython)",
)

SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
# The C writer's own depth limit (FAST_DEPTH in _encoder_speedups.c): deeper goes to Python.
FAST_DEPTH = 16


class Level(enum.IntEnum):
    HIGH = 3


class Area(str, enum.Enum):
    REPORTS = "reports"


def c_encode(values: dict[str, Any], tag: bytes, depth: int) -> bytes | None:
    encode = _accelerated.encode_pairs
    assert encode is not None
    return encode(values, tag, depth)


def written(values: dict[str, Any], tag: bytes, depth: int, *, accelerated: bool) -> bytes:
    """What ``_Writer.pairs`` appends for ``values``, with or without the C writer."""
    writer = _Writer(_accelerated.encode_pairs if accelerated else None)
    parts: list[bytes] = []
    writer.pairs(values, tag, parts, depth)
    return b"".join(parts)


# -- random values ------------------------------------------------------------------------

texts = st.one_of(
    st.text(max_size=20),
    st.text(alphabet=st.characters(codec="utf-8"), min_size=100, max_size=300),  # 2-byte lengths
    st.sampled_from(["", "\ud800", "a\udfffb", "é", "😀", "\x00"]),  # surrogates, NUL
)
ints = st.one_of(
    st.integers(-(2**63), 2**63 - 1),
    st.sampled_from([0, 127, 128, 16383, 16384, -1, 2**63 - 1, -(2**63)]),
    st.integers(min_value=2**63, max_value=2**80),  # past int64: written as digits
    st.integers(max_value=-(2**63) - 1, min_value=-(2**80)),
)
floats = st.one_of(st.floats(), st.sampled_from([math.nan, math.inf, -math.inf, -0.0]))
plain_scalars = st.one_of(texts, ints, floats, st.booleans(), st.none(), st.binary(max_size=200))
# Kinds the C writer hands back to Python: subclasses, bytearray, other objects.
odd_scalars = st.sampled_from([Level.HIGH, Area.REPORTS, bytearray(b"ab"), memoryview(b"cd")])
keys = st.one_of(st.text(max_size=12), st.sampled_from(["", "tags", "filters", "\udc80"]))


def nested(scalars: st.SearchStrategy[Any], max_leaves: int = 30) -> st.SearchStrategy[Any]:
    return st.recursive(
        scalars,
        lambda inner: st.one_of(
            st.lists(inner, max_size=5),
            st.lists(inner, max_size=5).map(tuple),
            st.dictionaries(keys, inner, max_size=5),
        ),
        max_leaves=max_leaves,
    )


def deep(depth: int, leaf: Any, kinds: str) -> Any:
    """``leaf`` inside ``depth`` containers, cycling through ``kinds`` (l list, t tuple, d dict)."""
    value = leaf
    for level in range(depth):
        kind = kinds[level % len(kinds)]
        value = [value] if kind == "l" else (value,) if kind == "t" else {"k": value}
    return value


deep_values = st.builds(
    deep, st.integers(0, _MAX_DEPTH + 3), plain_scalars, st.sampled_from(["l", "t", "d", "ldt"])
)
any_values = st.one_of(nested(plain_scalars), nested(st.one_of(plain_scalars, odd_scalars)))
dicts = st.dictionaries(keys, st.one_of(any_values, deep_values), max_size=10)
tags = st.sampled_from([b"\x0a", b"\x32"])
depths = st.one_of(st.sampled_from([0, 1]), st.integers(0, _MAX_DEPTH + 2))


@SETTINGS
@given(values=dicts, tag=tags, depth=depths)
def test_c_and_python_writers_write_the_same_bytes(
    values: dict[str, Any], tag: bytes, depth: int
) -> None:
    python = written(values, tag, depth, accelerated=False)
    assert written(values, tag, depth, accelerated=True) == python
    direct = c_encode(values, tag, depth)
    assert direct is None or direct == python


# Values the C writer must take itself: exact built-in types, valid UTF-8, int64, shallow.
safe_texts = st.text(alphabet=st.characters(codec="utf-8"), max_size=40)
safe_scalars = st.one_of(
    safe_texts, st.integers(-(2**63), 2**63 - 1), floats, st.booleans(), st.none(), st.binary()
)
safe_values = st.recursive(
    safe_scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=5),
        st.lists(inner, max_size=5).map(tuple),
        st.dictionaries(safe_texts, inner, max_size=5),
    ),
    max_leaves=40,
)


@SETTINGS
@given(
    values=st.dictionaries(safe_texts, safe_values, max_size=10),
    tag=tags,
    depth=st.sampled_from([0, 1]),
)
def test_the_c_writer_takes_every_plain_nested_value_and_it_parses_back(
    values: dict[str, Any], tag: bytes, depth: int
) -> None:
    encoded = c_encode(values, tag, depth)
    assert encoded is not None
    assert encoded == written(values, tag, depth, accelerated=False)
    # As a body (tag 0x0a inside a KeyValueList), protobuf reads back the values themselves.
    body = c_encode(values, b"\x0a", 1)
    assert body is not None
    parsed = KeyValueList.FromString(body)
    assert [kv.key for kv in parsed.values] == list(values)
    assert [plain(kv.value) for kv in parsed.values] == [canonical(v) for v in values.values()]


def plain(value: AnyValue) -> Any:
    kind = value.WhichOneof("value")
    if kind is None:
        return None
    if kind == "array_value":
        return [plain(item) for item in value.array_value.values]
    if kind == "kvlist_value":
        return {kv.key: plain(kv.value) for kv in value.kvlist_value.values}
    found = getattr(value, kind)
    return "nan" if isinstance(found, float) and math.isnan(found) else found


def canonical(value: Any) -> Any:
    if isinstance(value, (list, tuple)):
        return [canonical(item) for item in value]
    if isinstance(value, dict):
        return {key: canonical(item) for key, item in value.items()}
    return "nan" if isinstance(value, float) and math.isnan(value) else value


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        (Level.HIGH, "an IntEnum"),
        (Area.REPORTS, "a str enum"),
        (2**64, "an int past int64"),
        ("\ud800", "a lone surrogate"),
        (bytearray(b"x"), "a bytearray"),
        (object(), "another object"),
        (deep(FAST_DEPTH + 1, 1, "l"), "nesting past FAST_DEPTH"),
        ([{"k": [Level.HIGH]}], "an IntEnum deep inside"),
    ],
)
def test_the_c_writer_hands_back_what_it_does_not_take(value: Any, reason: str) -> None:
    assert c_encode({"a": value}, b"\x32", 0) is None, reason
    assert c_encode({1: "x"}, b"\x32", 0) is None  # type: ignore[dict-item]
    assert c_encode(_Mapping(), b"\x32", 0) is None  # type: ignore[arg-type]


class _Mapping(dict[str, Any]):
    """A dict subclass: it may override items(), so Python reads it."""


def test_a_self_containing_list_is_handed_back_not_followed_forever() -> None:
    looped: list[Any] = ["x"]
    looped.append(looped)
    assert c_encode({"a": looped}, b"\x32", 0) is None
    assert written({"a": looped}, b"\x32", 0, accelerated=True) == written(
        {"a": looped}, b"\x32", 0, accelerated=False
    )


def test_wrong_arguments_raise_type_error() -> None:
    encode = _accelerated.encode_pairs
    assert encode is not None
    for args in [({}, b"\x32"), ({}, b"\x32\x0a", 0), ({}, "2", 0), ({}, b"\x32", "0")]:
        with pytest.raises(TypeError):
            encode(*args)


# -- whole records and the JSON exporter -------------------------------------------------

_SCOPE = build_scope({"service.name": "test"}, "1.0")


# protobuf's JSON parser stops at 100 messages deep (a dict level is three of them).
json_deep_values = st.builds(
    deep, st.integers(0, FAST_DEPTH + 2), plain_scalars, st.sampled_from(["l", "t", "d", "ldt"])
)
json_dicts = st.dictionaries(keys, st.one_of(any_values, json_deep_values), max_size=10)


def record_with(
    body: Any,
    attributes: dict[str, Any] | None,
    *,
    time_unix_nano: int = 1,
    ids: tuple[int, int, int] = (0, 0, 0),
    who: tuple[str | None, str | None, str | None] = ("u1", None, None),
    pilots: tuple[tuple[str, str | None], ...] = (),
    name: str = "m",
) -> EventRecord:
    record = EventRecord("0" * 32, time_unix_nano, MILESTONE, name, body, attributes, *who, *ids)
    record.pilots = pilots
    return record


optional_ids = st.none() | st.sampled_from(["u1", "", "é" * 50, "acme"])
records = st.builds(
    record_with,
    body=st.one_of(json_dicts, st.none(), any_values),
    attributes=st.none() | st.dictionaries(keys, any_values, max_size=4),
    time_unix_nano=st.one_of(st.just(0), st.integers(0, 2**64 - 1)),
    ids=st.tuples(
        st.one_of(st.just(0), st.integers(1, 2**128 - 1)),
        st.one_of(st.just(0), st.integers(1, 2**64 - 1)),
        st.one_of(st.just(0), st.integers(1, 2**32 - 1)),
    ),
    who=st.tuples(optional_ids, optional_ids, optional_ids),
    pilots=st.lists(
        st.tuples(st.text(max_size=8), st.none() | st.text(max_size=8)), max_size=3
    ).map(tuple),
    name=st.text(max_size=10),
)


@SETTINGS
@given(record=records)
def test_whole_records_encode_the_same_with_and_without_c_and_json_says_the_same(
    record: EventRecord,
) -> None:
    fast = make_encoder("http/protobuf", _SCOPE, accelerated=True)
    slow = make_encoder("http/protobuf", _SCOPE, accelerated=False)
    fragment = fast.encode_event(record)
    assert fragment == slow.encode_event(record)
    assert fragment == slow.encode_record(to_otlp(record))
    if record.trace_id or record.span_id or not isinstance(record.body, (dict, type(None))):
        return  # OTLP/JSON writes the ids as hex, which protobuf's JSON parser cannot read
    request = ExportLogsServiceRequest.FromString(fast.encode_request([fragment]))
    # The JSON exporter does not use the C writer: its body describes the same request.
    json_encoder = JsonEncoder(_SCOPE)
    json_body = json_encoder.encode_request([json_encoder.encode_record(to_otlp(record))])
    parsed = json_format.Parse(json_body, ExportLogsServiceRequest())
    assert canonical_request(parsed) == canonical_request(request)


def canonical_request(request: ExportLogsServiceRequest) -> bytes:
    """NaN payloads aside (JSON writes every NaN as "NaN"), the serialised request."""
    for resource in request.resource_logs:
        for scope in resource.scope_logs:
            for log in scope.log_records:
                _canonical_nans(log.body)
                for kv in log.attributes:
                    _canonical_nans(kv.value)
    return bytes(request.SerializeToString(deterministic=True))


def _canonical_nans(value: AnyValue) -> None:
    kind = value.WhichOneof("value")
    if kind == "double_value" and math.isnan(value.double_value):
        value.double_value = math.nan
    elif kind == "array_value":
        for item in value.array_value.values:
            _canonical_nans(item)
    elif kind == "kvlist_value":
        for kv in value.kvlist_value.values:
            _canonical_nans(kv.value)


def test_fallbacks_are_counted_when_the_c_writer_declines() -> None:
    encoder = ProtobufEncoder(_SCOPE)
    record = record_with({"level": Level.HIGH}, None)
    slow = ProtobufEncoder(_SCOPE, accelerated=False)
    assert encoder.encode_event(record) == slow.encode_event(record)
    assert encoder.fallbacks > 0
    assert ProtobufEncoder(_SCOPE, accelerated=False).fallbacks == 0


@pytest.mark.parametrize(
    "record",
    [
        record_with({"a": 1}, None, time_unix_nano=-1),
        record_with({"a": 1}, None, time_unix_nano=2**64),
        record_with({"a": 1}, None, ids=(0, 0, 2**32)),
        record_with({"a": 1}, None, ids=(2**128, 0, 0)),
    ],
    ids=["negative_time", "time_past_64_bits", "flags_past_32_bits", "trace_id_past_128_bits"],
)
def test_out_of_range_fields_fail_the_same_way_with_and_without_c(record: EventRecord) -> None:
    """The worker drops such a record as an internal error; C must not write it instead."""
    errors = []
    for accelerated in (True, False):
        with pytest.raises((OverflowError, struct.error)) as raised:
            make_encoder("http/protobuf", _SCOPE, accelerated=accelerated).encode_event(record)
        errors.append(type(raised.value))
    assert errors[0] is errors[1]


def test_the_record_writer_rejects_wrong_arguments() -> None:
    encode = _accelerated.encode_log_record
    assert encode is not None
    good: list[Any] = [1, b"", None, b"", {}, 0, b"", b"", b""]
    assert (
        encode(*good) == b"\x09\x01\x00\x00\x00\x00\x00\x00\x00\x59\x01\x00\x00\x00\x00\x00\x00\x00"
    )
    for index, wrong in [(1, "x"), (3, None), (4, None), (8, bytearray())]:
        with pytest.raises(TypeError):
            encode(*good[:index], wrong, *good[index + 1 :])
    with pytest.raises(TypeError):
        encode(*good[:8])


def test_the_c_writers_do_not_leak_memory() -> None:
    """Every path: written, handed back (an enum deep inside), and a container list long
    enough that the sizes spill from the stack to the heap."""
    encoder = ProtobufEncoder(_SCOPE)
    records = [
        record_with({"plan": "team", "tags": ["a", "b"], "filters": {"k": {"x": [1.5]}}}, {"a": 1}),
        record_with({"deep": [{"k": [Level.HIGH]}]}, None),
        record_with({f"k{i}": [i] for i in range(100)}, {"t": tuple([[]] * 50)}),
    ]
    spilling = {f"k{i}": [i] for i in range(100)}
    for record in records * 100:
        encoder.encode_event(record)
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    for _ in range(3000):
        for record in records:
            encoder.encode_event(record)
        c_encode(spilling, b"\x32", 0)
    gc.collect()
    grown = tracemalloc.get_traced_memory()[0] - before
    tracemalloc.stop()
    assert grown < 64 * 1024  # a leak of one object per call would be >= 9,000 objects
