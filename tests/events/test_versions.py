"""Schema versions as semver users expect (issue 11, section 5).

A version edited in place with a minor bump that only adds optional fields is superseded,
not removed: every document of the old version validates against the new one. Removing the
last version of a major line, or superseding a version with one that refuses some of its
documents, is still breaking, and the report says how to fix it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, Literal

import pytest

import cs_sdk
from cs_sdk.cli import main
from cs_sdk.events._compat import CompatReport, check, check_dirs, fix_for
from cs_sdk.events._jsonschema import event_json_schema, export_schemas

Schemas = dict[tuple[str, str], dict[str, Any]]


@pytest.fixture
def declare(own_registry: None) -> Iterator[Callable[[str, dict[str, Any]], type[cs_sdk.Event]]]:
    """Declare ``report.exported`` at a version with the given fields, as an app would."""
    made: list[type[cs_sdk.Event]] = []

    def make(version: str, fields: dict[str, Any]) -> type[cs_sdk.Event]:
        namespace: dict[str, Any] = {"__annotations__": dict(fields)}
        namespace.update({k: None for k, v in fields.items() if "None" in str(v)})
        cls = type(cs_sdk.Event)(
            f"ReportExported_{version.replace('.', '_')}",
            (cs_sdk.Event,),
            namespace,
            name="report.exported",
            version=version,
        )
        made.append(cls)
        return cls

    yield make
    for cls in made:
        cs_sdk.events.registry.unregister(cls)


V1 = {"format": Literal["pdf", "csv"], "pages": int}
V1_OPTIONAL = {**V1, "template": "str | None"}
V1_BREAKING = {"format": Literal["pdf", "csv"], "pages": int, "owner": str}  # a required field


def schemas_of(*classes: type[cs_sdk.Event]) -> Schemas:
    return {
        (cls.__cs_schema__.name, cls.__cs_schema__.version): event_json_schema(cls)
        for cls in classes
    }


def rules(report: CompatReport) -> list[tuple[str, str | None, str | None, bool]]:
    every = [*report.failures, *report.allowed_breaking, *report.additive]
    return [(c.rule, c.old_version, c.new_version, c.breaking) for c in every if not c.field]


def test_a_class_edited_in_place_with_a_minor_bump_adding_an_optional_field_passes(
    declare: Callable[..., type[cs_sdk.Event]],
) -> None:
    old = schemas_of(declare("1.0.0", V1))
    new = schemas_of(declare("1.1.0", V1_OPTIONAL))
    report = check(old, new)
    assert report.ok, report.summary()
    assert rules(report) == [("version superseded", "1.0.0", "1.1.0", False)]
    assert [(c.field, c.rule) for c in report.additive if c.field] == [
        ("template", "optional field added")
    ]
    assert "additive report.exported [1.0.0 -> 1.1.0]: version superseded" in report.summary()


def test_older_minors_superseded_by_a_later_compatible_minor_pass() -> None:
    v1: dict[str, Any] = {
        "type": "object",
        "properties": {"a": {"type": "string"}},
        "required": ["a"],
        "additionalProperties": False,
    }
    v1_1 = {**v1, "properties": {**v1["properties"], "b": {"type": "integer"}}}
    v1_2 = {**v1_1, "properties": {**v1_1["properties"], "c": {"type": "boolean"}}}
    old = {("e", "1.0.0"): v1, ("e", "1.1.0"): v1_1, ("e", "2.0.0"): v1}
    report = check(old, {("e", "1.2.0"): v1_2, ("e", "2.0.0"): v1})
    assert report.ok, report.summary()
    assert rules(report) == [
        ("version superseded", "1.0.0", "1.2.0", False),
        ("version superseded", "1.1.0", "1.2.0", False),
    ]


def test_removing_the_last_version_of_a_major_line_is_breaking_and_says_how_to_fix(
    declare: Callable[..., type[cs_sdk.Event]],
) -> None:
    v1, v2 = declare("1.0.0", V1), declare("2.0.0", V1_BREAKING)
    report = check(schemas_of(v1, v2), schemas_of(v2))
    assert not report.ok
    (failure,) = report.failures
    assert (failure.rule, failure.old_version, failure.detail) == (
        "version removed",
        "1.0.0",
        "no later 1.x version is declared",
    )
    assert "keep report.exported 1.0.0 declared next to the new version" in fix_for(failure)
    assert "how to fix:" in report.summary()


def test_a_minor_that_refuses_old_documents_is_a_real_break_and_names_the_major_fix(
    declare: Callable[..., type[cs_sdk.Event]],
) -> None:
    old = schemas_of(declare("1.0.0", V1))
    new = schemas_of(declare("1.1.0", V1_BREAKING))
    report = check(old, new)
    assert not report.ok
    assert [(c.field, c.rule) for c in report.failures] == [
        ("", "version removed"),
        ("owner", "required field added"),
    ]
    assert report.failures[0].detail == "1.1.0 refuse(s) some of its documents"
    summary = report.summary()
    assert "declare the new shape of report.exported as 2.0.0 next to 1.0.0" in summary
    assert summary.count("  - ") == 2  # one fix per distinct cause, not one per field


def test_a_major_bump_replacing_the_old_major_still_needs_the_old_one_declared(
    declare: Callable[..., type[cs_sdk.Event]],
) -> None:
    old = schemas_of(declare("1.0.0", V1))
    new = schemas_of(declare("2.0.0", V1_OPTIONAL))  # compatible, but another major line
    report = check(old, new)
    assert [c.rule for c in report.failures] == ["version removed"]


def test_the_cli_check_passes_an_in_place_minor_bump_end_to_end(
    declare: Callable[..., type[cs_sdk.Event]],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    export_schemas([declare("1.0.0", V1)], tmp_path / "old")
    export_schemas([declare("1.1.0", V1_OPTIONAL)], tmp_path / "new")
    assert check_dirs(tmp_path / "old", tmp_path / "new").ok
    assert main(["schemas", "check", str(tmp_path / "old"), str(tmp_path / "new")]) == 0
    out = capsys.readouterr().out
    assert "version superseded" in out and "BREAKING" not in out
