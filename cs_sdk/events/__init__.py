"""Event schemas: the ``Event`` base class, the registry, the built-in events, and the tools
that work on exports of them.

    from cs_sdk.events import SchemaValidator, export_modules

    export_modules(["acme_events"], "schemas")  # cs-sdk schemas export acme_events --out schemas
    validator = SchemaValidator("schemas")  # what cs-sdk collector --schemas schemas uses
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any, cast

from .._lazy import load_lazily
from ._builtin_rules import FEEDBACK_SCORES, FeedbackKind
from ._schema import EVENT_MODULE, EventRegistry, SchemaRef
from ._schema import registry as _registry

if TYPE_CHECKING:
    from typing_extensions import TypeIs

    from ._base import Event
    from ._builtin import (
        Feedback,
        FeedbackResponse,
        Milestone,
        Outcome,
        PilotEnrolled,
        PilotExited,
        PromptDismissed,
        PromptShown,
    )
    from ._jsonschema import export_modules
    from ._validator import EventTally, SchemaValidator

__all__ = [
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

registry = cast("EventRegistry[Event]", _registry)
"""The process-wide registry every :class:`Event` subclass joins when it is declared."""

# The pydantic models and the tools built on them load on first use (PEP 562): pydantic
# costs ~50 ms, and recording never needs it (``import cs_sdk`` stays fast; a test checks).
_LAZY = {
    "Event": "._base",
    "Feedback": "._builtin",
    "FeedbackResponse": "._builtin",
    "Milestone": "._builtin",
    "Outcome": "._builtin",
    "PilotEnrolled": "._builtin",
    "PilotExited": "._builtin",
    "PromptDismissed": "._builtin",
    "PromptShown": "._builtin",
    "export_modules": "._jsonschema",
    "EventTally": "._validator",
    "SchemaValidator": "._validator",
}


def __getattr__(name: str) -> Any:
    return load_lazily(__name__, _LAZY, globals(), name)


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


def _load_builtins() -> None:
    from . import _builtin  # noqa: F401  (declaring the models registers them)


# Whoever reads the registry sees the built-in events, loaded then if nothing loaded them.
registry.load_on_first_read(_load_builtins)

_event_class: list[type] = []


def is_event(value: object) -> TypeIs[Event]:
    """``isinstance(value, cs_sdk.Event)`` without importing pydantic to answer "no".

    An instance can exist only once the module that defines ``Event`` ran, so while it is
    not in ``sys.modules`` nothing is an event; once it is, its class is kept here.
    """
    if not _event_class:
        event = getattr(sys.modules.get(EVENT_MODULE), "Event", None)
        if event is None:
            return False
        _event_class.append(event)
    return isinstance(value, _event_class[0])
