"""Compatibility rules: each breaking change is caught, each allowed change passes.

Every rule of ``RULES`` has one case below, and ``docs/schemas.md``'s two tables list exactly
these rules, each in the table of its kind.
"""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Annotated, Any, Literal

import pytest
from jsonschema import Draft202012Validator
from pydantic import BaseModel, ConfigDict, Field

from cs_sdk.events import Feedback, registry
from cs_sdk.events._compat import RULES, Change, check, check_dirs, compare_schemas
from cs_sdk.events._jsonschema import event_json_schema

DOCS = Path(__file__).resolve().parents[2] / "docs" / "schemas.md"


def obj(
    properties: dict[str, Any], required: list[str] | None = None, **extra: Any
) -> dict[str, Any]:
    """An object schema, closed (``additionalProperties: false``) like an event's."""
    return {
        "type": "object",
        "properties": properties,
        "required": required or [],
        "additionalProperties": False,
        **extra,
    }


def opened(schema: dict[str, Any]) -> dict[str, Any]:
    """``schema`` taking extra properties, like a nested model without extra="forbid"."""
    return {k: v for k, v in schema.items() if k != "additionalProperties"}


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


def field(old: Any, new: Any, required: bool = True) -> tuple[dict[str, Any], dict[str, Any]]:
    """An event whose one field ``x`` has the schema ``old``, then ``new``."""
    return obj({"x": old}, ["x"] if required else []), obj({"x": new}, ["x"] if required else [])


def without(properties: dict[str, Any], *names: str) -> dict[str, Any]:
    return {k: v for k, v in properties.items() if k not in names}


NPS_RULE = {
    "if": {"properties": {"kind": {"const": "nps"}}, "required": ["kind"]},
    "then": {"properties": {"score": {"type": "integer", "maximum": 10}}, "required": ["score"]},
}
KIND = obj({"kind": STR, "score": {"anyOf": [INT, {"type": "null"}]}}, ["kind"])

# rule -> (old schema, new schema, field path it is reported at)
SCHEMA_CASES: dict[str, tuple[dict[str, Any], dict[str, Any], str]] = {
    # breaking
    "field removed": (BASE, obj(without(BASE["properties"], "note"), ["format", "pages"]), "note"),
    "field renamed": (
        BASE,
        obj({**without(BASE["properties"], "note"), "remark": OPT_STR}, ["format", "pages"]),
        "note",
    ),
    "type changed": (*field(INT, STR), "x"),
    "type narrowed": (*field({}, STR), "x"),
    "null no longer accepted": (*field(OPT_STR, STR), "x"),
    "enum added (narrowed)": (*field(STR, {**STR, "enum": ["a", "b"]}), "x"),
    "enum value removed": (*field({**STR, "enum": ["a", "b"]}, {**STR, "enum": ["a"]}), "x"),
    "tighter bound: <keyword>": (*field({**INT, "minimum": 1}, {**INT, "minimum": 2}), "x"),
    "pattern changed": (*field(STR, {**STR, "pattern": "^[a-z]+$"}), "x"),
    "format changed": (*field({**STR, "format": "date"}, {**STR, "format": "date-time"}), "x"),
    "multipleOf added": (*field(INT, {**INT, "multipleOf": 2}), "x"),
    "multipleOf changed": (*field({**INT, "multipleOf": 2}, {**INT, "multipleOf": 4}), "x"),
    "unique items required": (
        *field(
            {"type": "array", "items": INT}, {"type": "array", "items": INT, "uniqueItems": True}
        ),
        "x",
    ),
    "optional field made required": (
        BASE,
        obj(BASE["properties"], ["format", "pages", "note"]),
        "note",
    ),
    "required field added": (
        BASE,
        obj({**BASE["properties"], "owner": STR}, ["format", "pages", "owner"]),
        "owner",
    ),
    "additional properties no longer allowed": (opened(BASE), BASE, ""),
    "constraint added": (KIND, {**KIND, "allOf": [NPS_RULE]}, ""),
    "keyword changed: <keyword>": (
        *field({"type": "array"}, {"type": "array", "contains": {"const": 1}}),
        "x",
    ),
    # additive
    "optional field added": (
        BASE,
        obj({**BASE["properties"], "owner": OPT_STR}, ["format", "pages"]),
        "owner",
    ),
    "enum value added": (*field({**STR, "enum": ["a"]}, {**STR, "enum": ["a", "b"]}), "x"),
    "enum removed (any value accepted)": (*field({**STR, "enum": ["a"]}, STR), "x"),
    "looser bound: <keyword>": (*field({**INT, "minimum": 1}, {**INT, "minimum": 0}), "x"),
    "type widened": (*field(INT, {"type": "number"}), "x"),
    "null now accepted": (*field(STR, OPT_STR), "x"),
    "pattern removed": (*field({**STR, "pattern": "^a"}, STR), "x"),
    "format removed": (*field({**STR, "format": "email"}, STR), "x"),
    "multipleOf removed": (*field({**INT, "multipleOf": 2}, INT), "x"),
    "multipleOf loosened": (*field({**INT, "multipleOf": 4}, {**INT, "multipleOf": 2}), "x"),
    "unique items no longer required": (
        *field(
            {"type": "array", "items": INT, "uniqueItems": True}, {"type": "array", "items": INT}
        ),
        "x",
    ),
    "required field made optional": (BASE, obj(BASE["properties"], ["format"]), "pages"),
    "additional properties now allowed": (BASE, opened(BASE), ""),
    "constraint removed": ({**KIND, "allOf": [NPS_RULE]}, KIND, ""),
}
# Rules about whole events and versions, tested through check() below.
EVENT_RULES = {"event removed", "version removed", "<rule> without a version bump"}
EVENT_RULES |= {"new event", "new version", "version superseded"}


