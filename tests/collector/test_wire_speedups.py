"""The C protobuf decoder gives exactly the Python decoder's records, or hands over.

``_wire_speedups.decode`` returns records or None ("let the Python decoder decide"). For
random valid requests and random or mutated bytes: whenever it returns records, the Python
decoder accepts the same bytes and gives equal records (compared by ``repr``, which tells
``True`` from ``1`` and shows NaN); everything else gets the Python decoder's answer, so
refusals are identical by construction. It never crashes on garbage, and does not leak.
"""

from __future__ import annotations

import gzip
import math
import os
import random
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import (
    AnyValue,
    InstrumentationScope,
    KeyValue,
)
from opentelemetry.proto.logs.v1.logs_pb2 import LogRecord, ResourceLogs, ScopeLogs

from cs_sdk.collector import _decode
from cs_sdk.collector._decode import DecodeError, Limits, ReceivedRecord

try:
    from cs_sdk.collector import _wire_speedups as wire
except ImportError:  # not built here; CI has a compiler and requires it (below)
    wire = None

pytestmark = pytest.mark.skipif(
    wire is None and not os.environ.get("CS_SDK_REQUIRE_SPEEDUPS"),
    reason="the collector's C decoder is not built here (no compiler, or not CPython)",
)

SMALL = Limits(max_records=3, max_attributes=2, max_depth=2, max_values=12)
LIMITS = [Limits(), SMALL]


def test_the_decoder_is_built_where_ci_requires_it() -> None:
    assert wire is not None


def fast(data: bytes, limits: Limits) -> list[ReceivedRecord] | None:
    assert wire is not None
    result: list[ReceivedRecord] | None = wire.decode(
        data,
        ReceivedRecord,
        _decode._SLOTS,
        limits.max_records,
        limits.max_attributes,
        limits.max_depth,
        limits.max_values,
    )
    return result


def python(data: bytes, limits: Limits) -> tuple[str, str]:
    """The pure-Python decoder's outcome: ("ok", repr of records) or (error type, message)."""
    try:
        message = _decode._parse(data, "application/x-protobuf", limits)
        return "ok", repr(_decode.records_of(message, limits))
    except DecodeError as error:
        return type(error).__name__, str(error)


def agrees(data: bytes, limits: Limits) -> bool:
    """Whether the C decoder took the request (and then gave the Python decoder's records)."""
    records = fast(data, limits)
    if records is None:
        return False
    assert python(data, limits) == ("ok", repr(records))
    return True


# -- random valid requests -------------------------------------------------------------------

text = st.text(max_size=12)
scalars = st.one_of(
    st.none(),
    text,
    st.booleans(),
    st.integers(-(2**63), 2**63 - 1),
    st.floats(allow_nan=True),
    st.binary(max_size=8),
)
values = st.recursive(
    scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(text, inner, max_size=3)),
    max_leaves=12,
)


def any_value(value: Any) -> AnyValue:
    out = AnyValue()
    if value is None:
        return out
    if isinstance(value, bool):
        out.bool_value = value
    elif isinstance(value, int):
        out.int_value = value
    elif isinstance(value, float):
        out.double_value = value
    elif isinstance(value, str):
        out.string_value = value
    elif isinstance(value, bytes):
        out.bytes_value = value
    elif isinstance(value, list):
        out.array_value.values.extend(any_value(item) for item in value)
        if not value:
            out.array_value.SetInParent()
    else:
        out.kvlist_value.values.extend(
            KeyValue(key=key, value=any_value(item)) for key, item in value.items()
        )
        if not value:
            out.kvlist_value.SetInParent()
    return out


def pairs(mapping: dict[str, Any]) -> list[KeyValue]:
    return [KeyValue(key=key, value=any_value(value)) for key, value in mapping.items()]


@st.composite
def requests(draw: st.DrawFn) -> bytes:
    request = ExportLogsServiceRequest()
    for _ in range(draw(st.integers(0, 2))):
        resource_logs = ResourceLogs(schema_url=draw(text))
        if draw(st.booleans()):
            resource_logs.resource.attributes.extend(
                pairs(draw(st.dictionaries(text, values, max_size=3)))
            )
        for _ in range(draw(st.integers(0, 2))):
            scope_logs = ScopeLogs()
            if draw(st.booleans()):
                scope_logs.scope.CopyFrom(InstrumentationScope(name=draw(text), version=draw(text)))
            for _ in range(draw(st.integers(0, 3))):
                log = LogRecord(
                    time_unix_nano=draw(st.integers(0, 2**64 - 1)),
                    observed_time_unix_nano=draw(st.integers(0, 2**64 - 1)),
                    severity_number=draw(st.integers(-(2**31), 2**31 - 1)),  # type: ignore[arg-type]
                    severity_text=draw(text),
                    event_name=draw(text),
                    trace_id=draw(st.binary(max_size=16)),
                    span_id=draw(st.binary(max_size=8)),
                    flags=draw(st.integers(0, 2**32 - 1)),
                    dropped_attributes_count=draw(st.integers(0, 3)),
                )
                log.attributes.extend(pairs(draw(st.dictionaries(text, values, max_size=4))))
                if draw(st.booleans()):
                    log.body.CopyFrom(any_value(draw(values)))
                scope_logs.log_records.append(log)
            resource_logs.scope_logs.append(scope_logs)
        request.resource_logs.append(resource_logs)
    return request.SerializeToString()


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(requests())
def test_valid_requests_give_the_python_decoders_records(data: bytes) -> None:
    # Default limits: nothing here reaches one, so the C decoder must take every request.
    assert agrees(data, Limits())
    agrees(data, SMALL)  # over a small limit it hands over; the Python decoder refuses


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(requests(), st.data())
def test_mutated_requests_give_the_same_records_or_go_to_python(data: bytes, draw: Any) -> None:
    mutated = bytearray(data)
    for _ in range(draw.draw(st.integers(1, 4))):
        action = draw.draw(st.sampled_from(["flip", "cut", "insert", "delete"]))
        at = draw.draw(st.integers(0, len(mutated)))
        if action == "flip" and at < len(mutated):
            mutated[at] ^= draw.draw(st.integers(1, 255))
        elif action == "cut":
            del mutated[at:]
        elif action == "insert":
            mutated[at:at] = draw.draw(st.binary(min_size=1, max_size=4))
        else:
            del mutated[at : at + draw.draw(st.integers(1, 4))]
    for limits in LIMITS:
        agrees(bytes(mutated), limits)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=64))
