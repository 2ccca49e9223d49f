"""End to end: the SDK sends to a real OTLP/HTTP receiver on 127.0.0.1, which decodes it."""

from __future__ import annotations

import time

import pytest
from opentelemetry.sdk.trace import TracerProvider

import cs_sdk
from cs_sdk.collector import LocalCollector

PROTOCOLS = [
    ("http/protobuf", "gzip"),
    ("http/protobuf", "none"),
    ("http/json", "gzip"),
    ("http/json", "none"),
]


class Signup(cs_sdk.Event, name="e2e.signup", version="2.1.0"):
    plan: str
    seats: int


@pytest.mark.parametrize(("protocol", "compression"), PROTOCOLS)
def test_every_mapped_field_arrives(
    collector: LocalCollector, protocol: str, compression: str
) -> None:
    client = cs_sdk.Client(
        environ={},
        service_name="web",
        environment="staging",
        resource_attributes={"service.version": "4.2.0"},
        endpoint=collector.endpoint,
        protocol=protocol,
        compression=compression,
    )
    tracer = TracerProvider().get_tracer("e2e")
    before = time.time_ns()
    with cs_sdk.identify(user_id="u1", account_id="acme", session_id="s9"):
        with tracer.start_as_current_span("request") as span:
            milestone_id = client.milestone(
                "first_report_created",
                properties={
                    "pages": 3,
                    "ratio": 0.25,
                    "ok": True,
                    "title": "Q3 ✓",
                    "tags": ["a", "b"],
                    "nested": {"depth": 2, "items": [1, 2.5, "x"]},
                    "none": None,
                    "big": 2**62,
                },
            )
        feedback_id = client.feedback(
            "nps", score=9, comment="Love it", prompt_id="nps-1", area="reports"
        )
    outcome_id = client.outcome("renewal", account_id="acme", value=12000, unit="USD")
    typed_id = client.track(Signup(plan="pro", seats=5), user_id="u2")
    after = time.time_ns()
    assert client.flush(timeout=10) is True
    client.shutdown()

    assert collector.wait_for(4, timeout=5)
    records = {record.event_id: record for record in collector.records}
    assert set(records) == {milestone_id, feedback_id, outcome_id, typed_id}

    milestone = records[milestone_id]
    assert milestone.event_name == "cs.milestone"
    assert milestone.name == "first_report_created"
    assert milestone.attributes["cs.schema.name"] == "cs.milestone"
    assert milestone.attributes["cs.schema.version"] == "1.0.0"
    assert milestone.attributes["user.id"] == "u1"
    assert milestone.attributes["session.id"] == "s9"
    assert milestone.attributes["cs.account.id"] == "acme"
    assert before <= milestone.time_unix_nano <= after
    assert milestone.observed_time_unix_nano == milestone.time_unix_nano
    assert milestone.severity_number == 9
    body = milestone.body
    assert body == {
        "pages": 3,
        "ratio": 0.25,
        "ok": True,
        "title": "Q3 ✓",
        "tags": ["a", "b"],
        "nested": {"depth": 2, "items": [1, 2.5, "x"]},
        "none": None,
        "big": 2**62,
    }
    assert type(body["pages"]) is int and type(body["ratio"]) is float  # types preserved
    context = span.get_span_context()
    assert milestone.trace_id == f"{context.trace_id:032x}"
    assert milestone.span_id == f"{context.span_id:016x}"

    feedback = records[feedback_id]
    assert feedback.event_name == "cs.feedback"
    assert feedback.attributes["cs.feedback.kind"] == "nps"
    assert feedback.attributes["cs.feedback.score"] == 9
    assert feedback.attributes["cs.feedback.comment"] == "Love it"
    assert feedback.attributes["cs.prompt.id"] == "nps-1"
    assert feedback.attributes["cs.product.area"] == "reports"
    assert (feedback.trace_id, feedback.span_id) == ("", "")

    outcome = records[outcome_id]
    assert outcome.event_name == "cs.outcome"
    assert outcome.attributes["cs.outcome.value"] == 12000.0
    assert outcome.attributes["cs.outcome.unit"] == "USD"
    assert "user.id" not in outcome.attributes

    typed = records[typed_id]
    assert typed.event_name == "e2e.signup"
    assert typed.attributes["cs.schema.version"] == "2.1.0"
    assert typed.body == {"plan": "pro", "seats": 5}

    for record in collector.records:
        assert record.resource["service.name"] == "web"
        assert record.resource["service.version"] == "4.2.0"
        assert record.resource["deployment.environment.name"] == "staging"
        assert record.resource["telemetry.sdk.name"] == "cs_sdk"
        assert record.scope_name == "cs_sdk"
        assert record.scope_version == cs_sdk.__version__

    request = collector.requests[-1]
    expected_type = "application/x-protobuf" if protocol == "http/protobuf" else "application/json"
    assert request.content_type == expected_type
    assert (request.content_encoding == "gzip") == (compression == "gzip")


def test_many_events_from_many_threads_all_arrive_once(collector: LocalCollector) -> None:
    import threading

    client = cs_sdk.Client(environ={}, endpoint=collector.endpoint, max_export_batch_size=500)

    def work(worker: int) -> None:
        for index in range(2_000):
            client.milestone("step", user_id=f"w{worker}", properties={"i": index})

    threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert client.flush(timeout=30)
    client.shutdown()
    assert collector.wait_for(8_000, timeout=10)
    ids = [record.event_id for record in collector.records]
    assert len(ids) == len(set(ids)) == 8_000
    assert client.stats()["sent"] == 8_000


def test_the_quickstart_runs(capsys: pytest.CaptureFixture[str]) -> None:
    import runpy
    from pathlib import Path

    path = Path(__file__).parents[2] / "examples" / "quickstart.py"
    with pytest.raises(SystemExit) as exit_info:
        runpy.run_path(str(path), run_name="__main__")
    assert exit_info.value.code == 0
    output = capsys.readouterr().out
    assert "first_report_created" in output
    assert "renewal" in output


@pytest.mark.parametrize(("protocol", "compression"), PROTOCOLS)
def test_pilot_memberships_arrive_as_attributes(
    collector: LocalCollector, protocol: str, compression: str
) -> None:
    client = cs_sdk.Client(
        environ={}, endpoint=collector.endpoint, protocol=protocol, compression=compression
    )
    assert client.pilots.enroll("u1", "new-dashboard", cohort="wave-1") is not None
    assert client.pilots.enroll("u1", "beta-export") is not None  # no cohort
    tagged = client.milestone("first_report_created", user_id="u1")
    untagged = client.milestone("first_report_created", user_id="u2")
    assert client.flush(timeout=10) is True
    client.shutdown()

    assert collector.wait_for(4, timeout=5)
    records = {record.event_id: record for record in collector.records}
    assert records[tagged].attributes["cs.pilot.ids"] == ["new-dashboard", "beta-export"]
    assert records[tagged].attributes["cs.pilot.cohorts"] == ["wave-1", ""]
    assert "cs.pilot.ids" not in records[untagged].attributes
    assert "cs.pilot.cohorts" not in records[untagged].attributes
    enrolled = [r for r in collector.records if r.event_name == "cs.pilot.enrolled"]
    assert sorted(
        (r.attributes["cs.pilot.id"], r.attributes.get("cs.pilot.cohort")) for r in enrolled
    ) == [("beta-export", None), ("new-dashboard", "wave-1")]