def printed(rule: str) -> str:
    """The name as printed for the case above (the keyword cases use minimum/contains)."""
    keyword = "contains" if rule.startswith("keyword") else "minimum"
    return rule.replace("<keyword>", keyword)


def test_every_rule_has_a_case() -> None:
    assert set(SCHEMA_CASES) | EVENT_RULES == set(RULES)
    assert not set(SCHEMA_CASES) & EVENT_RULES


@pytest.mark.parametrize("rule", sorted(SCHEMA_CASES))
def test_each_rule_is_found_and_classified(rule: str) -> None:
    old, new, path = SCHEMA_CASES[rule]
    found = rules(old, new)
    assert (path, printed(rule), RULES[rule]) in found, found
    if not RULES[rule]:
        assert not [item for item in found if item[2]], found  # nothing else, nothing breaking


def doc_tables() -> dict[str, set[str]]:
    """``{"Breaking": {...}, "Additive": {...}}``: the names in each table's last column."""
    tables: dict[str, set[str]] = {}
    current = ""
    for line in DOCS.read_text(encoding="utf-8").splitlines():
        heading = re.match(r"^(Breaking|Additive) \(", line)
        if heading:
            current = heading.group(1)
            tables[current] = set()
        elif current and line.startswith("|") and not line.startswith(("| change", "|---")):
            last = re.split(r"(?<!\\)\|", line.strip().strip("|"))[-1]
            tables[current] |= set(re.findall(r"`([^`]+)`", last))
        elif current and not line.strip() and tables[current]:
            current = ""
    return tables


def test_the_docs_tables_list_exactly_the_rules() -> None:
    tables = doc_tables()
    assert tables["Breaking"] == {rule for rule, breaking in RULES.items() if breaking}
    assert tables["Additive"] == {rule for rule, breaking in RULES.items() if not breaking}


BOUNDS = [
    ("minimum", 1, 2),
    ("exclusiveMinimum", 0, 1),
    ("minLength", 1, 2),
    ("minItems", 1, 2),
    ("minProperties", 1, 2),
    ("maximum", 10, 5),
    ("exclusiveMaximum", 10, 5),
    ("maxLength", 10, 5),
    ("maxItems", 10, 5),
    ("maxProperties", 10, 5),
]


@pytest.mark.parametrize(("keyword", "loose", "tight"), BOUNDS)
def test_every_bound_is_compared_both_ways(keyword: str, loose: int, tight: int) -> None:
    assert ("x", f"tighter bound: {keyword}", True) in rules(
        *field({keyword: loose}, {keyword: tight})
    )
    assert ("x", f"tighter bound: {keyword}", True) in rules(*field({}, {keyword: tight}))
    assert ("x", f"looser bound: {keyword}", False) in rules(
        *field({keyword: tight}, {keyword: loose})
    )
    assert ("x", f"looser bound: {keyword}", False) in rules(*field({keyword: tight}, {}))


