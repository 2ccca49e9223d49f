"""A typed event of a plain class is queued as its wire body (cs_sdk/events/_plain.py), issue 15.

For a class whose JSON-mode dump is its field values, ``track()`` queues a copy of the fields
instead of the pydantic instance (and its set of field names): the instance dies with the
caller's statement. That is only right if nothing downstream can tell, so: what reaches the
wire is byte-identical between that form (C path and pure-Python path) and the instance form
the worker serialises, on random plain classes and values; the user's instance never changes;
every class this file cannot prove plain keeps the instance form; no call falls back.
"""

from __future__ import annotations

import datetime as dt
import enum
import itertools
import math
import types
from typing import Annotated, Any, Literal, Optional, Union

import pytest
from _accelerator import needs_accelerator
from _differential import Pair, comparable, plain, wire
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import (
    AfterValidator,
    ConfigDict,
    Field,
    computed_field,
    field_serializer,
    model_serializer,
)

import cs_sdk
from cs_sdk.collector import LocalCollector
from cs_sdk.events import registry
from cs_sdk.testing import capture

pytestmark = needs_accelerator

# Text of every kind: wide scripts, emoji, lone surrogates (pydantic keeps them as given).
text = st.text(st.characters(codec=None), max_size=6)
floats = st.one_of(st.floats(), st.sampled_from([math.inf, -math.inf, math.nan, -0.0]))
integers = st.one_of(st.integers(-(2**63), 2**63 - 1), st.integers(-(2**80), 2**80))
# (annotation, values that validate against it)
FIELD_TYPES: list[tuple[Any, st.SearchStrategy[Any]]] = [
    (str, text),
    (int, integers),
    (bool, st.booleans()),
    (float, floats),
    (type(None), st.none()),
    (Optional[str], st.one_of(st.none(), text)),  # noqa: UP045  (the spelling users write)
    (Optional[int], st.one_of(st.none(), integers)),  # noqa: UP045
    (float | None, st.one_of(st.none(), floats)),
    (Union[int, str], st.one_of(integers, text)),  # noqa: UP007
    (str | bool | None, st.one_of(st.none(), st.booleans(), text)),
    (Literal["pdf", "csv", "é🙂"], st.sampled_from(["pdf", "csv", "é🙂"])),
    (Literal[1, 2, 3], st.sampled_from([1, 2, 3])),
    (Literal[True], st.just(True)),
    (Literal["x", 3, False, None], st.sampled_from(["x", 3, False, None])),
    (Annotated[str, Field(max_length=4)], st.text(max_size=4)),
    (Annotated[int, Field(ge=0)], st.integers(0, 2**63 - 1)),
]
_classes = itertools.count()


@st.composite
def plain_events(draw: st.DrawFn) -> cs_sdk.Event:
    """An instance of a new plain class: up to 7 fields of the types above, some with a
    default (left out of the call or not), values drawn for each."""
    kinds = draw(st.lists(st.sampled_from(FIELD_TYPES), max_size=7))
    annotations: dict[str, Any] = {}
    defaults: dict[str, Any] = {}
    values: dict[str, Any] = {}
    for index, (annotation, strategy) in enumerate(kinds):
        field = draw(st.sampled_from(["f", "plan", "Größe", "n_" * 3])) + str(index)
        annotations[field] = annotation
        if draw(st.booleans()):
            defaults[field] = draw(strategy)
        if field not in defaults or draw(st.booleans()):
            values[field] = draw(strategy)
    number = next(_classes)
    cls: Any = types.new_class(
        f"Plain{number}",
        (cs_sdk.Event,),
        {"name": f"test.plain.c{number}", "version": "1.0.0"},
        lambda namespace: namespace.update(__annotations__=annotations, **defaults),
    )
    assert cls.__cs_plain_fields__ == len(annotations)
    return cls(**values)  # type: ignore[no-any-return]


def forms(event: cs_sdk.Event, **options: Any) -> tuple[Pair, list[Any]]:
    """``event`` tracked by the C client and the Python client, and their queued events."""
    pair = Pair(**options)
    for client in (pair.fast, pair.slow):
        assert client.track(event, user_id="u1")
    return pair, [pipeline.events[0] for pipeline in pair.pipelines]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(event=plain_events())
