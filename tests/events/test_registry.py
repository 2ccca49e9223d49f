"""The event schema registry: declaration rules, conflicts, several versions of one name."""

from __future__ import annotations

import textwrap
from typing import Any

import pytest

import cs_sdk
from cs_sdk import SchemaConflictError, SchemaError
from cs_sdk.events import Feedback, Milestone, registry


def test_builtin_events_are_in_the_registry() -> None:
    names = {cls.__cs_schema__.name for cls in registry}
    assert {
        "cs.milestone",
        "cs.outcome",
        "cs.feedback",
        "cs.pilot.enrolled",
        "cs.pilot.exited",
        "cs.prompt.shown",
        "cs.prompt.dismissed",
        "cs.feedback.response",
    } <= names
    assert registry.get("cs.milestone") is Milestone
    assert registry.get("cs.feedback", "1.0.0") is Feedback


def test_several_versions_of_one_name_coexist() -> None:
    class InvoiceV1(cs_sdk.Event, name="test.invoice", version="1.0.0"):
        amount: int

    class InvoiceV2(cs_sdk.Event, name="test.invoice", version="2.0.0"):
        amount: int
        currency: str

    try:
        assert registry.versions("test.invoice") == ["1.0.0", "2.0.0"]
        assert registry.get("test.invoice") is InvoiceV2  # the highest version
        assert registry.get("test.invoice", "1.0.0") is InvoiceV1
    finally:
        registry.unregister(InvoiceV1)
        registry.unregister(InvoiceV2)


def test_two_classes_claiming_one_name_and_version_is_an_error_naming_both() -> None:
    class First(cs_sdk.Event, name="test.clash", version="1.0.0"):
        a: int

    try:
        with pytest.raises(SchemaConflictError) as error:

            class Second(cs_sdk.Event, name="test.clash", version="1.0.0"):
                b: int

        message = str(error.value)
        assert "First" in message and "Second" in message
        assert "test_registry.py" in message  # both locations, with file and line
    finally:
        registry.unregister(First)


@pytest.mark.parametrize(
    ("name", "version", "message"),
    [
        ("Report Exported", "1.0.0", "lower-case"),
        ("report.exported", "1.0", "semantic version"),
        ("report.exported", "v1.0.0", "semantic version"),
        ("cs.mine", "1.0.0", "reserved"),
    ],
)
def test_bad_names_and_versions_are_rejected(name: str, version: str, message: str) -> None:
    with pytest.raises(SchemaError, match=message):

        class Bad(cs_sdk.Event, name=name, version=version):
            x: int


def test_an_undeclared_base_class_is_not_registered() -> None:
    before = len(registry)

    class Base(cs_sdk.Event):
        account: str

    assert len(registry) == before
    assert not Base.is_declared()


def test_events_are_frozen_and_reject_unknown_fields() -> None:
    class Frozen(cs_sdk.Event, name="test.frozen", version="1.0.0"):
        x: int

    try:
        event = Frozen(x=1)
        with pytest.raises(Exception, match="frozen"):
            event.x = 2  # type: ignore[misc]
        with pytest.raises(Exception, match="Extra inputs"):
            Frozen(x=1, y=2)  # type: ignore[call-arg]
    finally:
        registry.unregister(Frozen)


def test_a_class_declared_again_at_module_level_replaces_the_first() -> None:
    """A module reload or a notebook cell run again: same module, same qualified name."""
    source = textwrap.dedent(
        """
        import cs_sdk

        class Clicked(cs_sdk.Event, name="test.clicked", version="1.0.0"):
            x: int
        """
    )
    first: dict[str, Any] = {"__name__": "notebook_cell"}
    again: dict[str, Any] = {"__name__": "notebook_cell"}
    exec(source, first)
    try:
        exec(source, again)  # no error
        assert again["Clicked"] is not first["Clicked"]
        assert registry.get("test.clicked", "1.0.0") is again["Clicked"]
    finally:
        registry.unregister(again["Clicked"])
    assert registry.get("test.clicked") is None


def declare_in_a_function() -> type[cs_sdk.Event]:
    class Scoped(cs_sdk.Event, name="test.scoped", version="1.0.0"):
        x: int

    return Scoped


def test_a_second_class_from_a_function_scope_is_a_conflict() -> None:
    first = declare_in_a_function()
    try:
        with pytest.raises(SchemaConflictError, match="declared in a function") as error:
            declare_in_a_function()
        assert str(error.value).count("declare_in_a_function.<locals>.Scoped") == 2
        assert registry.get("test.scoped", "1.0.0") is first  # the first one stays
    finally:
        registry.unregister(first)
    again = declare_in_a_function()  # fine once the first is unregistered
    registry.unregister(again)


def test_registering_the_same_class_twice_is_harmless() -> None:
    registry.register(Feedback)
    assert registry.get("cs.feedback", "1.0.0") is Feedback


def test_the_events_package_surface_is_pinned() -> None:
    import cs_sdk.events

    assert cs_sdk.events.__all__ == [
        "FEEDBACK_SCORES",
        "Event",
        "EventRegistry",
        "EventTally",
        "Feedback",
        "FeedbackKind",
        "FeedbackResponse",
        "Milestone",
        "Outcome",
        "PilotEnrolled",
        "PilotExited",
        "PromptDismissed",
        "PromptShown",
        "SchemaRef",
        "SchemaValidator",
        "export_modules",
        "registry",
    ]
    assert all(hasattr(cs_sdk.events, name) for name in cs_sdk.events.__all__)
