"""The built-in events: schemas in the same registry as user events.

``milestone()``, ``outcome()`` and ``feedback()`` build their records directly for speed;
these models define the same events for ``track()``, JSON Schema export and validation, and
:func:`feedback_rule` (``_builtin_rules.py``, without pydantic) is the single statement of
the feedback score ranges both paths use.
"""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import ConfigDict, Field, model_validator

from .. import _attributes as attr
from ._base import Event, registry

# The identities and rules the recording calls check without pydantic, re-exported here
# next to the models that state them too.
from ._builtin_rules import (
    FEEDBACK,
    FEEDBACK_ATTRIBUTES,
    FEEDBACK_RESPONSE,
    FEEDBACK_SCORES,
    MILESTONE,
    OUTCOME,
    RESPONSE_ATTRIBUTES,
    RESPONSE_STATUSES,
    FeedbackKind,
    ResponseStatus,
    feedback_attributes,
    feedback_rule,
    response_attributes,
    response_rule,
)
from ._schema import SchemaRef

__all__ = [
    "FEEDBACK",
    "FEEDBACK_ATTRIBUTES",
    "FEEDBACK_RESPONSE",
    "FEEDBACK_SCORES",
    "MILESTONE",
    "OUTCOME",
    "RESPONSE_ATTRIBUTES",
    "RESPONSE_STATUSES",
    "BuiltinEvent",
    "Feedback",
    "FeedbackKind",
    "FeedbackResponse",
    "Milestone",
    "Outcome",
    "PilotEnrolled",
    "PilotExited",
    "PromptDismissed",
    "PromptShown",
    "ResponseStatus",
    "SchemaRef",
    "feedback_attributes",
    "feedback_rule",
    "response_attributes",
    "response_rule",
    "wire_document",
]

NameField = Field(min_length=1, max_length=256)
IdField = Field(default=None, min_length=1, max_length=256)


class BuiltinEvent(Event):
    """A built-in event: some fields travel as first-class OTLP attributes, not in the body.

    ``_name_field`` is sent as ``cs.event.name``, ``_body_field`` (a dict) as the body and
    ``_attributes`` maps fields to attribute names. :meth:`from_wire` inverts the mapping,
    so the collector can validate what arrived against the same schema.
    """

    _name_field: ClassVar[str | None] = None
    _body_field: ClassVar[str | None] = None
    _attributes: ClassVar[dict[str, str]] = {}

    def wire_fields(self) -> tuple[str, dict[str, Any] | None, dict[str, Any]]:
        name = getattr(self, self._name_field) if self._name_field else self.__cs_schema__.name
        body = dict(getattr(self, self._body_field)) if self._body_field else None
        attributes: dict[str, Any] = {}
        for field_name, attribute in self._attributes.items():
            value = getattr(self, field_name)
            if value is not None:
                attributes[attribute] = float(value) if field_name == "value" else value
        return name, body or None, attributes

    @classmethod
    def from_wire(cls, name: str, attributes: dict[str, Any], body: Any) -> dict[str, Any]:
        document: dict[str, Any] = {}
        if cls._name_field:
            document[cls._name_field] = name
        if cls._body_field:
            document[cls._body_field] = body if isinstance(body, dict) else {}
        for field_name, attribute in cls._attributes.items():
            if attribute in attributes:
                document[field_name] = attributes[attribute]
        return document


class Milestone(BuiltinEvent, name="cs.milestone", version="1.0.0"):
    """A step on a customer's path to value, e.g. ``first_report_created``."""

    _name_field = "name"
    _body_field = "properties"

    name: str = NameField
    properties: dict[str, Any] = Field(default_factory=dict)


class Outcome(BuiltinEvent, name="cs.outcome", version="1.0.0"):
    """A result that proves value: a renewal, an expansion, a report that saved a day."""

    _name_field = "name"
    _body_field = "properties"
    _attributes: ClassVar[dict[str, str]] = {"value": attr.OUTCOME_VALUE, "unit": attr.OUTCOME_UNIT}

    name: str = NameField
    value: float | None = Field(default=None, allow_inf_nan=False)
    unit: str | None = IdField
    properties: dict[str, Any] = Field(default_factory=dict)


