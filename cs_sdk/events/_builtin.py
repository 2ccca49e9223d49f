"""The built-in events: schemas in the same registry as user events.

``milestone()``, ``outcome()`` and ``feedback()`` build their records directly for speed;
these models define the same events for ``track()``, JSON Schema export and validation, and
:func:`feedback_rule` is the single statement of the feedback score ranges both paths use.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, model_validator

from ._base import Event, SchemaRef

FeedbackKind = Literal["nps", "csat", "ces", "rating", "thumbs", "text"]

# kind -> inclusive score range, or None for comment-only feedback.
FEEDBACK_SCORES: dict[str, tuple[int, int] | None] = {
    "nps": (0, 10),
    "csat": (1, 5),
    "ces": (1, 7),
    "rating": (1, 5),
    "thumbs": (0, 1),
    "text": None,
}

NameField = Field(min_length=1, max_length=256)
IdField = Field(default=None, min_length=1, max_length=256)


def feedback_rule(kind: str, score: object, comment: object) -> tuple[str, str] | None:
    """``(field, rule)`` broken by this feedback, or ``None`` when it is valid."""
    if kind not in FEEDBACK_SCORES:
        return "kind", f"must be one of {', '.join(FEEDBACK_SCORES)}"
    bounds = FEEDBACK_SCORES[kind]
    if bounds is None:
        if score is not None:
            return "score", "must be omitted for 'text' feedback"
        if not isinstance(comment, str) or not comment.strip():
            return "comment", "is required for 'text' feedback"
        return None
    low, high = bounds
    if type(score) is not int or not low <= score <= high:
        return "score", f"must be an integer from {low} to {high} for {kind!r} feedback"
    return None


class Milestone(Event, name="cs.milestone", version="1.0.0"):
    """A step on a customer's path to value, e.g. ``first_report_created``."""

    name: str = NameField
    properties: dict[str, Any] = Field(default_factory=dict)

    def wire_fields(self) -> tuple[str, dict[str, Any] | None, dict[str, Any]]:
        return self.name, dict(self.properties) or None, {}


class Outcome(Event, name="cs.outcome", version="1.0.0"):
    """A result that proves value: a renewal, an expansion, a report that saved a day."""

    name: str = NameField
    value: float | None = Field(default=None, allow_inf_nan=False)
    unit: str | None = IdField
    properties: dict[str, Any] = Field(default_factory=dict)

    def wire_fields(self) -> tuple[str, dict[str, Any] | None, dict[str, Any]]:
        attributes: dict[str, Any] = {}
        if self.value is not None:
            attributes["cs.outcome.value"] = float(self.value)
        if self.unit is not None:
            attributes["cs.outcome.unit"] = self.unit
        return self.name, dict(self.properties) or None, attributes


class Feedback(Event, name="cs.feedback", version="1.0.0"):
    """What a customer says: a score (NPS, CSAT, CES, rating, thumbs) and/or a comment."""

    kind: FeedbackKind
    score: int | None = None
    comment: str | None = Field(default=None, max_length=65536)
    prompt_id: str | None = IdField
    area: str | None = IdField
    properties: dict[str, Any] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _score_in_range(self) -> Feedback:
        broken = feedback_rule(self.kind, self.score, self.comment)
        if broken is not None:
            raise ValueError(f"{broken[0]} {broken[1]}")
        return self

    def wire_fields(self) -> tuple[str, dict[str, Any] | None, dict[str, Any]]:
        return (
            self.kind,
            dict(self.properties) or None,
            feedback_attributes(self.kind, self.score, self.comment, self.prompt_id, self.area),
        )


def feedback_attributes(
    kind: str, score: int | None, comment: str | None, prompt_id: str | None, area: str | None
) -> dict[str, Any]:
    """The first-class OTLP attributes of a feedback event."""
    attributes: dict[str, Any] = {"cs.feedback.kind": kind}
    if score is not None:
        attributes["cs.feedback.score"] = score
    if comment is not None:
        attributes["cs.feedback.comment"] = comment
    if prompt_id is not None:
        attributes["cs.prompt.id"] = prompt_id
    if area is not None:
        attributes["cs.product.area"] = area
    return attributes


class PilotEnrolled(Event, name="cs.pilot.enrolled", version="1.0.0"):
    """A participant joined a pilot (and optionally a cohort of it)."""

    pilot_id: str = NameField
    cohort: str | None = IdField

    def wire_fields(self) -> tuple[str, dict[str, Any] | None, dict[str, Any]]:
        attributes: dict[str, Any] = {"cs.pilot.id": self.pilot_id}
        if self.cohort is not None:
            attributes["cs.pilot.cohort"] = self.cohort
        return self.pilot_id, None, attributes


class PilotExited(Event, name="cs.pilot.exited", version="1.0.0"):
    """A participant left a pilot."""

    pilot_id: str = NameField
    cohort: str | None = IdField
    reason: str | None = Field(default=None, max_length=1024)

    def wire_fields(self) -> tuple[str, dict[str, Any] | None, dict[str, Any]]:
        attributes: dict[str, Any] = {"cs.pilot.id": self.pilot_id}
        if self.cohort is not None:
            attributes["cs.pilot.cohort"] = self.cohort
        if self.reason is not None:
            attributes["cs.pilot.exit_reason"] = self.reason
        return self.pilot_id, None, attributes


class PromptShown(Event, name="cs.prompt.shown", version="1.0.0"):
    """A feedback prompt was shown to a user."""

    prompt_id: str = NameField
    kind: FeedbackKind | None = None

    def wire_fields(self) -> tuple[str, dict[str, Any] | None, dict[str, Any]]:
        attributes: dict[str, Any] = {"cs.prompt.id": self.prompt_id}
        if self.kind is not None:
            attributes["cs.feedback.kind"] = self.kind
        return self.prompt_id, None, attributes


class PromptDismissed(Event, name="cs.prompt.dismissed", version="1.0.0"):
    """A user closed a feedback prompt without answering."""

    prompt_id: str = NameField

    def wire_fields(self) -> tuple[str, dict[str, Any] | None, dict[str, Any]]:
        return self.prompt_id, None, {"cs.prompt.id": self.prompt_id}


MILESTONE: SchemaRef = Milestone.__cs_schema__
OUTCOME: SchemaRef = Outcome.__cs_schema__
FEEDBACK: SchemaRef = Feedback.__cs_schema__
