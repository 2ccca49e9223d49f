"""Typed events of plain classes are built without pydantic's validator (events/_fast_init.py,
events/_init_speedups.c), issue 15: ``ReportCreated(**fields)`` was ~1.4 µs, most of a typed
event's cost. That is only right if nobody can tell, so: on random classes and random inputs
(valid, invalid, of near-miss types) the instance or the error is exactly pydantic's
(``model_validate``, which runs the validator directly, is the reference); every class this
file cannot prove plain is validated by pydantic as before; the fast path is really taken for
the typical classes; and ``CS_SDK_SPEEDUPS=false`` leaves pydantic's ``__init__`` in place.
"""

from __future__ import annotations

import abc
import copy
import enum
import importlib
import inspect
import itertools
import json
import math
import os
import pickle
import subprocess
import sys
import types
from typing import Annotated, Any, Literal, Optional

import pydantic
import pytest
from _accelerator import needs_accelerator
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ConfigDict, Field, PrivateAttr, field_validator, model_validator

import cs_sdk
from cs_sdk.events._fast_init import FAST_INIT, install_init

pytestmark = needs_accelerator
# CS_SDK_SPEEDUPS=false (CI's second run) turns the C construction off on purpose.
turned_off = os.environ.get("CS_SDK_SPEEDUPS", "").strip().lower() == "false"


class Color(str, enum.Enum):
    RED = "red"


class Text(str):
    pass


# Values of every type near the ones a plain field takes: exact scalars, and what pydantic
# must judge (subclasses, bools for ints, ints for floats, inf/nan, containers, an enum).
scalars = st.one_of(
    st.text(max_size=5),
    st.integers(-(2**70), 2**70),
    st.booleans(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.none(),
)
near_misses = st.one_of(
    st.sampled_from([Color.RED, Text("t"), 1.0, 0, 1, True, math.inf, math.nan, b"x"]),
    st.lists(st.integers(), max_size=2),
    st.builds(Text, st.text(max_size=3)),
)
values = st.one_of(scalars, scalars, near_misses)

FIELD_TYPES: list[Any] = [
    str,
    int,
    bool,
    float,
    type(None),
    Optional[str],  # noqa: UP045  (the spelling users write)
    int | None,
    float | None,
    Literal["pdf", "csv"],
    Literal[1, 2, True],
    Literal["x", None],
    Optional[Literal["a", "b"]],  # noqa: UP045
]
_classes = itertools.count()


def declare(annotations: dict[str, Any], defaults: dict[str, Any], **config: Any) -> Any:
    """A new abstract Event class (no name=: not registered) with these fields."""
    namespace: dict[str, Any] = {"__annotations__": annotations, **defaults}
    if config:
        namespace["model_config"] = ConfigDict(**config)  # type: ignore[typeddict-item]
    return types.new_class(
        f"Fast{next(_classes)}", (cs_sdk.Event,), {}, lambda ns: ns.update(namespace)
    )


def built(cls: Any, data: dict[str, Any]) -> tuple[str, Any]:
    """("ok", the instance's whole state) or ("error", pydantic's errors) for ``cls(**data)``
    (the C path for a plain class)."""
    try:
        return "ok", state(cls(**data))
    except pydantic.ValidationError as error:
        return "error", error.errors(include_url=False)


def validated(cls: Any, data: dict[str, Any]) -> tuple[str, Any]:
    """The same through pydantic's validator alone (the reference)."""
    try:
        return "ok", state(cls.model_validate(data))
    except pydantic.ValidationError as error:
        return "error", error.errors(include_url=False)


def state(event: Any) -> Any:
    """Everything a user can see of an instance; floats by their repr (nan != nan)."""

    def typed(value: Any) -> Any:
        return (type(value).__name__, repr(value))

    return (
        [(key, typed(value)) for key, value in event.__dict__.items()],
        sorted(event.model_fields_set),
        event.__pydantic_extra__,
        event.__pydantic_private__,
        repr(event),
        event.model_dump_json(warnings=False),  # a default of another type: as pydantic
    )


@st.composite
def classes_and_inputs(draw: st.DrawFn) -> tuple[Any, dict[str, Any]]:
    kinds = draw(st.lists(st.sampled_from(FIELD_TYPES), max_size=6))
    annotations: dict[str, Any] = {}
    defaults: dict[str, Any] = {}
    for index, annotation in enumerate(kinds):
        name = draw(st.sampled_from(["f", "plan", "Größe", "self"])) + str(index)
        annotations[name] = annotation
        if draw(st.integers(0, 3)) == 0:
            defaults[name] = draw(scalars)
    strict = draw(st.sampled_from([None, True, False]))
    extra = draw(st.sampled_from([None, "forbid", "ignore"]))
    config = {
        key: value for key, value in (("strict", strict), ("extra", extra)) if value is not None
    }
    cls = declare(annotations, defaults, **config)
    data: dict[str, Any] = {}
    names = list(annotations)
    if draw(st.booleans()):
        names = draw(st.permutations(names))  # keywords in another order than declared
    for name in names:
        if draw(st.integers(0, 5)) > 0:
            data[name] = draw(values)
    if draw(st.integers(0, 5)) == 0:
        data[draw(st.sampled_from(["unknown", "plan", "f0x"]))] = draw(values)
    return cls, data


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=classes_and_inputs())
def test_a_plain_class_builds_exactly_what_pydantic_validates(
    case: tuple[Any, dict[str, Any]],
) -> None:
    cls, data = case
    assert cls.__dict__[FAST_INIT] is not None  # every field type above is plain
    assert built(cls, data) == validated(cls, data)