def test_a_plain_event_reaches_the_wire_as_its_instance_would(event: cs_sdk.Event) -> None:
    fields = dict(event.__dict__)
    pair, (fast, slow) = forms(event)
    try:
        finite = all(type(v) is not float or math.isfinite(v) for v in fields.values())
        for queued in (fast, slow):
            # The fast form for finite values; the instance for inf and nan (events/_plain.py).
            assert queued[4] is not event.__dict__
            assert (queued[4] is event) is not finite
        assert comparable(fast) == comparable(slow)
        # What the worker would have built from the instance, byte for byte (both OTLP
        # protobuf writers and JSON), and the same estimate on both paths.
        unpacked = plain(fast)  # the C path packs the fields (_record.py, the packed form)
        as_instance = (*unpacked[:4], event, *unpacked[5:])
        assert wire(fast) == wire(slow) == wire(as_instance)
        assert unpacked[-1] == slow[-1]
        assert pair.fast.stats()["debug"]["fallbacks"] == {}
        assert event.__dict__ == fields or not finite  # nan != nan; same objects either way
        assert all(a is b for a, b in zip(event.__dict__.values(), fields.values(), strict=True))
    finally:
        pair.close()
        registry.unregister(type(event))


class ReportShared(cs_sdk.Event, name="test.plain.report_shared", version="1.0.0"):
    plan: str
    pages: int
    score: float | None = None
    format: Literal["pdf", "csv"] = "pdf"


@pytest.mark.parametrize("speedups", [True, False], ids=["C path", "Python path"])
def test_the_users_instance_never_changes_when_the_pipeline_changes_the_body(
    speedups: bool,
) -> None:
    def rewrite(record: Any) -> Any:
        record.body["plan"] = "rewritten"
        record.body["added"] = 1
        return record

    event = ReportShared(plan="pro", pages=3, score=0.5)
    fields = event.__dict__
    client = cs_sdk.Client(environ={}, service_name="plain", speedups=speedups,
                           before_send=rewrite)  # fmt: skip
    try:
        with capture(client) as captured:
            assert client.track(event, user_id="u1")
            assert client.track(event, user_id="u2")
        stats = client.stats()
    finally:
        client.shutdown(timeout=1)
    assert [e.properties for e in captured] == [
        {"plan": "rewritten", "pages": 3, "score": 0.5, "format": "pdf", "added": 1}
    ] * 2
    assert event.__dict__ is fields
    assert fields == {"plan": "pro", "pages": 3, "score": 0.5, "format": "pdf"}
    assert event == ReportShared(plan="pro", pages=3, score=0.5)
    assert stats["debug"]["fallbacks"] == {}


def test_a_plain_event_arrives_at_the_collector_as_its_dump() -> None:
    events = [
        ReportShared(plan="pro", pages=3),
        ReportShared(plan="ünï 🙂", pages=2**62, score=-0.0, format="csv"),
        ReportShared(plan="inf", pages=1, score=math.inf),  # the instance form
    ]
    with LocalCollector() as collector:
        for speedups in (True, False):
            client = cs_sdk.Client(
                environ={}, service_name="plain", endpoint=collector.endpoint, speedups=speedups
            )
            ids = [client.track(event, user_id="u1") for event in events]
            assert client.flush(timeout=30) is True
            stats = client.stats()
            client.shutdown(timeout=10)
            assert stats["sent"] == len(events) and stats["dropped_total"] == 0
            assert stats["debug"]["fallbacks"] == {}
        records = list(collector.records)
    assert len(records) == 2 * len(events) and None not in ids
    for record, event in zip(records, events * 2, strict=True):
        assert record.name == "test.plain.report_shared"
        assert record.body == event.model_dump(mode="json")


class Color(enum.Enum):
    RED = "red"


class WithSerializer(cs_sdk.Event, name="test.plain.no.serializer", version="1.0.0"):
    plan: str

    @field_serializer("plan")
    def upper(self, plan: str) -> str:
        return plan.upper()


class WithModelSerializer(cs_sdk.Event, name="test.plain.no.model_serializer", version="1.0.0"):
    plan: str

    @model_serializer
    def dump(self) -> dict[str, Any]:
        return {"plan": self.plan, "kind": "custom"}


class WithAlias(cs_sdk.Event, name="test.plain.no.alias", version="1.0.0"):
    model_config = ConfigDict(serialize_by_alias=True)
    plan: str = Field(alias="planName")


