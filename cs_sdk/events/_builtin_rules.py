"""The built-in events' identities and rules, without pydantic.

``milestone()``, ``outcome()``, ``feedback()`` and ``respond()`` build their records directly
and check them against these rules; the pydantic models in ``_builtin.py`` state the same
events for ``track()``, JSON Schema export and validation, and check against the same rules.
Kept apart so that recording never imports pydantic (a test checks that the models'
``__cs_schema__`` equal the identities here).
"""

from __future__ import annotations

from typing import Any, Literal

from .. import _attributes as attr
from ._schema import SchemaRef

MILESTONE = SchemaRef("cs.milestone", "1.0.0")
OUTCOME = SchemaRef("cs.outcome", "1.0.0")
FEEDBACK = SchemaRef("cs.feedback", "1.0.0")
FEEDBACK_RESPONSE = SchemaRef("cs.feedback.response", "1.0.0")

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


def feedback_rule(kind: str, score: object, comment: object) -> tuple[str, str] | None:
    """``(field, rule)`` broken by this feedback, or ``None`` when it is valid."""
    if type(kind) is not str or kind not in FEEDBACK_SCORES:
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


FEEDBACK_ATTRIBUTES: dict[str, str] = {
    "kind": attr.FEEDBACK_KIND,
    "score": attr.FEEDBACK_SCORE,
    "comment": attr.FEEDBACK_COMMENT,
    "prompt_id": attr.PROMPT_ID,
    "area": attr.PRODUCT_AREA,
}


def feedback_attributes(
    kind: str, score: int | None, comment: str | None, prompt_id: str | None, area: str | None
) -> dict[str, Any]:
    """The first-class OTLP attributes of a feedback event (the fast path's copy of the table)."""
    attributes: dict[str, Any] = {attr.FEEDBACK_KIND: kind}
    if score is not None:
        attributes[attr.FEEDBACK_SCORE] = score
    if comment is not None:
        attributes[attr.FEEDBACK_COMMENT] = comment
    if prompt_id is not None:
        attributes[attr.PROMPT_ID] = prompt_id
    if area is not None:
        attributes[attr.PRODUCT_AREA] = area
    return attributes


ResponseStatus = Literal["planned", "done", "declined"]
RESPONSE_STATUSES: tuple[str, ...] = ("planned", "done", "declined")

RESPONSE_ATTRIBUTES: dict[str, str] = {
    "feedback_id": "cs.feedback.id",
    "team": "cs.response.team",
    "status": "cs.response.status",
    "message": "cs.response.message",
}


def response_rule(
    feedback_id: object, message: object, team: object, status: object
) -> tuple[str, str] | None:
    """``(field, rule)`` broken by an answer to feedback, or ``None`` when it is valid."""
    if type(feedback_id) is not str or not feedback_id or len(feedback_id) > 256:
        return "feedback_event_id", "must be the id feedback() returned (a non-empty string)"
    if type(message) is not str or not message.strip() or len(message) > 65536:
        return "message", "must be a non-empty string of at most 65536 characters"
    if type(team) is not str or not team or len(team) > 256:
        return "team", "must be a non-empty string of at most 256 characters"
    if type(status) is not str or status not in RESPONSE_STATUSES:
        return "status", f"must be one of {', '.join(RESPONSE_STATUSES)}"
    return None


def response_attributes(feedback_id: str, message: str, team: str, status: str) -> dict[str, Any]:
    """The OTLP attributes of a ``cs.feedback.response`` event (the client's copy)."""
    return {
        "cs.feedback.id": feedback_id,
        "cs.response.team": team,
        "cs.response.status": status,
        "cs.response.message": message,
    }