# -- the changes pydantic models make (issue 5.1) -------------------------------------------


def model_rules(old: type[BaseModel], new: type[BaseModel]) -> list[tuple[str, str, bool]]:
    return rules(old.model_json_schema(), new.model_json_schema())


def test_dict_value_types_are_compared() -> None:
    class Old(BaseModel):
        counts: dict[str, int]

    class New(BaseModel):
        counts: dict[str, str]

    class Wider(BaseModel):
        counts: dict[str, float]

    assert ("counts.*", "type changed", True) in model_rules(Old, New)
    assert model_rules(Old, Wider) == [("counts.*", "type widened", False)]


def test_dict_key_types_are_compared() -> None:
    class Old(BaseModel):
        counts: dict[Literal["a", "b"], int]

    class New(BaseModel):
        counts: dict[Literal["a"], int]

    assert ("counts.<keys>", "enum value removed", True) in model_rules(Old, New)


def test_a_typed_dict_where_any_value_was_accepted_is_narrowed() -> None:
    class Old(BaseModel):
        properties: dict[str, Any]

    class New(BaseModel):
        properties: dict[str, int]

    assert ("properties.*", "type narrowed", True) in model_rules(Old, New)
    assert model_rules(New, Old) == [
        ("properties.*", "null now accepted", False),  # Any takes null too
        ("properties.*", "type widened", False),
    ]


def test_tuple_positions_are_compared() -> None:
    class Old(BaseModel):
        pair: tuple[int, str]

    class New(BaseModel):
        pair: tuple[str, str]

    class Longer(BaseModel):
        pair: tuple[int, str, int]

    assert model_rules(Old, New) == [("pair[0]", "type changed", True)]
    found = model_rules(Old, Longer)
    assert ("pair[2]", "type narrowed", True) in found
    assert ("pair", "tighter bound: minItems", True) in found


def test_multiple_of_is_compared() -> None:
    class Two(BaseModel):
        n: Annotated[int, Field(multiple_of=2)]

    class Four(BaseModel):
        n: Annotated[int, Field(multiple_of=4)]

    class Three(BaseModel):
        n: Annotated[int, Field(multiple_of=3)]

    assert model_rules(Two, Four) == [("n", "multipleOf changed", True)]
    assert model_rules(Two, Three) == [("n", "multipleOf changed", True)]
    assert model_rules(Four, Two) == [("n", "multipleOf loosened", False)]
    assert rules(*field({"multipleOf": 0.5}, {"multipleOf": 0.25})) == [
        ("x", "multipleOf loosened", False)
    ]


def test_a_list_becoming_a_set_is_breaking() -> None:
    class Listed(BaseModel):
        ids: list[int]

    class Unique(BaseModel):
        ids: set[int]

    assert model_rules(Listed, Unique) == [("ids", "unique items required", True)]
    assert model_rules(Unique, Listed) == [("ids", "unique items no longer required", False)]


def test_a_changed_const_is_a_value_removed_and_one_added() -> None:
    class A(BaseModel):
        kind: Literal["a"]

    class B(BaseModel):
        kind: Literal["b"]

    class AB(BaseModel):
        kind: Literal["a", "b"]

    assert model_rules(A, B) == [
        ("kind", "enum value removed", True),
        ("kind", "enum value added", False),
    ]
    assert model_rules(A, AB) == [("kind", "enum value added", False)]


class Inner(BaseModel):
    x: int


class InnerStr(BaseModel):
    x: str


class Other(BaseModel):
    y: int


def renamed(model: type[BaseModel], title: str) -> dict[str, Any]:
    """``model``'s schema as if the nested model was called ``title``."""
    text = json.dumps(model.model_json_schema())
    return dict(json.loads(text.replace("InnerStr", title)))


def test_union_branches_are_paired_and_compared() -> None:
    class Old(BaseModel):
        union: int | Inner

    class New(BaseModel):
        union: int | InnerStr

    # the model branch is paired by its $ref / title (same name), or by type (renamed)
    assert rules(Old.model_json_schema(), renamed(New, "Inner")) == [
        ("union.x", "type changed", True)
    ]
    assert model_rules(Old, New) == [("union.x", "type changed", True)]