def test_random_bytes_never_crash_and_agree(data: bytes) -> None:
    for limits in LIMITS:
        agrees(data, limits)


def test_every_truncation_of_an_sdk_sized_request_agrees() -> None:
    request = ExportLogsServiceRequest()
    scope = request.resource_logs.add().scope_logs.add()
    for n in range(20):
        log = scope.log_records.add(time_unix_nano=n, event_name="cs.milestone")
        log.attributes.extend(pairs({"cs.event.id": f"e{n}", "user.id": "u", "n": n}))
        log.body.CopyFrom(any_value({"pages": n, "tags": ["a", 1.5]}))
    data = request.SerializeToString()
    assert agrees(data, Limits())
    for end in range(len(data)):
        agrees(data[:end], Limits())


def test_what_it_hands_over() -> None:
    """Inputs the C decoder leaves to the Python decoder, which then decides alone."""
    base = ExportLogsServiceRequest()
    log = base.resource_logs.add().scope_logs.add().log_records.add(event_name="e")
    log.attributes.append(KeyValue(key="k", value=AnyValue(int_value=1)))
    ok = base.SerializeToString()
    assert fast(ok, Limits()) is not None
    handed = {
        # an unknown field (number 99, varint) in the request
        "unknown field": ok + b"\x98\x06\x01",
        # the record's event_name given twice: protobuf keeps the last
        "repeated singular": _with_record_suffix(base, b"\x62\x01x"),
        "invalid UTF-8": _with_record_suffix(base, b"\x1a\x01\xff"),
        "scope attributes": _scope_with_attributes(),
    }
    for name, data in handed.items():
        assert fast(data, Limits()) is None, name
    deep: Any = "leaf"
    for _ in range(40):
        deep = [deep]
    nested = ExportLogsServiceRequest()
    nested_log = nested.resource_logs.add().scope_logs.add().log_records.add()
    nested_log.body.CopyFrom(any_value(deep))
    assert fast(nested.SerializeToString(), Limits()) is None
    assert python(nested.SerializeToString(), Limits())[0] == "DecodeError"


def _with_record_suffix(request: ExportLogsServiceRequest, suffix: bytes) -> bytes:
    copy = ExportLogsServiceRequest()
    copy.CopyFrom(request)
    record = copy.resource_logs[0].scope_logs[0].log_records[0].SerializeToString() + suffix
    scope = b"\x12" + _varint(len(record)) + record
    resource = b"\x12" + _varint(len(scope)) + scope
    return b"\x0a" + _varint(len(resource)) + resource


def _scope_with_attributes() -> bytes:
    request = ExportLogsServiceRequest()
    scope_logs = request.resource_logs.add().scope_logs.add()
    scope_logs.scope.attributes.append(KeyValue(key="a", value=AnyValue(string_value="b")))
    scope_logs.log_records.add(event_name="e")
    return request.SerializeToString()


def _varint(value: int) -> bytes:
    out = bytearray()
    while value > 0x7F:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def test_the_collector_path_uses_it_and_matches_for_gzip_bodies() -> None:
    request = ExportLogsServiceRequest()
    scope = request.resource_logs.add().scope_logs.add()
    for n in range(50):
        log = scope.log_records.add(time_unix_nano=n, event_name="cs.milestone")
        log.attributes.extend(pairs({"cs.event.id": f"e{n}", "ratio": math.nan}))
    data = request.SerializeToString()
    assert _decode._fast_decode is wire.decode or os.environ.get("CS_SDK_SPEEDUPS") == "false"
    records = _decode.decode_export_request(
        gzip.compress(data), content_type="application/x-protobuf", content_encoding="gzip"
    )
    assert repr(records) == python(data, Limits())[1]
    assert [r.event_id for r in records] == [f"e{n}" for n in range(50)]


def _rss_kib() -> int:
    with open("/proc/self/statm") as statm:
        pages = int(statm.read().split()[1])
    return pages * 4


def test_decoding_again_and_again_does_not_grow_memory() -> None:
    # Valid requests (every object built) and broken ones (objects built, then dropped on
    # the error path) in a loop: a leaked reference per record would show as tens of MB.
    rng = random.Random(7)
    request = ExportLogsServiceRequest()
    scope = request.resource_logs.add().scope_logs.add()
    for n in range(200):
        log = scope.log_records.add(time_unix_nano=n, event_name="cs.milestone")
        log.attributes.extend(pairs({"cs.event.id": f"e{n}", "user.id": "u", "x": [n, "a"]}))
        log.body.CopyFrom(any_value({"pages": n, "raw": b"\x00"}))
    data = request.SerializeToString()
    broken = [data[: rng.randrange(len(data))] for _ in range(20)]

    def round_() -> None:
        for _ in range(20):
            assert fast(data, Limits()) is not None
        for piece in broken:
            fast(piece, Limits())

    for _ in range(5):
        round_()
    before = _rss_kib()
    for _ in range(150):  # 600,000 records decoded
        round_()
    assert _rss_kib() - before < 16 * 1024
