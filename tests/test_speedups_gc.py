"""What the C path queues costs the garbage collector nothing it does not need: a queued
event's tuple, the properties it copied when they hold only scalars (lists and nested dicts of
scalars included) and a typed event of scalars are left out of the collector's walks, which an
application thread pays for during a burst (bench/burst.py counts them). A dict put back in
reach of a cycle is followed again."""

from __future__ import annotations

import gc
from typing import Any

import pytest
from _accelerator import needs_accelerator
from pydantic import PrivateAttr

import cs_sdk
from cs_sdk._client import NullPipeline
from cs_sdk._record import QueuedEvent, record_of

pytestmark = needs_accelerator


class Kept(NullPipeline):
    def __init__(self) -> None:
        self.events: list[QueuedEvent] = []

    def submit(self, queued: QueuedEvent) -> bool:
        self.events.append(queued)
        return True


def recorded(properties: dict[str, Any]) -> QueuedEvent:
    pipeline = Kept()
    client = cs_sdk.Client(
        environ={}, service_name="gc", speedups=True, _pipeline_factory=lambda *a: pipeline
    )
    try:
        assert client.milestone("report_created", user_id="u1", properties=properties)
        assert client.stats()["debug"]["fallbacks"] == {}
    finally:
        client.shutdown(timeout=1)
    (event,) = pipeline.events
    return event


def test_properties_of_scalars_and_nested_scalars_are_not_walked() -> None:
    source = {"plan": "pro", "rows": 7, "filters": dict(region="emea", days=30, archived=False)}
    assert gc.is_tracked(source)  # the application's own dict, holding a dict
    queued = recorded(source)
    assert not gc.is_tracked(queued)  # queued packed (_record.py): its pairs, no dict
    body = record_of(queued).body  # the dict the worker rebuilds
    assert isinstance(body, dict)
    assert body == source and body is not source
    # Nothing queued is walked: the tuple, and what it holds (the nested dict's copy). The
    # dict rebuilt on the worker lives only while the worker handles the event.
    assert [item for item in queued if gc.is_tracked(item)] == [queued[2]]  # the schema's
    assert not gc.is_tracked(body["filters"])
    # A before_send hook that stores a container in it makes the dict followed again
    # (CPython's own rule for dicts), so a cycle through it is still collected.
    body["self"] = [body]
    assert gc.is_tracked(body)


def test_properties_holding_a_list_of_scalars_are_not_walked() -> None:
    source = {"plan": "pro", "tags": ["beta", "mobile"], "pairs": [("a", 1), {"k": "v"}]}
    queued = recorded(source)
    assert not gc.is_tracked(queued)
    assert [item for item in queued if gc.is_tracked(item)] == [queued[2]]  # the schema's
    body = record_of(queued).body
    assert isinstance(body, dict)
    assert body == {"plan": "pro", "tags": ["beta", "mobile"], "pairs": [["a", 1], {"k": "v"}]}
    assert not gc.is_tracked(body["tags"]) and not gc.is_tracked(body["pairs"])
    # The list stays out of the walks on the worker too (the decision and its one cost are
    # written in _speedups.c, check_nested).
    body["self"] = [body]
    body["tags"].append("late")
    assert body["tags"] == ["beta", "mobile", "late"]


def tracked(event: cs_sdk.Event) -> QueuedEvent:
    pipeline = Kept()
    client = cs_sdk.Client(
        environ={}, service_name="gc", speedups=True, _pipeline_factory=lambda *a: pipeline
    )
    try:
        assert client.track(event, user_id="u1")
        assert client.stats()["debug"]["fallbacks"] == {}
    finally:
        client.shutdown(timeout=1)
    (queued,) = pipeline.events
    return queued


class GcReport(cs_sdk.Event, name="gc.report", version="1.0.0"):
    plan: str
    pages: int
    score: float
    first_time: bool


class GcTagged(cs_sdk.Event, name="gc.tagged", version="1.0.0"):
    plan: str
    tags: list[str]


class GcPrivate(cs_sdk.Event, name="gc.private", version="1.0.0"):
    plan: str
    _note: str = PrivateAttr(default="kept")


def test_a_plain_typed_event_is_queued_as_a_copy_of_its_fields_not_walked() -> None:
    event = GcReport(plan="pro", pages=3, score=0.5, first_time=True)
    queued = tracked(event)  # its wire body (cs_sdk/events/_plain.py): the instance can go
    assert not gc.is_tracked(queued)  # packed (_record.py): the fields' pairs, no dict
    assert [item for item in queued if gc.is_tracked(item)] == [queued[2]]  # the schema's
    body = record_of(queued).body  # the dict the worker rebuilds
    assert body == {"plan": "pro", "pages": 3, "score": 0.5, "first_time": True}
    assert body is not event.__dict__ and not gc.is_tracked(body)
    assert gc.is_tracked(event)  # the user's instance, left as it was


def test_a_typed_event_of_scalars_queued_as_its_instance_is_not_walked_once_queued() -> None:
    # A non-finite float keeps the instance form (events/_plain.py), which holds only scalars.
    event = GcReport(plan="pro", pages=3, score=float("inf"), first_time=True)
    assert gc.is_tracked(event) and gc.is_tracked(event.__pydantic_fields_set__)
    assert tracked(event)[4] is event  # queued as it is; the worker serialises it
    assert not gc.is_tracked(event) and not gc.is_tracked(event.__pydantic_fields_set__)
    dump = {"plan": "pro", "pages": 3, "score": float("inf"), "first_time": True}
    assert event.model_dump() == dump
    assert event == GcReport(plan="pro", pages=3, score=float("inf"), first_time=True)


@pytest.mark.parametrize(
    "event",
    [GcTagged(plan="pro", tags=["a", "b"]), GcPrivate(plan="pro")],
    ids=["a list field (pydantic's own list)", "private attributes"],
)
def test_a_typed_event_holding_containers_stays_walked(event: cs_sdk.Event) -> None:
    tracked(event)
    assert gc.is_tracked(event)
