"""Answers to feedback, and what the SDK remembers of the feedback they answer.

A team answers a piece of feedback with ``cs_sdk.respond(...)``; the product shows the
answers to the customer with ``cs_sdk.responses.for_user(user_id)``, newest first::

    for answer in cs_sdk.responses.for_user("u1"):
        said = answer.feedback.comment if answer.feedback else None
        print(f"You told us {said!r}. {answer.team}: {answer.message} ({answer.status})")

Both values are written by the SDK's worker after redaction, so no store ever holds text
the redactor would have masked. The stores serialise them with :func:`to_json` /
:func:`answer_from_json` (SQLite and Redis) so the three backends keep the same fields.
"""

from __future__ import annotations

import datetime as _dt
import json
from dataclasses import dataclass
from typing import Any, Final, Literal

__all__ = [
    "ANSWERS_PER_USER",
    "FEEDBACK_RETENTION",
    "SUMMARY_COMMENT_LENGTH",
    "Answer",
    "AnswerStatus",
    "FeedbackSummary",
    "answer_from_json",
    "answer_order",
    "summary_from_json",
    "to_json",
]

AnswerStatus = Literal["planned", "done", "declined"]

# How long the SDK remembers a feedback event's user, so respond() can find them. A team
# answers within weeks; a year covers a slow roadmap without keeping every comment forever.
FEEDBACK_RETENTION: Final = 365 * 86_400.0
# Answers kept per user (the newest): a product shows a handful, never a hundred.
ANSWERS_PER_USER: Final = 100
# The comment is remembered as a gist to show next to the answer, not as the whole text.
SUMMARY_COMMENT_LENGTH: Final = 500

_UTC = _dt.timezone.utc


def _at(seconds: float) -> _dt.datetime:
    return _dt.datetime.fromtimestamp(seconds, _UTC)


@dataclass(frozen=True, slots=True)
class FeedbackSummary:
    """What is known of one recorded feedback event: who gave it and the gist of it.

    >>> summary = FeedbackSummary("9f2c...", "u1", "acme", "nps", 4, "Export is slow",
    ...                           "exports", None, 1736121600.0)
    >>> summary.recorded_at.isoformat()
    '2025-01-06T00:00:00+00:00'
    """

    feedback_id: str
    user_id: str
    account_id: str | None
    kind: str
    score: int | None
    comment: str | None
    """The redacted comment, cut to its first 500 characters."""
    area: str | None
    prompt_id: str | None
    recorded_ts: float
    """When the feedback was recorded, in seconds since the epoch."""

    @property
    def recorded_at(self) -> _dt.datetime:
        """When the feedback was recorded (UTC)."""
        return _at(self.recorded_ts)


@dataclass(frozen=True, slots=True)
class Answer:
    """A team's answer to a customer's feedback (``cs_sdk.responses.for_user``).

    Attributes:
        response_id: the id of the ``cs.feedback.response`` event ``respond()`` returned.
        feedback_id: the answered feedback's event id.
        message: what the team says to the customer (redacted like feedback comments).
        team: the team that answered.
        status: ``"planned"``, ``"done"`` or ``"declined"``.
        answered_ts: when the answer was recorded, in seconds since the epoch.
        feedback: what is known of the answered feedback, or ``None`` when it was recorded
            where this state store could not see it (``respond(..., user_id=...)``).
    """

    response_id: str
    feedback_id: str
    message: str
    team: str
    status: AnswerStatus
    answered_ts: float
    feedback: FeedbackSummary | None = None

    @property
    def answered_at(self) -> _dt.datetime:
        """When the answer was recorded (UTC)."""
        return _at(self.answered_ts)


def answer_order(answer: Answer) -> tuple[float, str]:
    """The sort key of answers (``reverse=True`` for newest first); the response id breaks
    ties, so every store lists answers recorded in the same instant alike (SQLite's
    ``ORDER BY answered_at DESC, response_id DESC``)."""
    return answer.answered_ts, answer.response_id


def _summary_document(summary: FeedbackSummary) -> dict[str, Any]:
    return {
        "feedback_id": summary.feedback_id,
        "user_id": summary.user_id,
        "account_id": summary.account_id,
        "kind": summary.kind,
        "score": summary.score,
        "comment": summary.comment,
        "area": summary.area,
        "prompt_id": summary.prompt_id,
        "recorded_ts": summary.recorded_ts,
    }


def to_json(value: FeedbackSummary | Answer) -> str:
    """``value`` as the JSON text the SQLite and Redis stores keep."""
    if isinstance(value, FeedbackSummary):
        return json.dumps(_summary_document(value), ensure_ascii=False)
    document: dict[str, Any] = {
        "response_id": value.response_id,
        "feedback_id": value.feedback_id,
        "message": value.message,
        "team": value.team,
        "status": value.status,
        "answered_ts": value.answered_ts,
        "feedback": None if value.feedback is None else _summary_document(value.feedback),
    }
    return json.dumps(document, ensure_ascii=False)


def _summary(document: dict[str, Any]) -> FeedbackSummary:
    return FeedbackSummary(
        feedback_id=str(document["feedback_id"]),
        user_id=str(document["user_id"]),
        account_id=document.get("account_id"),
        kind=str(document["kind"]),
        score=document.get("score"),
        comment=document.get("comment"),
        area=document.get("area"),
        prompt_id=document.get("prompt_id"),
        recorded_ts=float(document["recorded_ts"]),
    )


def summary_from_json(text: str) -> FeedbackSummary:
    """The inverse of :func:`to_json` for a summary."""
    return _summary(json.loads(text))


def answer_from_json(text: str) -> Answer:
    """The inverse of :func:`to_json` for an answer."""
    document = json.loads(text)
    feedback = document.get("feedback")
    return Answer(
        response_id=str(document["response_id"]),
        feedback_id=str(document["feedback_id"]),
        message=str(document["message"]),
        team=str(document["team"]),
        status=document["status"],
        answered_ts=float(document["answered_ts"]),
        feedback=None if feedback is None else _summary(feedback),
    )
