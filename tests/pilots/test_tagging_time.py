"""Events are tagged with the pilots the user was in when the event was recorded.

The worker tags events when it drains the queue, up to ``schedule_delay`` later (longer
under load). These tests hold the queue with ``schedule_delay=60`` and decode what reaches
the collector; ``capture()`` would not do: it runs the chain at once.
"""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path

import httpx
import pytest
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import (
    ExportLogsServiceRequest,
    ExportLogsServiceResponse,
)

import cs_sdk
from cs_sdk._pilots import Pilots
from cs_sdk.state import MemoryStore

T0 = dt.datetime(2025, 3, 1, 12, 0, tzinfo=dt.timezone.utc)


class Collector:
    """A MockTransport handler keeping ``(schema, name, pilot ids)`` of each record."""

    def __init__(self) -> None:
        self.records: list[tuple[str, str, list[str]]] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        message = ExportLogsServiceRequest.FromString(request.content)
        for resource in message.resource_logs:
            for scope in resource.scope_logs:
                for record in scope.log_records:
                    values = {a.key: a.value for a in record.attributes}
                    pilots = values.get("cs.pilot.ids")
                    self.records.append(
                        (
                            values["cs.schema.name"].string_value,
                            values["cs.event.name"].string_value,
                            [v.string_value for v in pilots.array_value.values] if pilots else [],
                        )
                    )
        return httpx.Response(200, content=ExportLogsServiceResponse().SerializeToString())


@pytest.mark.parametrize("state", ["memory", "sqlite"])
def test_events_are_tagged_by_the_time_they_were_recorded_not_sent(
    state: str, tmp_path: Path
) -> None:
    collector = Collector()
    client = cs_sdk.Client(
        environ={},
        service_name="tagging",
        compression="none",
        state="memory" if state == "memory" else f"sqlite:///{tmp_path}/state.db",
        schedule_delay=60,  # nothing is tagged before flush()
        http_client=httpx.Client(transport=httpx.MockTransport(collector)),
    )
    steps = [
        lambda: client.milestone("before_enrol", user_id="u1"),
        lambda: client.pilots.enroll("u1", "beta", cohort="wave-1"),
        lambda: client.milestone("while_enrolled", user_id="u1"),
        lambda: client.pilots.exit("u1", "beta"),
        lambda: client.milestone("after_exit", user_id="u1"),
        lambda: client.pilots.enroll("u1", "beta"),
        lambda: client.milestone("enrolled_again", user_id="u1"),
    ]
    for step in steps:
        step()
        time.sleep(0.002)  # event times a clear step apart
    assert collector.records == []  # still queued: the worker has not tagged anything yet
    assert client.flush(timeout=5)
    client.shutdown(timeout=1.0)
    assert collector.records == [
        ("cs.milestone", "before_enrol", []),
        ("cs.pilot.enrolled", "beta", ["beta"]),
        ("cs.milestone", "while_enrolled", ["beta"]),
        ("cs.pilot.exited", "beta", []),
        ("cs.milestone", "after_exit", []),
        ("cs.pilot.enrolled", "beta", ["beta"]),
        ("cs.milestone", "enrolled_again", ["beta"]),
    ]


def test_tags_follow_the_periods_a_user_spent_in_each_pilot() -> None:
    now = [T0]
    pilots = Pilots(MemoryStore(), clock=lambda: now[0], cache_ttl=60)

    def at(**delta: float) -> float:
        return (T0 + dt.timedelta(**delta)).timestamp()

    pilots.enroll("u1", "beta", cohort="wave-1")
    now[0] = T0 + dt.timedelta(hours=1)
    pilots.enroll("u1", "gamma")
    now[0] = T0 + dt.timedelta(hours=2)
    pilots.exit("u1", "beta")
    now[0] = T0 + dt.timedelta(hours=3)
    pilots.enroll("u1", "beta", cohort="wave-2")
    assert pilots.tags("u1", at(seconds=-1)) == ()
    assert pilots.tags("u1", at()) == (("beta", "wave-1"),)  # the enrolment's own time
    assert pilots.tags("u1", at(minutes=90)) == (("beta", "wave-1"), ("gamma", None))
    assert pilots.tags("u1", at(hours=2)) == (("gamma", None),)  # the exit's own time
    assert pilots.tags("u1", at(hours=4)) == (("gamma", None), ("beta", "wave-2"))
    assert pilots.tags("u1") == pilots.tags("u1", at(hours=4))  # no time: now
    # The hot path converts an event's nanoseconds the same way.
    assert pilots.tags_at_ns("u1", int(at(minutes=90) * 1e9)) == pilots.tags("u1", at(minutes=90))
