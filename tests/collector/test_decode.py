"""decode_export_request: OTLP protobuf and JSON, gzip or not, into ReceivedRecord."""

from __future__ import annotations

import dataclasses
import gzip
import math

import pytest

from cs_sdk.collector import DecodeError, ReceivedRecord, UnsupportedMediaType
from cs_sdk.collector import decode_export_request as decode

from .conftest import (
    ATTRIBUTES,
    BODY,
    JSON,
    PROTOBUF,
    RESOURCE,
    SPAN_ID,
    TIME,
    TRACE_ID,
    body_for,
    encode_json,
    export_request,
    json_request,
    log_record,
)


def check_standard_record(record: ReceivedRecord) -> None:
    """Every field of the record built by ``log_record()`` / ``json_request()``."""
    assert record.resource == RESOURCE
    assert (record.scope_name, record.scope_version) == ("cs_sdk", "0.1.0")
    assert record.time_unix_nano == TIME
    assert record.observed_time_unix_nano == TIME + 1
    assert (record.severity_number, record.severity_text) == (9, "INFO")
    assert record.event_name == "cs.milestone"
    assert record.body == BODY
    assert type(record.body["pages"]) is int
    assert type(record.body["ratio"]) is float
    assert record.attributes == ATTRIBUTES
    assert (record.trace_id, record.span_id, record.flags) == (TRACE_ID, SPAN_ID, 1)
    assert record.event_id == "ev-1"
    assert record.name == "first_report_created"
    assert (record.user_id, record.account_id, record.session_id) == ("u1", "acme", "s9")
    assert record.service_name == "web"


@pytest.mark.parametrize("content_type", [PROTOBUF, JSON])
@pytest.mark.parametrize("gzipped", [False, True], ids=["identity", "gzip"])
def test_every_field_is_decoded(content_type: str, gzipped: bool) -> None:
    body = body_for(content_type)
    encoding = "gzip" if gzipped else None
    records = decode(
        gzip.compress(body) if gzipped else body,
        content_type=content_type,
        content_encoding=encoding,
    )
    assert len(records) == 1
    check_standard_record(records[0])


def test_a_record_is_a_frozen_slotted_dataclass() -> None:
    (record,) = decode(export_request(), content_type=PROTOBUF, content_encoding=None)
    assert not hasattr(record, "__dict__")
    with pytest.raises(dataclasses.FrozenInstanceError):
        record.event_name = "x"  # type: ignore[misc]


def test_json_int64_fields_are_accepted_as_strings_or_numbers() -> None:
    document = json_request(timeUnixNano=TIME, observedTimeUnixNano=str(TIME + 1))
    (record,) = decode(encode_json(document), content_type=JSON, content_encoding=None)
    assert (record.time_unix_nano, record.observed_time_unix_nano) == (TIME, TIME + 1)


def test_json_unknown_fields_are_ignored_and_parameters_of_the_type_too() -> None:
    document = json_request(somethingNew={"x": 1})
    document["futureTopLevel"] = True
    (record,) = decode(
        encode_json(document), content_type="application/json; charset=utf-8", content_encoding=""
    )
    assert record.name == "first_report_created"


def test_missing_ids_and_body_decode_as_empty() -> None:
    body = export_request(log_record(body=None, with_trace=False, attributes={}))
    (record,) = decode(body, content_type=PROTOBUF, content_encoding="identity")
    assert (record.body, record.trace_id, record.span_id, record.flags) == (None, "", "", 0)
    assert (record.event_id, record.name, record.user_id) == (None, None, None)


def test_scalar_bodies_and_special_floats_survive() -> None:
    records = decode(
        export_request(log_record(body="plain text"), log_record(body=math.inf)),
        content_type=PROTOBUF,
        content_encoding=None,
    )
    assert [record.body for record in records] == ["plain text", math.inf]


def test_records_keep_their_own_resource_and_order_across_several_resources() -> None:
    first = export_request(log_record(event_name="a"), resource={"service.name": "api"})
    second = export_request(log_record(event_name="b"), resource={"service.name": "web"})
    # Concatenated protobuf messages merge: the repeated resource_logs field appends.
    records = decode(first + second, content_type=PROTOBUF, content_encoding=None)
    assert [(r.event_name, r.service_name) for r in records] == [("a", "api"), ("b", "web")]


def test_an_empty_request_has_no_records() -> None:
    assert decode(b"", content_type=PROTOBUF, content_encoding=None) == []
    assert decode(b"{}", content_type=JSON, content_encoding=None) == []


def test_a_multi_member_gzip_body_is_read_whole() -> None:
    body = export_request(log_record(event_name="a")) + export_request(log_record(event_name="b"))
    half = len(body) // 2
    gzipped = gzip.compress(body[:half]) + gzip.compress(body[half:])
    records = decode(gzipped, content_type=PROTOBUF, content_encoding="gzip")
    assert [record.event_name for record in records] == ["a", "b"]


@pytest.mark.parametrize(
    ("body", "content_type", "encoding"),
    [
        (b"\x0a\xff\xff\xff\xff\x0f", PROTOBUF, None),
        (b"not json", JSON, None),
        (b"\xff\xfe", JSON, None),
        (b"[1, 2]", JSON, None),
        (b'{"resourceLogs": 5}', JSON, None),
        (encode_json(json_request(traceId="not-hex")), JSON, None),
        (encode_json(json_request(timeUnixNano="soon")), JSON, None),
        (b"not gzip at all", PROTOBUF, "gzip"),
        (gzip.compress(export_request())[:-12], PROTOBUF, "gzip"),
    ],
    ids=[
        "protobuf",
        "json-syntax",
        "json-utf8",
        "json-array",
        "json-shape",
        "json-hex-id",
        "json-int64",
        "gzip-garbage",
        "gzip-truncated",
    ],
)
def test_malformed_bodies_raise_decode_error(
    body: bytes, content_type: str, encoding: str | None
) -> None:
    with pytest.raises(DecodeError) as caught:
        decode(body, content_type=content_type, content_encoding=encoding)
    assert not isinstance(caught.value, UnsupportedMediaType)
    assert str(caught.value)


@pytest.mark.parametrize(
    ("content_type", "encoding"),
    [("text/plain", None), (None, None), ("application/grpc", None), (PROTOBUF, "br")],
)
def test_unsupported_types_and_encodings_raise_unsupported_media_type(
    content_type: str | None, encoding: str | None
) -> None:
    with pytest.raises(UnsupportedMediaType):
        decode(export_request(), content_type=content_type, content_encoding=encoding)
    assert issubclass(UnsupportedMediaType, DecodeError)
    assert issubclass(DecodeError, ValueError)