REPORT_FIELDS: dict[str, Any] = {
    "plan": "pro",
    "report_type": "weekly",
    "source": "web",
    "pages": 3,
    "rows": 1200,
    "duration_ms": 12.5,
    "score": 0.75,
    "first_time": False,
}


class ReportCreated(cs_sdk.Event, name="test.fast_init.report_created", version="1.0.0"):
    plan: str
    report_type: str
    source: str
    pages: int
    rows: int
    duration_ms: float
    score: float
    first_time: bool


class Exported(cs_sdk.Event, name="test.fast_init.exported", version="1.0.0"):
    format: Literal["pdf", "csv"] = "pdf"
    pages: int
    note: str | None = None


class CountingValidator:
    """Wraps a class's pydantic validator and counts the times it validates."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.calls = 0

    def validate_python(self, *args: Any, **kwargs: Any) -> Any:
        self.calls += 1
        return self.inner.validate_python(*args, **kwargs)


@pytest.mark.skipif(turned_off, reason="CS_SDK_SPEEDUPS=false: pydantic builds every event")
@pytest.mark.parametrize(
    ("cls", "data"),
    [
        (ReportCreated, REPORT_FIELDS),
        (ReportCreated, dict(reversed(REPORT_FIELDS.items()))),  # any keyword order
        (Exported, {"pages": 2}),  # defaults
        (Exported, {"format": "csv", "pages": 2, "note": None}),
    ],
    ids=["all fields", "reordered", "defaults", "literal and none"],
)
def test_the_typical_typed_events_are_built_without_the_validator(
    cls: Any, data: dict[str, Any]
) -> None:
    # A fast path that quietly stopped being taken would only show as a slower benchmark:
    # the validator is counted instead (put back at the end).
    original = cls.__dict__["__pydantic_validator__"]
    counting = CountingValidator(original)
    type.__setattr__(cls, "__pydantic_validator__", counting)
    try:
        event = cls(**data)
        assert counting.calls == 0
        assert state(event) == state(cls.model_validate(data))  # the validator: 1
        with pytest.raises(pydantic.ValidationError):
            cls(**{**data, "pages": "3"})  # pydantic's error, through the validator
        assert counting.calls == 2
    finally:
        type.__setattr__(cls, "__pydantic_validator__", original)


def test_the_callers_dict_is_never_the_events() -> None:
    fields = dict(REPORT_FIELDS)
    event = ReportCreated(**fields)
    fields["pages"] = 99
    assert event.pages == 3 and event.__dict__ is not fields
    blank = ReportCreated.__new__(ReportCreated)
    ReportCreated.__init__(blank, **fields)  # the descriptor's own path
    fields["pages"] = 5
    assert blank.pages == 99


def test_a_built_event_behaves_as_a_validated_one() -> None:
    event = ReportCreated(**REPORT_FIELDS)
    reference = ReportCreated.model_validate(REPORT_FIELDS)
    assert event == reference and hash(event) == hash(reference)
    with pytest.raises(pydantic.ValidationError):
        event.pages = 4  # type: ignore[misc]  # frozen
    changed = event.model_copy(update={"pages": 9})
    assert changed.pages == 9 and changed.model_fields_set == set(REPORT_FIELDS)
    assert event.pages == 3
    assert pickle.loads(pickle.dumps(event)) == event
    assert copy.deepcopy(event) == event
    assert json.loads(event.model_dump_json()) == REPORT_FIELDS
    assert Exported(pages=1).model_fields_set == {"pages"}
    # What inspect and pydantic read of the class are unchanged.
    assert str(inspect.signature(ReportCreated)) == (
        "(*, plan: str, report_type: str, source: str, pages: int, rows: int, "
        "duration_ms: float, score: float, first_time: bool) -> None"
    )
    assert ReportCreated.__pydantic_custom_init__ is False
    with pytest.raises(TypeError, match="positional"):
        ReportCreated("pro")  # type: ignore[misc]


def test_each_event_has_its_own_fields_set() -> None:
    """The names given are copied from one set per class: changing one event's set (pydantic
    adds to it on assignment) changes no other event's."""
    first, second = ReportCreated(**REPORT_FIELDS), ReportCreated(**REPORT_FIELDS)
    assert first.model_fields_set == second.model_fields_set == set(REPORT_FIELDS)
    assert first.model_fields_set is not second.model_fields_set
    first.model_fields_set.discard("plan")
    assert second.model_fields_set == set(REPORT_FIELDS)
    assert ReportCreated(**REPORT_FIELDS).model_fields_set == set(REPORT_FIELDS)