def test_a_union_losing_or_gaining_a_branch() -> None:
    class IntOrStr(BaseModel):
        v: int | str

    class IntOnly(BaseModel):
        v: int

    class IntOrInner(BaseModel):
        v: int | Inner

    class IntOrInnerOrOther(BaseModel):
        v: int | Inner | Other

    assert model_rules(IntOrStr, IntOnly) == [("v", "type changed", True)]
    assert model_rules(IntOnly, IntOrStr) == [("v", "type widened", False)]
    assert model_rules(IntOrInner, IntOrInnerOrOther) == [("v", "type widened", False)]
    assert model_rules(IntOrInnerOrOther, IntOrInner) == [("v", "type changed", True)]


def test_an_optional_union_keeps_its_branches_and_null_apart() -> None:
    class Old(BaseModel):
        v: int | Inner | None = None

    class New(BaseModel):
        v: int | InnerStr

    found = model_rules(Old, New)
    assert ("v", "null no longer accepted", True) in found
    assert ("v.x", "type changed", True) in found


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


def test_a_field_added_to_a_nested_model_that_ignores_extras_narrows_that_name() -> None:
    class Open(BaseModel):
        city: str

    class OpenNote(BaseModel):
        city: str
        note: str | None = None

    class Closed(BaseModel):
        model_config = ConfigDict(extra="forbid")
        city: str

    class ClosedNote(BaseModel):
        model_config = ConfigDict(extra="forbid")
        city: str
        note: str | None = None

    class Old(BaseModel):
        address: Open
        shipping: Closed

    class New(BaseModel):
        address: OpenNote
        shipping: ClosedNote

    assert model_rules(Old, New) == [
        ("address.note", "optional field added", False),
        ("address.note", "type narrowed", True),  # {"note": 3} was an accepted extra
        ("shipping.note", "optional field added", False),
    ]


def test_a_model_used_twice_is_compared_at_both_places() -> None:
    class Old(BaseModel):
        billing: Inner
        shipping: Inner

    class New(BaseModel):
        billing: InnerStr
        shipping: InnerStr

    assert model_rules(Old, New) == [
        ("billing.x", "type changed", True),
        ("shipping.x", "type changed", True),
    ]


class Tree(BaseModel):
    label: str
    children: list[Tree] = []


class TreeInt(BaseModel):
    label: int
    children: list[TreeInt] = []


def test_recursive_models_terminate() -> None:
    assert model_rules(Tree, Tree) == []
    assert model_rules(Tree, TreeInt) == [("label", "type changed", True)]


def test_descriptions_titles_and_extensions_are_not_changes() -> None:
    new = obj(
        {
            **BASE["properties"],
            "pages": {**INT, "minimum": 1, "title": "Pages", "description": "how many"},
        },
        ["format", "pages"],
        **{"x-cs-event": {"name": "other"}, "$comment": "c", "examples": [{}]},
    )
    assert rules(BASE, new) == []


def test_every_builtin_schema_equals_itself() -> None:
    for cls in registry:
        if cls.__module__.startswith("cs_sdk."):
            schema = event_json_schema(cls)
            assert compare_schemas(schema, copy.deepcopy(schema)) == [], cls


# -- if/then rules: the built-in feedback score ranges --------------------------------------


def feedback_schema() -> dict[str, Any]:
    return copy.deepcopy(event_json_schema(Feedback))


def rule_for(schema: dict[str, Any], kind: str) -> dict[str, Any]:
    return next(r for r in schema["allOf"] if r["if"]["properties"]["kind"]["const"] == kind)


def test_a_feedback_score_range_change_is_found_with_its_condition() -> None:
    old, new = feedback_schema(), feedback_schema()
    rule_for(new, "nps")["then"]["properties"]["score"]["maximum"] = 5
    rule_for(new, "csat")["then"]["properties"]["score"]["minimum"] = 0
    assert rules(old, new) == [
        ('[if kind="nps"].score', "tighter bound: maximum", True),
        ('[if kind="csat"].score', "looser bound: minimum", False),
    ]


def test_feedback_rules_added_removed_and_relaxed() -> None:
    old, new = feedback_schema(), feedback_schema()
    new["allOf"].remove(rule_for(new, "ces"))
    rule_for(new, "text")["then"]["required"] = []
    new["allOf"].append(
        {"if": {"properties": {"kind": {"const": "smiley"}}}, "then": {"required": ["comment"]}}
    )
    found = compare_schemas(old, new)
    assert ("", "constraint removed", False, 'if kind="ces"') in found
    assert ('[if kind="text"].comment', "required field made optional", False, "") in found
    assert ("", "constraint added", True, 'if kind="smiley"') in found


