"""Event schemas: the ``Event`` base class, the registry, and the built-in events."""

from ._base import Event, EventRegistry, SchemaRef, registry
from ._builtin import (
    FEEDBACK_SCORES,
    Feedback,
    FeedbackKind,
    Milestone,
    Outcome,
    PilotEnrolled,
    PilotExited,
    PromptDismissed,
    PromptShown,
)

__all__ = [
    "FEEDBACK_SCORES",
    "Event",
    "EventRegistry",
    "Feedback",
    "FeedbackKind",
    "Milestone",
    "Outcome",
    "PilotEnrolled",
    "PilotExited",
    "PromptDismissed",
    "PromptShown",
    "SchemaRef",
    "registry",
]
