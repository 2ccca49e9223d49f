"""SchemaValidator: counts every arrived event per name and version, with violation reasons."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from cs_sdk import SchemaError
from cs_sdk.collector import LocalCollector
from cs_sdk.events import SchemaValidator, export_modules
from cs_sdk.events._validator import UNKNOWN_SCHEMA

from .conftest import JSON, post


@pytest.fixture(scope="module")
def schema_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("schemas")
    export_modules(["cs_sdk.events"], directory)
    return directory


@pytest.fixture
def validator(schema_dir: Path) -> SchemaValidator:
    return SchemaValidator(schema_dir)


def feedback(kind: str, score: int | None = None, comment: str | None = None) -> dict[str, Any]:
    """The OTLP attributes of a feedback event, as the collector decodes them."""
    attributes: dict[str, Any] = {"cs.event.name": kind, "cs.feedback.kind": kind}
    if score is not None:
        attributes["cs.feedback.score"] = score
    if comment is not None:
        attributes["cs.feedback.comment"] = comment
    return attributes


@pytest.mark.parametrize(
    ("name", "version"),
    [("nobody.declared", "1.0.0"), ("cs.milestone", "9.0.0"), ("cs.milestone", "")],
)
def test_unknown_name_or_version_is_counted_as_a_violation(
    validator: SchemaValidator, name: str, version: str
) -> None:
    assert validator.observe(name, version, {}, {"x": 1}) == [UNKNOWN_SCHEMA]
    assert UNKNOWN_SCHEMA == "no schema for this event name and version"
    tally = validator.tallies[(name, version)]
    assert (tally.arrived, tally.violated) == (1, 1)
    assert tally.reasons == {UNKNOWN_SCHEMA: 1}


@pytest.mark.parametrize(
    ("kind", "score", "comment"),
    [
        ("nps", 11, None),
        ("nps", -1, None),
        ("csat", 0, None),
        ("ces", 8, None),
        ("thumbs", 2, None),
    ],
)
def test_builtin_feedback_with_score_out_of_range_violates(
    validator: SchemaValidator, kind: str, score: int, comment: str | None
) -> None:
    problems = validator.observe("cs.feedback", "1.0.0", feedback(kind, score, comment), None)
    assert problems
    assert all(problem.startswith("score: ") for problem in problems)
    tally = validator.tallies[("cs.feedback", "1.0.0")]
    assert (tally.arrived, tally.violated) == (1, 1)


@pytest.mark.parametrize(
    ("kind", "score", "comment"),
    [
        ("nps", 0, None),
        ("nps", 10, "great"),
        ("csat", 5, None),
        ("thumbs", 0, None),
        ("text", None, "the export is slow"),
    ],
)
def test_builtin_feedback_in_range_is_valid(
    validator: SchemaValidator, kind: str, score: int | None, comment: str | None
) -> None:
    assert validator.observe("cs.feedback", "1.0.0", feedback(kind, score, comment), None) == []
    tally = validator.tallies[("cs.feedback", "1.0.0")]
    assert (tally.arrived, tally.violated) == (1, 0)


def test_text_feedback_needs_a_comment_and_no_score(validator: SchemaValidator) -> None:
    assert validator.observe("cs.feedback", "1.0.0", feedback("text"), None)
    assert validator.observe("cs.feedback", "1.0.0", feedback("text", 3, "hi"), None)


def test_builtin_milestone_and_outcome_validate(validator: SchemaValidator) -> None:
    assert validator.observe("cs.milestone", "1.0.0", {"cs.event.name": "signup"}, None) == []
    assert (
        validator.observe(
            "cs.outcome",
            "1.0.0",
            {"cs.event.name": "renewal", "cs.outcome.value": 12000.0, "cs.outcome.unit": "USD"},
            {"plan": "pro"},
        )
        == []
    )
    problems = validator.observe(
        "cs.outcome", "1.0.0", {"cs.event.name": "renewal", "cs.outcome.value": "a lot"}, None
    )
    assert [problem.split(":", 1)[0] for problem in problems] == ["value"]


def test_violations_checks_without_counting(validator: SchemaValidator) -> None:
    assert validator.violations("cs.feedback", "1.0.0", feedback("nps", 11), None)
    assert validator.tallies == {}


def test_report_lists_arrived_and_violated_per_event(validator: SchemaValidator) -> None:
    assert validator.report() == "no events validated"
    for score in (9, 10, 11):
        validator.observe("cs.feedback", "1.0.0", feedback("nps", score), None)
    validator.observe("cs.milestone", "1.0.0", {"cs.event.name": "signup"}, None)
    validator.observe("nobody.declared", "2.0.0", {}, None)

    lines = validator.report().splitlines()
    header = lines[0].split()
    assert header[:4] == ["event", "version", "arrived", "violated"]
    rows = {tuple(line.split()[:4]): line for line in lines[1:]}
    assert set(rows) == {
        ("cs.feedback", "1.0.0", "3", "1"),
        ("cs.milestone", "1.0.0", "1", "0"),
        ("nobody.declared", "2.0.0", "1", "1"),
    }
    assert (
        "score: 11 is greater than the maximum of 10 (x1)"
        in rows[("cs.feedback", "1.0.0", "3", "1")]
    )
    assert f"{UNKNOWN_SCHEMA} (x1)" in rows[("nobody.declared", "2.0.0", "1", "1")]


def test_a_directory_that_is_not_an_export_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(SchemaError, match="not a cs-sdk schema export"):
        SchemaValidator(tmp_path)


def test_an_integral_double_for_an_integer_is_a_violation(validator: SchemaValidator) -> None:
    """An int arrives as intValue; a doubleValue 9.0 means the sender sent a float."""
    attributes = {**feedback("nps"), "cs.feedback.score": 9.0}
    problems = validator.observe("cs.feedback", "1.0.0", attributes, None)
    assert "score: 9.0 is not of type 'integer'" in problems  # the nps rule
    assert "score: 9.0 is not valid under any of the given schemas" in problems  # int | None
    assert validator.observe("cs.feedback", "1.0.0", feedback("nps", 9), None) == []


@pytest.mark.parametrize("value", [float("inf"), float("-inf"), float("nan")])
def test_non_finite_numbers_are_violations(validator: SchemaValidator, value: float) -> None:
    attributes = {"cs.event.name": "renewal", "cs.outcome.value": value}
    problems = validator.observe("cs.outcome", "1.0.0", attributes, None)
    assert [problem.split(":", 1)[0] for problem in problems] == ["value"]


def test_a_whole_number_for_a_number_field_is_valid(validator: SchemaValidator) -> None:
    attributes = {"cs.event.name": "renewal", "cs.outcome.value": 12000}
    assert validator.observe("cs.outcome", "1.0.0", attributes, None) == []


@pytest.mark.parametrize(
    ("index", "message"),
    [
        ('{"schemas": [{"name": "x", "version": "1.0.0"}]}', "not a cs-sdk schema export"),
        ('{"schemas": 3}', "not a cs-sdk schema export"),
        ("[]", "not a cs-sdk schema export"),
        ("not json", "not a cs-sdk schema export"),
        ('{"schemas": [{"name": "x", "version": "1.0.0", "file": "x.json"}]}', "cannot read"),
    ],
)
def test_a_broken_index_is_an_error(tmp_path: Path, index: str, message: str) -> None:
    (tmp_path / "index.json").write_text(index)
    with pytest.raises(SchemaError, match=message):
        SchemaValidator(tmp_path)


def test_a_schema_file_that_is_not_a_json_schema_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "index.json").write_text(
        json.dumps({"schemas": [{"name": "x", "version": "1.0.0", "file": "x.json"}]})
    )
    (tmp_path / "x.json").write_text("[1, 2]")
    with pytest.raises(SchemaError, match="not a JSON Schema"):
        SchemaValidator(tmp_path)
    (tmp_path / "x.json").write_text('{"minimum": "three"}')
    with pytest.raises(SchemaError, match=r"x 1\.0\.0: not a valid JSON Schema"):
        SchemaValidator(tmp_path)


def test_a_missing_directory_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(SchemaError, match="no such directory"):
        SchemaValidator(tmp_path / "missing")


def test_the_collector_prints_violations_on_the_event_line(schema_dir: Path) -> None:
    stream = io.StringIO()
    validator = SchemaValidator(schema_dir)
    request = {
        "resourceLogs": [
            {
                "scopeLogs": [
                    {
                        "logRecords": [
                            {
                                "eventName": "cs.feedback",
                                "attributes": [
                                    {"key": k, "value": v}
                                    for k, v in {
                                        "cs.event.name": {"stringValue": "nps"},
                                        "cs.schema.version": {"stringValue": "1.0.0"},
                                        "cs.feedback.kind": {"stringValue": "nps"},
                                        "cs.feedback.score": {"intValue": str(score)},
                                    }.items()
                                ],
                            }
                            for score in (9, 11)
                        ]
                    }
                ]
            }
        ]
    }
    with LocalCollector(printer=stream, schemas=validator) as collector, httpx.Client() as http:
        body = json.dumps(request).encode()
        assert post(http, collector, body, content_type=JSON).status_code == 200
        assert len(collector.records) == 2  # nothing dropped
    good, bad = stream.getvalue().splitlines()
    assert "score=9" in good and "!!" not in good
    assert bad.endswith("!! schema: score: 11 is greater than the maximum of 10")