def test_a_changed_condition_is_a_rule_removed_and_one_added() -> None:
    old, new = feedback_schema(), feedback_schema()
    rule_for(new, "thumbs")["if"]["properties"]["kind"]["const"] = "thumb"
    assert rules(old, new) == [("", "constraint removed", False), ("", "constraint added", True)]


def test_an_if_then_else_outside_all_of_is_compared() -> None:
    old = {**KIND, **NPS_RULE, "else": {"properties": {"score": {"type": "null"}}}}
    new = copy.deepcopy(old)
    new["else"]["properties"]["score"] = {"type": "integer"}
    assert rules(old, new) == [('[if not kind="nps"].score', "type changed", True)]


def test_a_change_inside_a_rule_prints_its_condition() -> None:
    change = Change("cs.feedback", "1.0.0", "1.1.0", '[if kind="nps"].score', "x", True)
    assert str(change) == 'cs.feedback[if kind="nps"].score [1.0.0 -> 1.1.0]: x'
    assert str(Change("e", "1.0.0", None, "", "version removed", True)) == (
        "e [1.0.0 -> -]: version removed"
    )


# -- versions and whole events ---------------------------------------------------------------


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
    assert [(c.field, c.rule, c.breaking) for c in report.failures] == [
        ("owner", "optional field added without a version bump", True)
    ]


def test_removing_an_event_or_a_version_fails() -> None:
    assert [c.rule for c in check(schemas(v1_0_0=BASE), {}).failures] == ["event removed"]
    report = check(schemas(v1_0_0=BASE, v2_0_0=BREAKING), schemas(v2_0_0=BREAKING))
    assert [(c.old_version, c.rule) for c in report.failures] == [("1.0.0", "version removed")]


def test_new_events_and_versions_are_additive() -> None:
    report = check({}, schemas(v1_0_0=BASE))
    assert report.ok and [c.rule for c in report.additive] == ["new event"]
    report = check(schemas(v2_0_0=BASE), schemas(v1_0_0=BASE, v2_0_0=BASE))
    assert report.ok and [c.rule for c in report.additive] == ["new version"]


def write_export(directory: Path, entries: dict[tuple[str, str], dict[str, Any]]) -> None:
    index = []
    for (name, version), schema in entries.items():
        path = directory / name / f"{version}.schema.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(schema))
        index.append({"name": name, "version": version, "file": f"{name}/{version}.schema.json"})
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "index.json").write_text(json.dumps({"schemas": index}))