def test_many_classes_take_turns_on_the_fast_path() -> None:
    """More classes than the compiled specs kept: each still builds what pydantic would."""
    classes = [
        type(f"Turn{i}", (cs_sdk.Event,), {"__annotations__": {"pages": int, f"f{i}": str}})
        for i in range(40)
    ]
    for _ in range(2):
        for i, cls in enumerate(classes):
            data = {"pages": i, f"f{i}": "x"}
            assert state(cls(**data)) == state(cls.model_validate(data))


def test_a_subclass_with_its_own_init_still_reaches_the_fast_path() -> None:
    class WithInit(cs_sdk.Event):
        pages: int

        def __init__(self, **data: Any) -> None:
            data.setdefault("pages", 1)
            super().__init__(**data)

    assert install_init(WithInit, cs_sdk.Event.__init__) is False

    assert WithInit().pages == 1
    assert WithInit(pages=5).pages == 5
    assert WithInit.model_validate({"pages": 2}).pages == 2
    with pytest.raises(pydantic.ValidationError):
        WithInit(pages="x")


def test_an_instance_is_an_ordinary_object_whichever_way_it_was_made() -> None:
    """Installed classes are called without object.__new__'s array of attribute values
    (_init_speedups.c, event_meta_call): every way of making and filling an instance still
    works as on any object, and what type.__call__ refuses is still refused."""

    class Noted(cs_sdk.Event):
        pages: int
        _note: str = PrivateAttr(default="none")

    class Child(Noted):  # its own __init__ stores as it likes
        def __init__(self, **data: Any) -> None:
            super().__init__(**data)
            self._note = "child"

    class Abstract(cs_sdk.Event):
        pages: int

        @abc.abstractmethod
        def kind(self) -> str: ...

    made_by: list[str] = []

    class OwnNew(cs_sdk.Event):
        pages: int

        def __new__(cls, *args: Any, **kwargs: Any) -> Any:
            made_by.append("own __new__")
            return super().__new__(cls)

    noted = Noted(pages=1)
    assert noted._note == "none" and vars(noted) == {"pages": 1}
    noted._note = "set"
    assert noted._note == "set" and noted.__dict__ is noted.__dict__
    assert Child(pages=2)._note == "child" and Child(pages=2).pages == 2
    made = Noted.model_construct(pages=3)
    assert made.pages == 3 and made._note == "none"
    blank = Noted.__new__(Noted)
    Noted.__init__(blank, pages=4)
    assert blank.pages == 4 and state(blank) == state(Noted(pages=4))
    assert object.__new__(Noted).__dict__ == {}
    assert copy.copy(noted).pages == 1 and copy.deepcopy(noted)._note == "set"
    assert OwnNew(pages=5).pages == 5 and made_by == ["own __new__"]
    with pytest.raises(TypeError, match="abstract"):
        Abstract(pages=1)  # type: ignore[abstract]
    with pytest.raises(pydantic.ValidationError):
        Noted(pages="many")
    with pytest.raises(TypeError, match="positional"):
        Noted(1)  # type: ignore[misc]


@pytest.mark.skipif(turned_off, reason="CS_SDK_SPEEDUPS=false: pydantic builds every event")
def test_the_typical_classes_take_the_whole_c_path_and_a_metaclass_call_still_wins() -> None:
    fitted = importlib.import_module("cs_sdk.events._init_speedups").fitted
    assert fitted(ReportCreated) and fitted(Exported)

    class Plain(cs_sdk.Event):
        pages: int

    class WithInit(Plain):
        def __init__(self, **data: Any) -> None:
            super().__init__(**data)

    assert fitted(Plain) and not fitted(WithInit) and not fitted(dict)

    calls: list[str] = []

    class CallingMeta(type(cs_sdk.Event)):  # type: ignore[misc]
        def __call__(cls, *args: Any, **kwargs: Any) -> Any:
            calls.append(cls.__name__)
            return super().__call__(*args, **kwargs)

    class Watched(cs_sdk.Event, metaclass=CallingMeta):
        pages: int

    assert Watched(pages=1).pages == 1 and calls == ["Watched"]
    assert not fitted(Watched)  # the metaclass's own __call__ runs, then the C __init__
    assert state(Watched(pages=2)) == state(Watched.model_validate({"pages": 2}))


