"""Attribute keys that are not plain strings are written as the JSON encoder writes them."""

from __future__ import annotations

import enum

import pytest
from opentelemetry.proto.logs.v1.logs_pb2 import LogRecord

from cs_sdk._export import _protobuf
from cs_sdk._export._otlp_types import OtlpLogRecord, OtlpScope
from cs_sdk._export._protobuf import ProtobufEncoder


@pytest.fixture(autouse=True)
def protobuf_writer(monkeypatch: pytest.MonkeyPatch) -> str:
    """The caches these tests look into are the pure-Python writer's."""
    monkeypatch.setattr(_protobuf, "encode_pairs", None)
    return "python"


class Area(str, enum.Enum):
    REPORTS = "reports"


def keys(encoder: ProtobufEncoder, attributes: dict[object, object]) -> list[str]:
    record = OtlpLogRecord(1, 1, "e", attributes)  # type: ignore[arg-type]
    return [kv.key for kv in LogRecord.FromString(encoder.encode_record(record)).attributes]


def test_keys_that_compare_equal_do_not_share_a_cache_entry() -> None:
    encoder = ProtobufEncoder(OtlpScope())
    assert keys(encoder, {1: 1}) == ["1"]
    assert keys(encoder, {True: 1}) == ["True"]
    assert keys(encoder, {1.0: 1}) == ["1.0"]


def test_a_str_enum_key_is_written_as_its_value() -> None:
    encoder = ProtobufEncoder(OtlpScope())
    assert keys(encoder, {Area.REPORTS: 1}) == ["reports"]
    assert keys(encoder, {"reports": 1, Area.REPORTS: 2}) == ["reports"]  # one dict key


def test_remembered_values_are_bounded_and_keys_with_unique_values_stop_remembering() -> None:
    from cs_sdk._export import _protobuf_values

    encoder = ProtobufEncoder(OtlpScope())
    for index in range(_protobuf_values._TEXT_CACHE_LIMIT + 10):
        record = OtlpLogRecord(1, 1, "e", {"cs.event.id": f"{index:032x}", "plan": "team"})
        encoded = encoder.encode_record(record)
        decoded = {kv.key: kv.value.string_value for kv in LogRecord.FromString(encoded).attributes}
        assert decoded == {"cs.event.id": f"{index:032x}", "plan": "team"}
    table = encoder._writer._fields[b"\x32"]
    assert table["cs.event.id"].texts is None  # every value new: no longer remembered
    assert table["plan"].texts is not None and len(table["plan"].texts) == 1
    assert encoder._writer._budget[0] >= 0
