"""JSON Schema export: deterministic files, and Python and JSON Schema agree on validity."""

from __future__ import annotations

import json
import sys
import textwrap
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Literal

import jsonschema
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, Field, ValidationError

import cs_sdk
from cs_sdk import SchemaError
from cs_sdk.events import Feedback, Outcome, export_modules, registry
from cs_sdk.events._builtin import wire_document
from cs_sdk.events._jsonschema import event_json_schema, export_schemas, load_schema_dir
from cs_sdk.events._validator import strict_validator

from ._strategies import documents, json_values


class Address(BaseModel):
    city: str = Field(min_length=1)
    zip: str | None = None


class Checkout(cs_sdk.Event, name="test.checkout", version="1.2.0"):
    plan: Literal["free", "pro", "enterprise"]
    seats: int = Field(ge=1, le=500)
    coupon: str | None = None
    address: Address
    tags: list[str] = Field(default_factory=list)


def test_export_writes_one_file_per_version_and_an_index(tmp_path: Path) -> None:
    files = export_schemas([Checkout, Feedback], tmp_path)
    assert sorted(p.relative_to(tmp_path).as_posix() for p in files) == [
        "cs.feedback/1.0.0.schema.json",
        "index.json",
        "test.checkout/1.2.0.schema.json",
    ]
    schema = json.loads((tmp_path / "test.checkout/1.2.0.schema.json").read_text())
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["x-cs-event"] == {"name": "test.checkout", "version": "1.2.0"}
    jsonschema.Draft202012Validator.check_schema(schema)
    assert set(load_schema_dir(tmp_path)) == {("test.checkout", "1.2.0"), ("cs.feedback", "1.0.0")}


