"""Event schemas: the ``Event`` base class, the registry, the built-in events, and the tools
that work on exports of them.

    from cs_sdk.events import SchemaValidator, export_modules

    export_modules(["acme_events"], "schemas")  # cs-sdk schemas export acme_events --out schemas
    validator = SchemaValidator("schemas")  # what cs-sdk collector --schemas schemas uses
"""

from ._base import Event, EventRegistry, SchemaRef, registry
from ._builtin import (
    FEEDBACK_SCORES,
    Feedback,
    FeedbackKind,
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
