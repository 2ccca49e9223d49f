"""The export worker writes the events people send with its C writer, never falling back.

Each typical shape (flat properties, a list or tuple of strings, a small nested dict, a typed
event, feedback with a comment, an outcome; with and without pilot list attributes) is
recorded by a real client and delivered to the local collector: the C writer must have
written every dict of it (``ProtobufEncoder.fallbacks`` stays 0), so a change that quietly
sent them all down the several-times-slower Python writer fails here, not only in bench/.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest

import cs_sdk
from cs_sdk import _accelerated
from cs_sdk._client import NullPipeline
from cs_sdk._export._encoding import make_encoder
from cs_sdk._export._mapping import build_scope
from cs_sdk._export._protobuf import ProtobufEncoder
from cs_sdk._record import QueuedEvent, record_of
from cs_sdk.collector import LocalCollector

pytestmark = pytest.mark.skipif(
    _accelerated.encode_pairs is None and not os.environ.get("CS_SDK_REQUIRE_SPEEDUPS"),
    reason="the C accelerator is not built here (no compiler, or not CPython)",
)

_SCOPE = build_scope({"service.name": "test"}, "1.0")


class ReportCreated(cs_sdk.Event, name="test.encoder_shapes.report", version="1.0.0"):
    plan: str
    pages: int
    ratio: float
    first: bool
    tags: list[str]
    filters: dict[str, str]


FLAT = {"plan": "team", "pages": 3, "ratio": 0.25, "first": True, "note": None}
SHAPES: dict[str, Any] = {
    "flat": lambda c: c.milestone("report_created", properties=FLAT),
    "list": lambda c: c.milestone("report_created", properties={**FLAT, "tags": ["a", "b"]}),
    "tuple": lambda c: c.milestone("report_created", properties={**FLAT, "tags": ("a", "b")}),
    "nested": lambda c: c.milestone(
        "report_created", properties={**FLAT, "filters": {"region": "eu", "days": 30}}
    ),
    "typed": lambda c: c.track(
        ReportCreated(plan="team", pages=3, ratio=0.5, first=False, tags=["a"], filters={"k": "v"})
    ),
    "feedback": lambda c: c.feedback("nps", score=9, comment="mail ana@example.com"),
    "outcome": lambda c: c.outcome("renewal", value=1200.0, unit="usd", properties=FLAT),
}


@pytest.fixture
def collector() -> Iterator[LocalCollector]:
    with LocalCollector() as running:
        yield running


@pytest.mark.parametrize("in_pilot", [False, True], ids=["no_pilot", "in_pilot"])
@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_every_typical_shape_is_written_by_the_c_writer(
    shape: str, in_pilot: bool, collector: LocalCollector
) -> None:
    """No dict of a typical event goes down the Python writer: a renamed attribute or a new
    kind of value that quietly made the worker several times slower would fail here. A pilot
    member's events carry two list attributes (cs.pilot.ids, cs.pilot.cohorts)."""
    client = cs_sdk.Client(environ={}, endpoint=collector.endpoint)
    encoder = client._pipeline._encoder  # type: ignore[attr-defined]
    assert isinstance(encoder, ProtobufEncoder)
    try:
        if in_pilot:
            assert client.pilots.enroll("u1", "new-editor", cohort="beta") is not None
        with cs_sdk.identify(user_id="u1", account_id="acme"):  # user, account: attributes
            for _ in range(3):
                assert SHAPES[shape](client) is not None
        assert client.flush(timeout=10)
    finally:
        assert client.shutdown(timeout=10)
    sent = 3 + in_pilot  # the enrolment is an event too
    assert len(collector.records) == sent
    assert client.stats()["sent"] == sent
    if in_pilot:
        assert collector.records[-1].attributes["cs.pilot.ids"] == ["new-editor"]
    assert encoder.fallbacks == 0


def test_the_collector_reads_nested_values_as_they_were_recorded(
    collector: LocalCollector,
) -> None:
    client = cs_sdk.Client(environ={}, endpoint=collector.endpoint)
    properties = {
        "tags": ["beta", "mobile"],
        "pair": (1, 2.5),
        "filters": {"region": "eu", "range": {"days": 30, "archived": False}, "ids": []},
        "empty": {},
        "text": "héllo 😀",
    }
    client.milestone("searched", properties=properties)
    assert client.shutdown(timeout=10)
    (record,) = collector.records
    assert record.body == {**properties, "pair": [1, 2.5]}
    assert client._pipeline._encoder.fallbacks == 0  # type: ignore[attr-defined]


def queued_as(shape: str) -> QueuedEvent:
    events: list[QueuedEvent] = []

    class ListPipeline(NullPipeline):
        def submit(self, queued: QueuedEvent) -> bool:
            events.append(queued)
            return True

    client = cs_sdk.Client(environ={}, _pipeline_factory=lambda *a: ListPipeline())
    try:
        SHAPES[shape](client)
    finally:
        client.shutdown(0)
    return events[0]


@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_each_shape_is_byte_identical_with_and_without_c(shape: str) -> None:
    record = record_of(queued_as(shape))
    record.resolve_typed_body()
    fast = make_encoder("http/protobuf", _SCOPE, accelerated=True)
    slow = make_encoder("http/protobuf", _SCOPE, accelerated=False)
    assert fast.encode_event(record) == slow.encode_event(record)
    assert isinstance(fast, ProtobufEncoder) and fast.fallbacks == 0
