"""Recording calls: what each one captures, and how invalid input is handled."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Literal

import pytest

import cs_sdk
from cs_sdk import InvalidEventError
from cs_sdk.testing import capture


class ReportExported(cs_sdk.Event, name="report.exported", version="1.0.0"):
    format: Literal["pdf", "csv"]
    pages: int


def test_milestone_carries_its_name_ids_and_typed_properties() -> None:
    with capture() as events:
        event_id = cs_sdk.milestone(
            "first_report_created",
            user_id="u1",
            account_id="acme",
            properties={"pages": 3, "ratio": 0.5, "tags": ["a", "b"], "meta": {"x": True}},
        )
    (event,) = events
    assert event.event_id == event_id
    assert event.name == "first_report_created"
    assert (event.schema_name, event.schema_version) == ("cs.milestone", "1.0.0")
    assert (event.user_id, event.account_id) == ("u1", "acme")
    assert event.properties == {"pages": 3, "ratio": 0.5, "tags": ["a", "b"], "meta": {"x": True}}
    assert event.record.event_name == "cs.milestone"


def test_outcome_has_value_and_unit_as_first_class_attributes() -> None:
    with capture() as events:
        cs_sdk.outcome("renewal", account_id="acme", value=12000, unit="USD")
    (event,) = events
    assert event.name == "renewal"
    assert event.attributes["cs.outcome.value"] == 12000.0
    assert isinstance(event.attributes["cs.outcome.value"], float)
    assert event.attributes["cs.outcome.unit"] == "USD"
    assert event.schema_name == "cs.outcome"


def test_feedback_has_kind_score_comment_prompt_and_area() -> None:
    with capture() as events:
        cs_sdk.feedback(
            "nps",
            score=9,
            comment="Love the new dashboard",
            user_id="u1",
            prompt_id="nps-after-first-report",
            area="reports",
        )
    (event,) = events
    assert event.name == "nps"
    assert event.score == 9
    assert event.comment == "Love the new dashboard"
    assert event.attributes["cs.prompt.id"] == "nps-after-first-report"
    assert event.attributes["cs.product.area"] == "reports"
    assert event.attributes["cs.feedback.kind"] == "nps"


@pytest.mark.parametrize(
    ("kind", "valid", "invalid"),
    [
        ("nps", [0, 10], [-1, 11]),
        ("csat", [1, 5], [0, 6]),
        ("ces", [1, 7], [0, 8]),
        ("rating", [1, 5], [0, 6]),
        ("thumbs", [0, 1], [2, -1]),
    ],
)
def test_feedback_score_ranges(kind: str, valid: list[int], invalid: list[int]) -> None:
    with capture(strict=True) as events:
        for score in valid:
            cs_sdk.feedback(kind, score=score)
        for score in invalid:
            with pytest.raises(InvalidEventError) as error:
                cs_sdk.feedback(kind, score=score)
            assert error.value.field == "score"
        with pytest.raises(InvalidEventError):
            cs_sdk.feedback(kind, score=True)  # a bool is not a score
        with pytest.raises(InvalidEventError):
            cs_sdk.feedback(kind)  # the score is required
    assert [event.score for event in events] == valid


def test_text_feedback_needs_a_comment_and_no_score() -> None:
    with capture(strict=True) as events:
        cs_sdk.feedback("text", comment="The export button is hard to find")
        with pytest.raises(InvalidEventError, match="comment"):
            cs_sdk.feedback("text")
        with pytest.raises(InvalidEventError, match="score"):
            cs_sdk.feedback("text", score=3, comment="x")
        with pytest.raises(InvalidEventError, match="kind"):
            cs_sdk.feedback("smiley", score=1)
    assert events[0].comment == "The export button is hard to find"
    assert events[0].score is None


def test_typed_events_send_their_fields_as_properties() -> None:
    with capture() as events:
        cs_sdk.track(ReportExported(format="pdf", pages=3), user_id="u1")
    (event,) = events
    assert event.name == "report.exported"
    assert (event.schema_name, event.schema_version) == ("report.exported", "1.0.0")
    assert event.properties == {"format": "pdf", "pages": 3}
    assert event.user_id == "u1"


def test_track_rejects_what_is_not_a_declared_event() -> None:
    class Undeclared(cs_sdk.Event):
        x: int

    with capture(strict=True):
        with pytest.raises(InvalidEventError, match="declared"):
            cs_sdk.track(Undeclared(x=1))
        with pytest.raises(InvalidEventError, match=r"cs_sdk\.Event"):
            cs_sdk.track({"name": "dict"})  # type: ignore[arg-type]


def test_explicit_timestamps() -> None:
    when = dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.timezone.utc)
    with capture(strict=True) as events:
        cs_sdk.milestone("backfilled", timestamp=when)
        cs_sdk.milestone("epoch", timestamp=when.timestamp())
        with pytest.raises(InvalidEventError, match="timezone-aware"):
            cs_sdk.milestone("naive", timestamp=dt.datetime(2026, 1, 2))
    assert events[0].time_unix_nano == events[1].time_unix_nano == int(when.timestamp()) * 10**9


@pytest.mark.parametrize(
    ("call", "field"),
    [
        (lambda: cs_sdk.milestone(""), "name"),
        (lambda: cs_sdk.milestone(42), "name"),  # type: ignore[arg-type]
        (lambda: cs_sdk.milestone("m", properties={"x": float("nan")}), "properties.x"),
        (lambda: cs_sdk.milestone("m", properties={"x": float("inf")}), "properties.x"),
        (lambda: cs_sdk.milestone("m", properties={"x": object()}), "properties.x"),
        (lambda: cs_sdk.milestone("m", properties={"x": 2**64}), "properties.x"),
        (lambda: cs_sdk.milestone("m", properties={"x": "y" * 70_000}), "properties.x"),
        (lambda: cs_sdk.milestone("m", properties={1: "int key"}), "properties"),
        (lambda: cs_sdk.milestone("m", properties=["not", "a", "dict"]), "properties"),  # type: ignore[arg-type]
        (lambda: cs_sdk.milestone("m", user_id=7.5), "user_id"),  # type: ignore[arg-type]
        (lambda: cs_sdk.milestone("m", user_id=""), "user_id"),
        (lambda: cs_sdk.milestone("m", timestamp=1.7e12), "timestamp"),  # ms passed as s
        (lambda: cs_sdk.outcome("renewal", value=float("nan")), "value"),
        (lambda: cs_sdk.outcome("renewal", value="12"), "value"),  # type: ignore[arg-type]
        (lambda: cs_sdk.feedback("nps", score=5, prompt_id=""), "prompt_id"),
    ],
)
def test_strict_mode_names_the_field_and_the_rule(call: object, field: str) -> None:
    with capture(strict=True), pytest.raises(InvalidEventError) as error:
        call()  # type: ignore[operator]
    assert error.value.field == field
    assert error.value.rule
    assert isinstance(error.value, ValueError)


def test_deep_nesting_is_invalid() -> None:
    deep: dict[str, object] = {"leaf": 1}
    for _ in range(12):
        deep = {"level": deep}
    with capture(strict=True), pytest.raises(InvalidEventError, match="nest"):
        cs_sdk.milestone("deep", properties=deep)


def test_production_mode_drops_counts_and_logs_invalid_events_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.WARNING, logger="cs_sdk"), capture() as events:
        assert cs_sdk.milestone("before") is not None
        for _ in range(5):
            assert cs_sdk.milestone("bad", properties={"x": float("nan")}) is None
        assert cs_sdk.feedback("nps", score=99) is None
        assert cs_sdk.milestone("after") is not None
        stats = cs_sdk.stats()
    assert events.names() == ["before", "after"]
    assert stats["dropped"]["invalid"] == 6
    assert stats["recorded"] == 2
    messages = [r.getMessage() for r in caplog.records if "invalid event" in r.getMessage()]
    assert len(messages) == 2  # once per rule, not once per event
    assert "properties.x" in messages[0]


def test_properties_are_copied_so_later_mutation_does_not_change_the_event() -> None:
    properties = {"pages": 3, "tags": ["a"]}
    with capture() as events:
        cs_sdk.milestone("m", properties=properties)
        properties["pages"] = 99
        properties["tags"].append("b")  # type: ignore[attr-defined]
    assert events[0].properties == {"pages": 3, "tags": ["a"]}


def test_event_ids_are_unique() -> None:
    with capture() as events:
        ids = {cs_sdk.milestone("m") for _ in range(1000)}
    assert len(ids) == 1000 == len({event.event_id for event in events})


def test_before_send_can_redact_or_drop() -> None:
    def scrub(event: cs_sdk.EventRecord) -> cs_sdk.EventRecord | None:
        if event.name == "secret":
            return None
        if isinstance(event.body, dict) and "email" in event.body:
            event.body["email"] = "[redacted]"
        return event

    with capture(before_send=scrub) as events:
        cs_sdk.milestone("signup", properties={"email": "a@b.example", "plan": "pro"})
        cs_sdk.milestone("secret")
        stats = cs_sdk.stats()
    assert events.names() == ["signup"]
    assert events[0].properties == {"email": "[redacted]", "plan": "pro"}
    assert stats["dropped"]["before_send"] == 1


def test_a_raising_before_send_drops_only_that_event() -> None:
    def flaky(event: cs_sdk.EventRecord) -> cs_sdk.EventRecord:
        if event.name == "boom":
            raise RuntimeError("bug in user code")
        return event

    with capture(before_send=flaky) as events:
        cs_sdk.milestone("ok1")
        cs_sdk.milestone("boom")
        cs_sdk.milestone("ok2")
    assert events.names() == ["ok1", "ok2"]


def test_opted_out_users_are_dropped_before_queueing() -> None:
    with capture() as events:
        cs_sdk.opt_out("u1")
        assert cs_sdk.milestone("m", user_id="u1") is None
        with cs_sdk.identify(user_id="u1"):
            assert cs_sdk.milestone("m") is None
        cs_sdk.milestone("m", user_id="u2")
        cs_sdk.opt_in("u1")
        cs_sdk.milestone("m", user_id="u1")
        stats = cs_sdk.stats()
    assert [event.user_id for event in events] == ["u2", "u1"]
    assert stats["dropped"]["opted_out"] == 2


def test_a_disabled_client_is_a_no_op(client_factory) -> None:  # type: ignore[no-untyped-def]
    client = client_factory(disabled=True)
    assert client.milestone("m") is None
    assert client.feedback("nps", score=99) is None  # not even validated
    assert client.flush() is True
    assert client.stats()["recorded"] == 0


def test_calls_before_init_are_refused_without_error() -> None:
    assert cs_sdk.get_client() is None
    assert cs_sdk.milestone("m") is None
    assert cs_sdk.flush() is False  # nothing can be delivered without a client


def test_capture_works_on_an_explicit_client(client_factory) -> None:  # type: ignore[no-untyped-def]
    client = client_factory(endpoint="http://127.0.0.1:9")
    with capture(client) as events:
        client.milestone("direct")
    assert events.names() == ["direct"]


def test_the_pytest_fixture_captures(cs_events) -> None:  # type: ignore[no-untyped-def]
    cs_sdk.milestone("first_report_created", user_id="u1")
    assert cs_events[0].name == "first_report_created"


def test_int_ids_are_kept_as_their_digits() -> None:
    with capture() as events:
        cs_sdk.milestone("m", user_id=42, account_id=7)  # type: ignore[arg-type]
    assert (events[0].user_id, events[0].account_id) == ("42", "7")


def test_opting_out_nobody_is_ignored_and_anonymous_events_still_flow() -> None:
    with capture() as events:
        cs_sdk.opt_out(None)  # type: ignore[arg-type]
        cs_sdk.opt_out([])  # type: ignore[arg-type]
        cs_sdk.outcome("renewal", account_id="acme", value=1.0)
    assert events.names() == ["renewal"]


def test_a_timestamp_past_the_otlp_range_is_invalid_not_an_internal_error() -> None:
    with capture() as events:
        assert cs_sdk.milestone("m", timestamp=1.7e12) is None  # milliseconds passed as seconds
        assert cs_sdk.milestone("ok", timestamp=1.7e9) is not None
        stats = cs_sdk.stats()
    assert events.names() == ["ok"]
    assert stats["dropped"]["invalid"] == 1
    assert stats["dropped"]["internal_error"] == 0
