"""JSON Schema export: deterministic files, and Python and JSON Schema agree on validity."""

from __future__ import annotations

import json
import sys
import textwrap
from pathlib import Path
from typing import Any, Literal

import jsonschema
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, Field, ValidationError

import cs_sdk
from cs_sdk.events import Feedback, registry
from cs_sdk.events._builtin import wire_document
from cs_sdk.events._jsonschema import event_json_schema, export_schemas, load_schema_dir


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


def test_the_cli_exports_a_module(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from cs_sdk.cli import main

    package = tmp_path / "mypkg"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "events.py").write_text(
        textwrap.dedent(
            """
            import cs_sdk

            class Renewal(cs_sdk.Event, name="mypkg.renewal", version="1.0.0"):
                amount: float
            """
        )
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    try:
        assert main(["schemas", "export", "mypkg", "--out", str(tmp_path / "out")]) == 0
        assert (tmp_path / "out" / "mypkg.renewal" / "1.0.0.schema.json").exists()
    finally:
        cls = registry.get("mypkg.renewal", "1.0.0")
        if cls is not None:
            registry.unregister(cls)
        for module in ("mypkg", "mypkg.events"):
            sys.modules.pop(module, None)


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-1000, 1000)
    | st.floats(allow_nan=False)
    | st.text(max_size=8),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=6), children, max_size=3)
    ),
    max_leaves=8,
)
checkout_like = st.fixed_dictionaries(
    {
        "plan": st.sampled_from(["free", "pro", "enterprise", "gold", 3]),
        # Integral floats are left out: JSON Schema counts 5.0 as an integer, pydantic's strict
        # mode does not, and cs_sdk itself always sends ints as ints.
        "seats": st.one_of(
            st.integers(-5, 600),
            st.text(max_size=3),
            st.floats(allow_nan=False, allow_infinity=False).filter(lambda x: not x.is_integer()),
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


@settings(max_examples=400, deadline=None)
@given(document=checkout_like)
def test_python_and_the_exported_schema_agree_on_typed_events(document: dict[str, Any]) -> None:
    validator = jsonschema.Draft202012Validator(event_json_schema(Checkout))
    assert python_accepts(Checkout, document) == validator.is_valid(document)


@settings(max_examples=400, deadline=None)
@given(
    document=st.fixed_dictionaries(
        {"kind": st.sampled_from(["nps", "csat", "ces", "rating", "thumbs", "text", "smiley"])},
        optional={
            "score": st.none() | st.integers(-2, 12) | st.booleans(),
            "comment": st.none() | st.text(max_size=5),
            "area": st.text(min_size=1, max_size=4),
        },
    )
)
def test_python_and_the_exported_schema_agree_on_feedback(document: dict[str, Any]) -> None:
    validator = jsonschema.Draft202012Validator(event_json_schema(Feedback))
    assert python_accepts(Feedback, document) == validator.is_valid(document)


def test_a_sent_builtin_event_maps_back_to_a_valid_document() -> None:
    event = Feedback(kind="csat", score=4, comment="ok", prompt_id="p1", properties={"x": 1})
    name, body, attributes = event.wire_fields()
    document = wire_document("cs.feedback", "1.0.0", {"cs.event.name": name, **attributes}, body)
    assert Feedback.model_validate(document) == event
    assert jsonschema.Draft202012Validator(event_json_schema(Feedback)).is_valid(document)