@pytest.mark.skipif(turned_off, reason="CS_SDK_SPEEDUPS=false: pydantic builds every event")
def test_an_init_assigned_later_wins_over_the_installed_one() -> None:
    class Later(cs_sdk.Event):
        pages: int

    init = cs_sdk.Event.__dict__["__init__"]
    assert install_init(Later, init) is True  # as declared: type.__call__ goes to C
    assert Later(pages=2).pages == 2

    def own(self: Any, **data: Any) -> None:
        init(self, pages=data["pages"] * 10)

    Later.__init__ = own  # type: ignore[method-assign]
    assert Later(pages=2).pages == 20
    assert install_init(Later, init) is False  # its own __init__ now: left alone
    assert Later(pages=3).pages == 30


def _strip(value: str) -> str:
    return value.strip()


# Classes whose validation is not the identity: pydantic must build them, and does.
NOT_PLAIN: list[tuple[str, dict[str, Any], dict[str, Any], dict[str, Any], Any]] = [
    # (why, annotations, namespace extras, input, what pydantic makes of it)
    ("a constraint", {"a": Annotated[str, Field(max_length=2)]}, {}, {"a": "abc"}, "error"),
    (
        "a validator",
        {"a": str},
        {"v": field_validator("a")(lambda cls, v: v.upper())},
        {"a": "x"},
        "X",
    ),
    (
        "an after validator",
        {"a": Annotated[str, pydantic.AfterValidator(_strip)]},
        {},
        {"a": " x "},
        "x",
    ),
    (
        "a model validator",
        {"a": int},
        {"m": model_validator(mode="before")(lambda cls, d: {"a": 5})},
        {"a": 1},
        5,
    ),
    ("an alias", {"a": Annotated[str, Field(validation_alias="b")]}, {}, {"b": "y"}, "y"),
    (
        "a default factory",
        {"a": Annotated[str, Field(default_factory=lambda: "made")]},
        {},
        {},
        "made",
    ),
    ("a private attribute", {"a": str}, {"_p": PrivateAttr(default=1)}, {"a": "x"}, "x"),
    ("post init", {"a": str}, {"model_post_init": lambda self, ctx: None}, {"a": "x"}, "x"),
    (
        "strip whitespace",
        {"a": str},
        {"model_config": ConfigDict(str_strip_whitespace=True)},
        {"a": " x "},
        "x",
    ),
    (
        "inf refused",
        {"a": float},
        {"model_config": ConfigDict(allow_inf_nan=False)},
        {"a": math.inf},
        "error",
    ),
    (
        "extra allowed",
        {"a": str},
        {"model_config": ConfigDict(extra="allow")},
        {"a": "x", "z": 1},
        "x",
    ),
    ("a union", {"a": int | str}, {}, {"a": "7"}, "7"),
    ("a list", {"a": list[str]}, {}, {"a": ["x"]}, ["x"]),
    ("a mutable default", {"a": list[int]}, {"a": [1]}, {}, [1]),
]


@pytest.mark.parametrize(
    ("annotations", "extras", "data", "expected"),
    [case[1:] for case in NOT_PLAIN],
    ids=[case[0] for case in NOT_PLAIN],
)
def test_every_other_class_is_validated_by_pydantic(
    annotations: dict[str, Any], extras: dict[str, Any], data: dict[str, Any], expected: Any
) -> None:
    cls = types.new_class(
        f"NotPlain{next(_classes)}",
        (cs_sdk.Event,),
        {},
        lambda ns: ns.update({"__annotations__": annotations, **extras}),
    )
    assert cls.__dict__[FAST_INIT] is None
    if expected == "error":
        with pytest.raises(pydantic.ValidationError):
            cls(**data)
        return
    event = cls(**data)
    assert event.a == expected
    assert state(event) == state(cls.model_validate(data))


def test_speedups_off_keeps_pydantics_init() -> None:
    code = "import cs_sdk, pydantic; print(cs_sdk.Event.__init__ is pydantic.BaseModel.__init__)"
    env = {**os.environ, "CS_SDK_SPEEDUPS": "false"}
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60
    )
    assert out.stdout.strip() == "True", out.stderr


@pytest.mark.skipif(turned_off, reason="CS_SDK_SPEEDUPS=false: pydantic builds every event")
def test_the_construction_accelerator_is_in_place_where_speedups_are() -> None:
    # Where the C accelerator is built (required in CI), this one is too: Event's __init__
    # is the C one, not pydantic's (which would make every typed event ~1 µs dearer).
    assert cs_sdk.Event.__init__ is not pydantic.BaseModel.__init__
    assert type(cs_sdk.Event.__dict__["__init__"]).__name__ == "EventInit"