def _score_rules_schema() -> dict[str, Any]:
    """The per-kind score rules as JSON Schema ``if``/``then``, so exports are as strict."""
    rules: list[dict[str, Any]] = []
    for kind, bounds in FEEDBACK_SCORES.items():
        when = {"properties": {"kind": {"const": kind}}, "required": ["kind"]}
        if bounds is None:
            then: dict[str, Any] = {
                "properties": {
                    "score": {"type": "null"},
                    "comment": {"type": "string", "pattern": r"\S"},
                },
                "required": ["comment"],
            }
        else:
            low, high = bounds
            then = {
                "properties": {"score": {"type": "integer", "minimum": low, "maximum": high}},
                "required": ["score"],
            }
        rules.append({"if": when, "then": then})
    return {"allOf": rules}


class Feedback(BuiltinEvent, name="cs.feedback", version="1.0.0"):
    """What a customer says: a score (NPS, CSAT, CES, rating, thumbs) and/or a comment."""

    model_config = ConfigDict(json_schema_extra=_score_rules_schema())
    _name_field = "kind"
    _body_field = "properties"
    _attributes: ClassVar[dict[str, str]] = FEEDBACK_ATTRIBUTES

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


class PilotEnrolled(BuiltinEvent, name="cs.pilot.enrolled", version="1.0.0"):
    """A participant joined a pilot (and optionally a cohort of it)."""

    _name_field = "pilot_id"
    _attributes: ClassVar[dict[str, str]] = {"pilot_id": attr.PILOT_ID, "cohort": attr.PILOT_COHORT}

    pilot_id: str = NameField
    cohort: str | None = IdField


class PilotExited(BuiltinEvent, name="cs.pilot.exited", version="1.0.0"):
    """A participant left a pilot."""

    _name_field = "pilot_id"
    _attributes: ClassVar[dict[str, str]] = {
        "pilot_id": attr.PILOT_ID,
        "cohort": attr.PILOT_COHORT,
        "reason": attr.PILOT_EXIT_REASON,
    }

    pilot_id: str = NameField
    cohort: str | None = IdField
    reason: str | None = Field(default=None, max_length=1024)


class PromptShown(BuiltinEvent, name="cs.prompt.shown", version="1.0.0"):
    """A feedback prompt was shown to a user."""

    _name_field = "prompt_id"
    _attributes: ClassVar[dict[str, str]] = {
        "prompt_id": attr.PROMPT_ID,
        "kind": attr.FEEDBACK_KIND,
    }

    prompt_id: str = NameField
    kind: FeedbackKind | None = None


class PromptDismissed(BuiltinEvent, name="cs.prompt.dismissed", version="1.0.0"):
    """A user closed a feedback prompt without answering."""

    _name_field = "prompt_id"
    _attributes: ClassVar[dict[str, str]] = {"prompt_id": attr.PROMPT_ID}

    prompt_id: str = NameField


class FeedbackResponse(BuiltinEvent, name="cs.feedback.response", version="1.0.0"):
    """A team's answer to one piece of feedback (``cs_sdk.respond``), for the customer to see.

    Its user is the customer who gave the feedback, not the team member who answers.
    """

    _name_field = "status"
    _attributes: ClassVar[dict[str, str]] = RESPONSE_ATTRIBUTES

    feedback_id: str = NameField
    status: ResponseStatus
    team: str = NameField
    # The pattern puts "not only whitespace" (response_rule) into the exported JSON Schema.
    message: str = Field(min_length=1, max_length=65536, pattern=r"\S")

    @model_validator(mode="after")
    def _valid_answer(self) -> FeedbackResponse:
        broken = response_rule(self.feedback_id, self.message, self.team, self.status)
        if broken is not None:
            raise ValueError(f"{broken[0]} {broken[1]}")
        return self


def wire_document(event_name: str, version: str, attributes: dict[str, Any], body: Any) -> Any:
    """The document an arrived event stands for, to validate against its JSON Schema."""
    cls = registry.get(event_name, version)
    if cls is not None and issubclass(cls, BuiltinEvent):
        name = attributes.get(attr.EVENT_NAME, "")
        return cls.from_wire(str(name), attributes, body)
    return body if body is not None else {}


# The recording calls use the identities of _builtin_rules.py; the models must state the same.
for _model, _ref in (
    (Milestone, MILESTONE),
    (Outcome, OUTCOME),
    (Feedback, FEEDBACK),
    (FeedbackResponse, FEEDBACK_RESPONSE),
):
    if _model.__cs_schema__ != _ref:  # pragma: no cover - a mistake in this file
        raise AssertionError(f"{_model.__name__} is {_model.__cs_schema__}, recorded as {_ref}")
