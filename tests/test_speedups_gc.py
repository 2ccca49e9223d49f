"""What the C path queues costs the garbage collector nothing it does not need: a queued
event's tuple, and the properties it copied when they hold only scalars (the nested shape
included), are left out of the collector's walks, which an application thread pays for during
a burst (bench/burst.py counts them). A dict put back in reach of a cycle is followed again."""

from __future__ import annotations

import gc
import os
from typing import Any

import pytest

import cs_sdk
from cs_sdk import _accelerated
from cs_sdk._client import NullPipeline
from cs_sdk._record import QueuedEvent

pytestmark = pytest.mark.skipif(
    not _accelerated.AVAILABLE and not os.environ.get("CS_SDK_REQUIRE_SPEEDUPS"),
    reason="the C accelerator is not built here (no compiler, or not CPython)",
)


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
    body = recorded(source)[4]
    assert body == source and body is not source
    assert not gc.is_tracked(body) and not gc.is_tracked(body["filters"])
    # A before_send hook that stores a container in it makes the dict followed again
    # (CPython's own rule for dicts), so a cycle through it is still collected.
    body["self"] = [body]
    assert gc.is_tracked(body)


def test_properties_holding_a_list_stay_walked() -> None:
    body = recorded({"plan": "pro", "tags": ["beta", "mobile"]})[4]
    assert gc.is_tracked(body) and gc.is_tracked(body["tags"])  # a list may join a cycle later