class WithSerializationAlias(cs_sdk.Event, name="test.plain.no.ser_alias", version="1.0.0"):
    plan: str = Field(serialization_alias="planName")


class WithExcluded(cs_sdk.Event, name="test.plain.no.excluded", version="1.0.0"):
    plan: str
    secret: str = Field(default="s", exclude=True)


class WithEnum(cs_sdk.Event, name="test.plain.no.enum", version="1.0.0"):
    color: Color


class WithEnumLiteral(cs_sdk.Event, name="test.plain.no.enum_literal", version="1.0.0"):
    color: Literal[Color.RED]


class WithDatetime(cs_sdk.Event, name="test.plain.no.datetime", version="1.0.0"):
    at: dt.datetime


class WithList(cs_sdk.Event, name="test.plain.no.list", version="1.0.0"):
    tags: list[str]


class WithValidator(cs_sdk.Event, name="test.plain.no.validator", version="1.0.0"):
    plan: Annotated[str, AfterValidator(str.upper)]


class WithComputed(cs_sdk.Event, name="test.plain.no.computed", version="1.0.0"):
    plan: str

    @computed_field  # type: ignore[prop-decorator]
    @property
    def label(self) -> str:
        return f"plan {self.plan}"


class WithExtraAllowed(cs_sdk.Event, name="test.plain.no.extra", version="1.0.0"):
    model_config = ConfigDict(extra="allow")
    plan: str


class WithWireFields(cs_sdk.Event, name="test.plain.no.wire_fields", version="1.0.0"):
    plan: str

    def wire_fields(self) -> tuple[str, dict[str, Any] | None, dict[str, Any]]:
        name, body, attributes = super().wire_fields()
        return name, {**(body or {}), "via": "wire_fields"}, attributes


class InheritsWireFields(WithWireFields, name="test.plain.no.inherited", version="1.0.0"):
    pages: int


NOT_PLAIN = [
    WithSerializer(plan="pro"),
    WithModelSerializer(plan="pro"),
    WithAlias(planName="pro"),
    WithSerializationAlias(plan="pro"),
    WithExcluded(plan="pro"),
    WithEnum(color=Color.RED),
    WithEnumLiteral(color=Color.RED),
    WithDatetime(at=dt.datetime(2026, 1, 2, tzinfo=dt.timezone.utc)),
    WithList(tags=["a"]),
    WithValidator(plan="pro"),
    WithComputed(plan="pro"),
    WithExtraAllowed(plan="pro", note="extra"),
    WithWireFields(plan="pro"),
    InheritsWireFields(plan="pro", pages=2),
    cs_sdk.events.Milestone(name="report_created"),
]


@pytest.mark.parametrize("event", NOT_PLAIN, ids=lambda event: type(event).__name__)
def test_a_class_not_provably_plain_keeps_the_instance_form(event: cs_sdk.Event) -> None:
    assert type(event).__cs_plain_fields__ is None
    pair, (fast, slow) = forms(event)
    try:
        assert fast[4] is event and slow[4] is event
        assert comparable(fast) == comparable(slow)
        assert wire(fast) == wire(slow)
        assert pair.fast.stats()["debug"]["fallbacks"] == {}
    finally:
        pair.close()


def test_an_abstract_base_decides_apart_from_its_declared_subclasses() -> None:
    class Base(cs_sdk.Event):
        plan: str

    class Declared(Base, name="test.plain.declared", version="1.0.0"):
        pages: int

    try:
        assert Base.__cs_plain_fields__ == 1 and Declared.__cs_plain_fields__ == 2
        pair, (fast, slow) = forms(Declared(plan="pro", pages=1))
        pair.close()
        assert plain(fast)[4] == slow[4] == {"plan": "pro", "pages": 1}
    finally:
        registry.unregister(Declared)


def test_an_event_built_without_validation_keeps_the_instance_form() -> None:
    # model_construct skips validation: a missing field, or a value of another kind, is
    # left to the serializer, as before.
    missing = ReportShared.model_construct(plan="pro")
    odd = ReportShared.model_construct(plan="pro", pages=3, score=dt.date(2026, 1, 2))
    for event in (missing, odd):
        pair, (fast, slow) = forms(event)
        pair.close()
        assert fast[4] is event and slow[4] is event
