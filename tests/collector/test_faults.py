"""FaultPlan: each scripted fault as an httpx client sees it, then normal service."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import httpx
import pytest
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceResponse

from cs_sdk.collector import (
    BlackHole,
    FaultPlan,
    LocalCollector,
    PartialSuccess,
    Refuse,
    ResetMidBody,
    Slow,
    Status,
)

from .conftest import JSON, PROTOBUF, body_for, export_request, milestones, post
from .test_server import rpc_status


@pytest.fixture
def plan() -> FaultPlan:
    return FaultPlan()


@pytest.fixture
def collector(plan: FaultPlan) -> Iterator[LocalCollector]:
    with LocalCollector(faults=plan) as running:
        yield running


def test_the_plan_serves_queued_faults_in_order_then_the_standing_one() -> None:
    plan = FaultPlan().add(Refuse(), times=2).add(Slow(1.0))
    plan.always(BlackHole())
    assert [plan.next() for _ in range(5)] == [Refuse(), Refuse(), Slow(1.0)] + [BlackHole()] * 2
    plan.clear()
    assert plan.next() is None


def test_the_plan_is_safe_to_share_between_threads() -> None:
    plan = FaultPlan().add(Refuse(), times=1000)
    taken: list[object] = []

    def take() -> None:
        for _ in range(200):
            taken.append(plan.next())

    threads = [threading.Thread(target=take) for _ in range(5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)
    assert taken.count(Refuse()) == 1000
    assert plan.next() is None


def test_refuse_closes_the_connection_without_an_answer(
    plan: FaultPlan, collector: LocalCollector, http: httpx.Client
) -> None:
    plan.add(Refuse())
    with pytest.raises(httpx.RemoteProtocolError):
        post(http, collector, export_request())
    assert collector.requests[0].status == 0
    assert post(http, collector, export_request()).status_code == 200
    assert collector.wait_for(1, timeout=5)
    assert len(collector.records) == 1


@pytest.mark.parametrize("content_type", [PROTOBUF, JSON])
def test_status_answers_the_code_with_retry_after_and_stores_nothing(
    plan: FaultPlan, collector: LocalCollector, http: httpx.Client, content_type: str
) -> None:
    plan.add(Status(503, retry_after="2"))
    plan.add(Status(429, retry_after="Wed, 21 Oct 2026 07:28:00 GMT"))
    plan.add(Status(400, message="schema violation in record 0"))
    body = body_for(content_type)
    unavailable = post(http, collector, body, content_type)
    assert (unavailable.status_code, unavailable.headers["retry-after"]) == (503, "2")
    assert rpc_status(unavailable)[0] == 14  # UNAVAILABLE
    throttled = post(http, collector, body, content_type)
    assert throttled.status_code == 429
    assert throttled.headers["retry-after"] == "Wed, 21 Oct 2026 07:28:00 GMT"
    rejected = post(http, collector, body, content_type)
    assert rejected.status_code == 400
    assert "retry-after" not in rejected.headers
    assert rpc_status(rejected) == (3, "schema violation in record 0")
    assert collector.records == []
    assert post(http, collector, body, content_type).status_code == 200
    assert [r.status for r in collector.requests] == [503, 429, 400, 200]


def test_slow_answers_late_and_stores_the_records(
    plan: FaultPlan, collector: LocalCollector, http: httpx.Client
) -> None:
    plan.add(Slow(0.3))
    started = time.monotonic()
    assert post(http, collector, export_request()).status_code == 200
    assert time.monotonic() - started >= 0.3
    assert len(collector.records) == 1


def test_slow_past_the_client_timeout_still_stores_the_records(
    plan: FaultPlan, collector: LocalCollector
) -> None:
    plan.add(Slow(0.5))
    with httpx.Client(timeout=0.1) as impatient, pytest.raises(httpx.ReadTimeout):
        post(impatient, collector, export_request())
    assert collector.wait_for(1, timeout=5)


@pytest.mark.parametrize("content_type", [PROTOBUF, JSON])
def test_reset_mid_body_breaks_the_answer_after_storing_the_records(
    plan: FaultPlan, collector: LocalCollector, http: httpx.Client, content_type: str
) -> None:
    plan.add(ResetMidBody())
    with pytest.raises((httpx.ReadError, httpx.RemoteProtocolError)):
        post(http, collector, body_for(content_type), content_type)
    assert collector.wait_for(1, timeout=5)
    assert collector.requests[0].status == 0
    assert post(http, collector, body_for(content_type), content_type).status_code == 200


def test_partial_success_stores_all_but_the_last_records_and_says_so(
    plan: FaultPlan, collector: LocalCollector, http: httpx.Client
) -> None:
    plan.add(PartialSuccess(rejected=2, message="2 records too large"))
    response = post(http, collector, milestones(5))
    assert response.status_code == 200
    partial = ExportLogsServiceResponse.FromString(response.content).partial_success
    assert (partial.rejected_log_records, partial.error_message) == (2, "2 records too large")
    assert [record.name for record in collector.records] == ["m0", "m1", "m2"]


def test_partial_success_in_json(
    plan: FaultPlan, collector: LocalCollector, http: httpx.Client
) -> None:
    plan.add(PartialSuccess(rejected=1, message="one too many"))
    response = post(http, collector, body_for(JSON), JSON)
    assert response.json() == {
        "partialSuccess": {"rejectedLogRecords": "1", "errorMessage": "one too many"}
    }
    assert collector.records == []


def test_black_hole_never_answers_and_stop_is_still_prompt(plan: FaultPlan) -> None:
    plan.always(BlackHole())
    collector = LocalCollector(faults=plan).start()
    try:
        with httpx.Client(timeout=0.3) as http, pytest.raises(httpx.ReadTimeout):
            post(http, collector, export_request())
        assert collector.wait_for_requests(1, timeout=5)
        assert collector.records == []
    finally:
        stopper = threading.Thread(target=collector.stop)
        stopper.start()
        stopper.join(timeout=5)
    assert not stopper.is_alive()


def test_a_standing_fault_holds_until_the_plan_is_cleared(
    plan: FaultPlan, collector: LocalCollector, http: httpx.Client
) -> None:
    plan.always(Status(503))
    assert [post(http, collector, export_request()).status_code for _ in range(3)] == [503] * 3
    plan.clear()
    assert post(http, collector, export_request()).status_code == 200


def test_requests_that_are_not_exports_take_no_fault(
    plan: FaultPlan, collector: LocalCollector, http: httpx.Client
) -> None:
    plan.add(Status(503))
    assert post(http, collector, export_request(), path="/v1/metrics").status_code == 404
    assert http.get(collector.endpoint + "/v1/logs").status_code == 405
    assert post(http, collector, export_request()).status_code == 503
