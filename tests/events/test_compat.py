"""Compatibility rules: each breaking change is caught, each allowed change passes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from cs_sdk.events._compat import check, check_dirs, compare_schemas


def obj(
    properties: dict[str, Any], required: list[str] | None = None, **extra: Any
) -> dict[str, Any]:
    return {"type": "object", "properties": properties, "required": required or [], **extra}


STR = {"type": "string"}
INT = {"type": "integer"}
OPT_STR = {"anyOf": [{"type": "string"}, {"type": "null"}], "default": None}
BASE = obj(
    {
        "format": {"type": "string", "enum": ["pdf", "csv"]},
        "pages": {**INT, "minimum": 1},
        "note": OPT_STR,
    },
    ["format", "pages"],
)


def rules(old: dict[str, Any], new: dict[str, Any]) -> list[tuple[str, str, bool]]:
    return [(path, rule, breaking) for path, rule, breaking, _ in compare_schemas(old, new)]


@pytest.mark.parametrize(
    ("new", "expected"),
    [
        (
            obj(
                {"format": BASE["properties"]["format"], "pages": BASE["properties"]["pages"]},
                ["format", "pages"],
            ),
            ("note", "field removed"),
        ),
        (
            obj(
                {
                    "format": BASE["properties"]["format"],
                    "pages": BASE["properties"]["pages"],
                    "remark": OPT_STR,
                },
                ["format", "pages"],
            ),
            ("note", "field renamed"),
        ),
        (
            obj({**BASE["properties"], "pages": {"type": "string"}}, ["format", "pages"]),
            ("pages", "type changed"),
        ),
        (
            obj(
                {**BASE["properties"], "format": {"type": "string", "enum": ["pdf"]}},
                ["format", "pages"],
            ),
            ("format", "enum value removed"),
        ),
        (
            obj({**BASE["properties"], "pages": {**INT, "minimum": 2}}, ["format", "pages"]),
            ("pages", "tighter bound: minimum"),
        ),
        (
            obj(
                {**BASE["properties"], "pages": {**INT, "minimum": 1, "maximum": 10}},
                ["format", "pages"],
            ),
            ("pages", "tighter bound: maximum"),
        ),
        (
            obj(BASE["properties"], ["format", "pages", "note"]),
            ("note", "optional field made required"),
        ),
        (
            obj({**BASE["properties"], "owner": STR}, ["format", "pages", "owner"]),
            ("owner", "required field added"),
        ),
        (
            obj({**BASE["properties"], "note": STR}, ["format", "pages"]),
            ("note", "null no longer accepted"),
        ),
        (
            obj(
                {
                    **BASE["properties"],
                    "note": {
                        **OPT_STR,
                        "anyOf": [{"type": "string", "pattern": "^[a-z]+$"}, {"type": "null"}],
                    },
                },
                ["format", "pages"],
            ),
            ("note", "pattern changed"),
        ),
        (
            obj(BASE["properties"], ["format", "pages"], additionalProperties=False),
            ("", "additional properties no longer allowed"),
        ),
    ],
    ids=[
        "removed",
        "renamed",
        "type-changed",
        "enum-narrowed",
        "minimum-raised",
        "maximum-added",
        "made-required",
        "required-added",
        "null-refused",
        "pattern-added",
        "closed",
    ],
)
def test_breaking_changes_are_found(new: dict[str, Any], expected: tuple[str, str]) -> None:
    found = rules(BASE, new)
    assert (*expected, True) in found, found


@pytest.mark.parametrize(
    ("new", "expected"),
    [
        (
            obj({**BASE["properties"], "owner": OPT_STR}, ["format", "pages"]),
            ("owner", "optional field added"),
        ),
        (
            obj(
                {
                    **BASE["properties"],
                    "format": {"type": "string", "enum": ["pdf", "csv", "xlsx"]},
                },
                ["format", "pages"],
            ),
            ("format", "enum value added"),
        ),
        (
            obj({**BASE["properties"], "pages": {**INT, "minimum": 0}}, ["format", "pages"]),
            ("pages", "looser bound: minimum"),
        ),
        (
            obj(
                {**BASE["properties"], "pages": {"type": "number", "minimum": 1}},
                ["format", "pages"],
            ),
            ("pages", "type widened"),
        ),
        (obj(BASE["properties"], ["format"]), ("pages", "required field made optional")),
    ],
    ids=["optional-added", "enum-widened", "bound-loosened", "int-to-number", "made-optional"],
)
def test_additive_changes_are_allowed(new: dict[str, Any], expected: tuple[str, str]) -> None:
    found = rules(BASE, new)
    assert (*expected, False) in found, found
    assert not [item for item in found if item[2]], found


def test_nested_objects_through_refs_are_compared() -> None:
    old = {
        "type": "object",
        "properties": {"address": {"$ref": "#/$defs/Address"}},
        "required": ["address"],
        "$defs": {"Address": obj({"city": STR, "zip": OPT_STR}, ["city"])},
    }
    new = {
        "type": "object",
        "properties": {"address": {"$ref": "#/$defs/Address"}},
        "required": ["address"],
        "$defs": {"Address": obj({"city": STR}, ["city"])},
    }
    assert ("address.zip", "field removed", True) in rules(old, new)


def test_descriptions_and_titles_are_not_changes() -> None:
    new = obj(
        {
            **BASE["properties"],
            "pages": {**INT, "minimum": 1, "title": "Pages", "description": "how many"},
        },
        ["format", "pages"],
    )
    assert rules(BASE, new) == []


def schemas(**versions: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    return {
        ("report.exported", version.lstrip("v").replace("_", ".")): schema
        for version, schema in versions.items()
    }


BREAKING = obj({"format": BASE["properties"]["format"]}, ["format"])  # drops pages and note


def test_a_breaking_change_under_a_minor_bump_fails() -> None:
    report = check(schemas(v1_0_0=BASE), schemas(v1_0_0=BASE, v1_1_0=BREAKING))
    assert not report.ok
    assert {change.field for change in report.failures} == {"pages", "note"}
    assert "BREAKING report.exported.pages [1.0.0 -> 1.1.0]: field removed" in report.summary()


def test_a_breaking_change_under_a_major_bump_passes() -> None:
    report = check(schemas(v1_0_0=BASE), schemas(v1_0_0=BASE, v2_0_0=BREAKING))
    assert report.ok
    assert {change.field for change in report.allowed_breaking} == {"pages", "note"}


def test_changing_a_published_version_in_place_fails() -> None:
    additive = obj({**BASE["properties"], "owner": OPT_STR}, ["format", "pages"])
    report = check(schemas(v1_0_0=BASE), schemas(v1_0_0=additive))
    assert not report.ok
    assert "without a version bump" in report.failures[0].rule


def test_removing_an_event_or_a_version_fails() -> None:
    assert not check(schemas(v1_0_0=BASE), {}).ok
    assert not check(schemas(v1_0_0=BASE, v2_0_0=BREAKING), schemas(v2_0_0=BREAKING)).ok


def test_new_events_and_versions_are_additive() -> None:
    report = check({}, schemas(v1_0_0=BASE))
    assert report.ok and report.additive[0].rule == "new event"


def test_the_cli_check_exits_non_zero_with_reasons(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import json

    from cs_sdk.cli import main

    def write(directory: Path, entries: dict[tuple[str, str], dict[str, Any]]) -> None:
        index = []
        for (name, version), schema in entries.items():
            path = directory / name / f"{version}.schema.json"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(schema))
            index.append(
                {"name": name, "version": version, "file": f"{name}/{version}.schema.json"}
            )
        (directory / "index.json").write_text(json.dumps({"schemas": index}))

    write(tmp_path / "old", schemas(v1_0_0=BASE))
    write(tmp_path / "bad", schemas(v1_0_0=BASE, v1_1_0=BREAKING))
    write(tmp_path / "good", schemas(v1_0_0=BASE, v2_0_0=BREAKING))
    assert main(["schemas", "check", str(tmp_path / "old"), str(tmp_path / "bad")]) == 1
    assert "field removed" in capsys.readouterr().out
    assert main(["schemas", "check", str(tmp_path / "old"), str(tmp_path / "good")]) == 0
    assert check_dirs(tmp_path / "old", tmp_path / "good").ok