def test_the_cli_check_exits_non_zero_with_reasons(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from cs_sdk.cli import main

    write_export(tmp_path / "old", schemas(v1_0_0=BASE))
    write_export(tmp_path / "bad", schemas(v1_0_0=BASE, v1_1_0=BREAKING))
    write_export(tmp_path / "good", schemas(v1_0_0=BASE, v2_0_0=BREAKING))
    assert main(["schemas", "check", str(tmp_path / "old"), str(tmp_path / "bad")]) == 1
    assert "field removed" in capsys.readouterr().out
    assert main(["schemas", "check", str(tmp_path / "old"), str(tmp_path / "good")]) == 0
    assert check_dirs(tmp_path / "old", tmp_path / "good").ok


def test_the_cli_check_finds_the_audited_changes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """dict values, tuples, multipleOf, list -> set and a union's model, in one event."""
    from cs_sdk.cli import main

    class Old(BaseModel):
        counts: dict[str, int]
        pair: tuple[int, str]
        n: Annotated[int, Field(multiple_of=2)]
        ids: list[int]
        union: int | Inner

    class New(BaseModel):
        counts: dict[str, str]
        pair: tuple[str, str]
        n: Annotated[int, Field(multiple_of=4)]
        ids: set[int]
        union: int | InnerStr

    write_export(tmp_path / "old", {("aud.a", "1.0.0"): Old.model_json_schema()})
    write_export(
        tmp_path / "new",
        {("aud.a", "1.0.0"): Old.model_json_schema(), ("aud.a", "1.1.0"): New.model_json_schema()},
    )
    assert main(["schemas", "check", str(tmp_path / "old"), str(tmp_path / "new")]) == 1
    out = capsys.readouterr().out.splitlines()
    assert out == [
        "5 breaking change(s) without a major version bump:",
        "  BREAKING aud.a.counts.* [1.0.0 -> 1.1.0]: type changed (integer -> string)",
        "  BREAKING aud.a.pair[0] [1.0.0 -> 1.1.0]: type changed (integer -> string)",
        "  BREAKING aud.a.n [1.0.0 -> 1.1.0]: multipleOf changed (2 -> 4)",
        "  BREAKING aud.a.ids [1.0.0 -> 1.1.0]: unique items required",
        "  BREAKING aud.a.union.x [1.0.0 -> 1.1.0]: type changed (integer -> string)",
        "how to fix:",
        "  - declare the new shape of aud.a as 2.0.0 next to 1.0.0 (a breaking change needs a "
        "new major version), or keep 1.1.0 compatible with 1.0.0",
    ]


# -- soundness: "no breaking change" means every old document stays valid -------------------

INNER = obj({"x": INT}, ["x"])
INNER_STR = obj({"x": STR}, ["x"])
POOL: list[Any] = [
    {},
    INT,
    {**INT, "minimum": 1},
    {**INT, "maximum": 5},
    {**INT, "multipleOf": 2},
    {**INT, "multipleOf": 4},
    {"type": "number"},
    {"type": "number", "exclusiveMinimum": 0},
    STR,
    {**STR, "maxLength": 2},
    {**STR, "minLength": 1},
    {**STR, "pattern": "^a"},
    {**STR, "enum": ["a", "b"]},
    {**STR, "enum": ["a"]},
    {"const": "a", **STR},
    {"type": "boolean"},
    OPT_STR,
    {"anyOf": [INT, {"type": "null"}]},
    {"anyOf": [INT, STR]},
    {"anyOf": [INT, INNER]},
    {"anyOf": [INT, INNER_STR]},
    {"type": "array", "items": INT},
    {"type": "array", "items": INT, "uniqueItems": True},
    {"type": "array", "items": {"type": "number"}},
    {"type": "array", "items": INT, "maxItems": 2},
    {"type": "array", "prefixItems": [INT, STR], "minItems": 2, "maxItems": 2},
    {"type": "array", "prefixItems": [STR, STR], "minItems": 2, "maxItems": 2},
    {"type": "object", "additionalProperties": INT},
    {"type": "object", "additionalProperties": STR},
    {"type": "object", "additionalProperties": True},
    INNER,
    INNER_STR,
    opened(INNER),
    opened(obj({"x": INT})),
    opened(obj({"x": OPT_STR})),
    {**INT, "not": {"const": 3}},
    {"allOf": [INT, {"minimum": 0}]},
    KIND,
    opened(KIND),
    {**KIND, "allOf": [NPS_RULE]},
    {**KIND, "allOf": [{**NPS_RULE, "then": {"properties": {"score": {"maximum": 5}}}}]},
    {**KIND, "if": NPS_RULE["if"], "then": {"required": ["score"]}},
]


# Values for the field x, chosen to sit on the edges of the schemas above.
CORPUS: list[Any] = [
    None,
    True,
    *(-1, 0, 1, 2, 3, 4, 5, 6, 8, 3.0, 0.5, -0.5),
    *("", "a", "b", "ab", "ba", "abc", "zz"),
    *([], [1], [2, 4], [1, 1], [1, 2], [1, 2, 3], [0.5], [1, "a"], ["a", "a"], ["a", 1]),
    *({}, {"x": 1}, {"x": "a"}, {"x": 1, "y": 2}, {"a": 1}, {"a": "s"}),
    *({"kind": "nps"}, {"kind": "nps", "score": 7}, {"kind": "nps", "score": 11}),
    *({"kind": "csat", "score": None}, {"kind": "nps", "score": None}, {"kind": 3}),
]


def test_when_nothing_breaking_is_found_old_documents_stay_valid() -> None:
    """Every pair of the pool: without a breaking finding, nothing valid becomes invalid."""
    missed = []
    for old in POOL:
        for new in POOL:
            old_schema, new_schema = field(old, new)
            if any(breaking for _, _, breaking, _ in compare_schemas(old_schema, new_schema)):
                continue
            old_valid = Draft202012Validator(old_schema).is_valid
            new_valid = Draft202012Validator(new_schema).is_valid
            missed += [
                (old, new, value)
                for value in CORPUS
                if old_valid({"x": value}) and not new_valid({"x": value})
            ]
    assert not missed, missed[:5]
