"""The printer: one readable line per event."""

from __future__ import annotations

import datetime as dt
import io

import httpx

from cs_sdk.collector import LocalCollector, Printer, format_record

from .conftest import TRACE_ID, export_request, log_record, post
from .test_store import FEEDBACK, OUTCOME, record

# 12:00:01.123 local time (the printer shows the developer's wall clock), plus 456789 ns
# that must not round the milliseconds up.
NOON = int(dt.datetime(2026, 1, 1, 12, 0, 1).timestamp()) * 10**9 + 123_456_789
IDENTITY = {"user.id": "u1", "cs.account.id": "acme"}


def test_a_milestone_line() -> None:
    milestone = record(
        {"cs.event.name": "first_report_created", **IDENTITY},
        {"pages": 3},
        time_unix_nano=NOON,
    )
    assert format_record(milestone) == (
        '12:00:01.123  web  cs.milestone  first_report_created  user=u1 account=acme  {"pages": 3}'
        f"  trace={TRACE_ID}"
    )


def test_a_feedback_line_shows_kind_score_and_comment() -> None:
    feedback = record(
        {**FEEDBACK, "cs.account.id": "acme", "session.id": "s9"},
        event_name="cs.feedback",
        time_unix_nano=NOON,
    )
    assert format_record(feedback) == (
        '12:00:01.123  web  cs.feedback  nps  score=9  "Love it"  user=u1 account=acme session=s9'
        f"  v=1.0.0 prompt=nps-1 trace={TRACE_ID}"
    )


def test_an_outcome_line_shows_value_and_unit_and_pilots() -> None:
    outcome = record(
        {
            **OUTCOME,
            **IDENTITY,
            "cs.outcome.unit": "hours",
            "cs.pilot.ids": ["p1", "p2"],
        },
        event_name="cs.outcome",
        time_unix_nano=NOON,
    )
    assert format_record(outcome) == (
        "12:00:01.123  web  cs.outcome  hours_saved  4.5 hours  user=u1 account=acme pilots=p1,p2"
        f"  trace={TRACE_ID}"
    )


def test_missing_fields_show_as_dashes_and_the_observed_time_stands_in() -> None:
    bare = record(
        {}, resource={}, event_name="", time_unix_nano=0, observed_time_unix_nano=NOON, trace_id=""
    )
    assert format_record(bare) == "12:00:01.123  -  -  -"


def test_quiet_prints_nothing() -> None:
    stream = io.StringIO()
    Printer(stream, quiet=True).print_records([record({})])
    assert stream.getvalue() == ""


def test_a_collector_prints_one_line_per_event() -> None:
    stream = io.StringIO()
    body = export_request(log_record(), log_record(event_name="cs.outcome"))
    with LocalCollector(printer=stream) as collector, httpx.Client(timeout=5) as http:
        assert post(http, collector, body).status_code == 200
    lines = stream.getvalue().splitlines()
    assert len(lines) == 2
    assert "  web  cs.milestone  first_report_created  user=u1 account=acme" in lines[0]
    assert "cs.outcome" in lines[1]


def test_a_broken_stream_does_not_fail_the_export() -> None:
    stream = io.StringIO()
    stream.close()
    with LocalCollector(printer=stream) as collector, httpx.Client(timeout=5) as http:
        assert post(http, collector, export_request()).status_code == 200
        assert len(collector.records) == 1


def test_a_violating_event_line_ends_with_its_reasons() -> None:
    milestone = record({"cs.event.name": "", **IDENTITY}, time_unix_nano=NOON)
    reasons = ["name: '' should be non-empty", "properties: 3 is not of type 'object'"]
    assert format_record(milestone, reasons) == (
        f"12:00:01.123  web  cs.milestone  -  user=u1 account=acme  trace={TRACE_ID}  !! schema: "
        "name: '' should be non-empty; properties: 3 is not of type 'object'"
    )
    assert format_record(milestone, []) == format_record(milestone)


def test_the_printer_pairs_records_with_their_violations() -> None:
    stream = io.StringIO()
    records = [record({"cs.event.name": "a"}), record({"cs.event.name": "b"})]
    Printer(stream).print_records(records, [[], ["x: bad"]])
    first, second = stream.getvalue().splitlines()
    assert "!!" not in first
    assert second.endswith("  !! schema: x: bad")
    stream = io.StringIO()
    Printer(stream).print_records(records)  # without validation: no marks
    assert "!!" not in stream.getvalue()