def test_export_is_byte_for_byte_stable(tmp_path: Path) -> None:
    export_schemas([Checkout, Feedback], tmp_path / "a")
    export_schemas([Feedback, Checkout], tmp_path / "b")
    for name in ("index.json", "test.checkout/1.2.0.schema.json", "cs.feedback/1.0.0.schema.json"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()


BUILTIN_NAMES = [
    "cs.feedback",
    "cs.feedback.response",
    "cs.milestone",
    "cs.outcome",
    "cs.pilot.enrolled",
    "cs.pilot.exited",
    "cs.prompt.dismissed",
    "cs.prompt.shown",
]


@pytest.fixture
def packages(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A directory on sys.path to write packages into; their events and modules are
    forgotten afterwards."""
    root = tmp_path / "src"
    root.mkdir()
    monkeypatch.syspath_prepend(str(root))
    before = set(sys.modules)
    try:
        yield root
    finally:
        for cls in list(registry):
            if cls.__module__.split(".", 1)[0] in {p.name for p in root.iterdir()}:
                registry.unregister(cls)
        for module in set(sys.modules) - before:
            if module.split(".", 1)[0] in {p.name for p in root.iterdir()}:
                del sys.modules[module]


def write_package(root: Path, name: str, files: dict[str, str]) -> None:
    for relative, text in {"__init__.py": "", **files}.items():
        path = root / name / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))


def renewal(name: str) -> str:
    return f"""
        import cs_sdk

        class Renewal(cs_sdk.Event, name="{name}", version="1.0.0"):
            amount: float
        """


def exported(directory: Path) -> list[str]:
    index = json.loads((directory / "index.json").read_text())
    return [entry["name"] for entry in index["schemas"]]


def test_the_cli_exports_modules_with_the_builtin_events(
    packages: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from cs_sdk.cli import main

    write_package(packages, "webpkg", {"events.py": renewal("web.renewal")})
    write_package(packages, "billpkg", {"sub/__init__.py": "", "sub/ev.py": renewal("bill.paid")})
    out = tmp_path / "out"
    assert main(["schemas", "export", "webpkg", "billpkg", "--out", str(out)]) == 0
    assert capsys.readouterr().out == f"wrote 10 schema(s) (8 built-in) and the index to {out}\n"
    assert exported(out) == sorted([*BUILTIN_NAMES, "web.renewal", "bill.paid"])
    assert (out / "web.renewal" / "1.0.0.schema.json").exists()
    assert load_schema_dir(out)  # readable back


def test_no_builtins_exports_only_the_modules(
    packages: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from cs_sdk.cli import main

    write_package(packages, "webpkg", {"events.py": renewal("web.renewal")})
    out = tmp_path / "out"
    assert main(["schemas", "export", "webpkg", "--no-builtins", "--out", str(out)]) == 0
    assert capsys.readouterr().out == f"wrote 1 schema(s) and the index to {out}\n"
    assert exported(out) == ["web.renewal"]


def test_exporting_the_builtin_module_does_not_repeat_them(packages: Path, tmp_path: Path) -> None:
    files = export_modules(["cs_sdk.events"], tmp_path / "out")
    assert exported(tmp_path / "out") == BUILTIN_NAMES
    assert len(files) == len(BUILTIN_NAMES) + 1


@pytest.mark.parametrize(
    ("files", "message"),
    [
        (
            {"events.py": renewal("web.renewal"), "broken.py": "import no_such_module_here\n"},
            "cannot import 'brokenpkg.broken': ModuleNotFoundError: "
            "No module named 'no_such_module_here'",
        ),
        (
            {"events.py": renewal("web.renewal"), "sub/__init__.py": "x = (\n"},
            "cannot import 'brokenpkg.sub': SyntaxError: ",
        ),
        (
            {"__init__.py": "raise RuntimeError('boom')\n"},
            "cannot import 'brokenpkg': RuntimeError: boom",
        ),
        ({"events.py": "x = 1\n"}, "no cs_sdk.Event declared in 'brokenpkg'"),
    ],
    ids=["submodule-import-error", "subpackage-syntax-error", "package-raises", "no-events"],
)
def test_a_module_that_cannot_be_exported_exits_2_naming_it(
    packages: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    files: dict[str, str],
    message: str,
) -> None:
    from cs_sdk.cli import main

    write_package(packages, "brokenpkg", files)
    assert main(["schemas", "export", "brokenpkg", "--out", str(tmp_path / "out")]) == 2
    captured = capsys.readouterr()
    assert captured.err.startswith(f"cs-sdk schemas export: {message}"), captured.err
    assert "Traceback" not in captured.err
    assert not (tmp_path / "out").exists()  # nothing half-written


def test_an_unknown_module_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from cs_sdk.cli import main

    assert main(["schemas", "export", "no_such_pkg_xyz", "--out", str(tmp_path)]) == 2
    assert "cannot import 'no_such_pkg_xyz'" in capsys.readouterr().err


def test_export_modules_raises_a_schema_error(packages: Path, tmp_path: Path) -> None:
    write_package(packages, "brokenpkg", {"bad.py": "1/0\n"})
    with pytest.raises(SchemaError, match=r"'brokenpkg\.bad': ZeroDivisionError"):
        export_modules(["brokenpkg"], tmp_path)


checkout_like = st.fixed_dictionaries(
    {
        "plan": st.sampled_from(["free", "pro", "enterprise", "gold", 3]),
        # Integral floats included: 5.0 is not an int to Python, nor to the collector.
        "seats": st.one_of(
            st.integers(-5, 600),
            st.integers(-5, 600).map(float),
            st.text(max_size=3),
            st.floats(allow_nan=False, allow_infinity=False),
        ),
        "address": st.one_of(
            st.fixed_dictionaries(
                {"city": st.text(max_size=5)},
                optional={"zip": st.none() | st.text(max_size=5) | st.integers()},
            ),
            st.text(max_size=3),
        ),
    },
    optional={
        "coupon": st.none() | st.text(max_size=5) | st.integers(),
        "tags": st.lists(st.text(max_size=4) | st.integers(), max_size=3),
        "extra": json_values,
    },
)


def python_accepts(cls: type[BaseModel], document: dict[str, Any]) -> bool:
    try:
        cls.model_validate_json(json.dumps(document))  # JSON in, as the collector sees it
    except ValidationError:
        return False
    return True


def agreement(
    cls: type[BaseModel],
    strategy: st.SearchStrategy[dict[str, Any]],
    examples: int = 300,
    seeds: tuple[dict[str, Any], ...] = (),
) -> Counter[bool]:
    """Python's and the collector's verdicts agree on generated documents; both verdicts seen.

    ``seeds`` are documents checked before the generated ones: a valid one per built-in event,
    since a schema-driven strategy can go 300 examples without one (the feedback kind/score
    rule makes valid documents rare) and the "both verdicts seen" check would then fail at
    random.
    """
    validator = strict_validator(event_json_schema(cls))  # type: ignore[arg-type]
    verdicts: Counter[bool] = Counter()
    for seed in seeds:
        accepted = python_accepts(cls, seed)
        assert accepted == validator.is_valid(seed), seed
        verdicts[accepted] += 1

    @settings(max_examples=examples, deadline=None)
    @given(document=strategy)
    def run(document: dict[str, Any]) -> None:
        accepted = python_accepts(cls, document)
        assert accepted == validator.is_valid(document), document
        verdicts[accepted] += 1

    run()
    assert verdicts[True] and verdicts[False], verdicts
    return verdicts


def test_python_and_the_exported_schema_agree_on_typed_events() -> None:
    agreement(Checkout, checkout_like | documents(event_json_schema(Checkout)), examples=400)


def test_python_and_the_exported_schema_agree_on_feedback() -> None:
    agreement(
        Feedback,
        st.fixed_dictionaries(
            {"kind": st.sampled_from(["nps", "csat", "ces", "rating", "thumbs", "text", "smiley"])},
            optional={
                "score": st.none()
                | st.integers(-2, 12)
                | st.integers(-2, 12).map(float)
                | st.booleans(),
                "comment": st.none() | st.text(max_size=5),
                "area": st.text(min_size=1, max_size=4),
            },
        ),
        examples=400,
    )


BUILTINS = sorted(
    (cls for cls in registry if cls.__module__.startswith("cs_sdk.")),
    key=lambda cls: cls.__cs_schema__,
)


VALID_BUILTIN_DOCUMENTS: dict[str, dict[str, Any]] = {
    "cs.feedback": {"kind": "nps", "score": 9, "comment": "Love it", "area": "reports"},
    "cs.feedback.response": {
        "feedback_id": "9f2c4e0a1b3d5f7e0000000000000001",
        "status": "done",
        "team": "reports-team",
        "message": "Export is 3x faster in 2.3",
    },
    "cs.milestone": {"name": "first_report_created", "properties": {"pages": 3}},
    "cs.outcome": {"name": "renewal", "value": 12000.0, "unit": "USD"},
    "cs.pilot.enrolled": {"pilot_id": "new-dashboard", "cohort": "wave-1"},
    "cs.pilot.exited": {"pilot_id": "new-dashboard", "cohort": "wave-1", "reason": "finished"},
    "cs.prompt.dismissed": {"prompt_id": "nps-after-first-report"},
    "cs.prompt.shown": {"prompt_id": "nps-after-first-report", "kind": "nps"},
}


@pytest.mark.parametrize("cls", BUILTINS, ids=lambda cls: cls.__cs_schema__.name)
def test_python_and_the_exported_schema_agree_on_every_builtin_event(
    cls: type[cs_sdk.Event],
) -> None:
    seed = VALID_BUILTIN_DOCUMENTS[cls.__cs_schema__.name]
    assert python_accepts(cls, seed), seed
    agreement(cls, documents(event_json_schema(cls)), seeds=(seed,))


def test_an_integral_float_for_an_integer_field_is_refused_by_both() -> None:
    validator = strict_validator(event_json_schema(Checkout))
    document = {"plan": "pro", "seats": 5.0, "address": {"city": "Oslo"}}
    assert not python_accepts(Checkout, document)
    assert [error.message for error in validator.iter_errors(document)] == [
        "5.0 is not of type 'integer'"
    ]
    assert validator.is_valid({**document, "seats": 5})
    # A plain JSON Schema validator would take 5.0: the exception the strict one closes.
    assert jsonschema.Draft202012Validator(event_json_schema(Checkout)).is_valid(document)


def test_non_finite_numbers_are_not_numbers() -> None:
    validator = strict_validator(event_json_schema(Outcome))
    assert validator.is_valid({"name": "renewal", "value": 12.5})
    for value in (float("inf"), float("-inf"), float("nan")):
        assert not validator.is_valid({"name": "renewal", "value": value})
        with pytest.raises(ValidationError):
            Outcome(name="renewal", value=value)


def test_a_sent_builtin_event_maps_back_to_a_valid_document() -> None:
    event = Feedback(kind="csat", score=4, comment="ok", prompt_id="p1", properties={"x": 1})
    name, body, attributes = event.wire_fields()
    document = wire_document("cs.feedback", "1.0.0", {"cs.event.name": name, **attributes}, body)
    assert Feedback.model_validate(document) == event
    assert jsonschema.Draft202012Validator(event_json_schema(Feedback)).is_valid(document)
