"""``Responses``: the teams' answers to feedback, kept per user for the product to show.

    event_id = cs_sdk.feedback("nps", score=3, comment="Export is slow", user_id="u1")
    cs_sdk.respond(event_id, message="Export is 3x faster in 2.3", team="reports-team",
                   status="done")
    cs_sdk.responses.for_user("u1")   # [Answer(message='Export is 3x faster in 2.3', ...)]

``respond()`` (on the client) records a ``cs.feedback.response`` event; everything else here
runs on the SDK's worker as two processor steps, so the caller's thread never waits for the
state store and an answer recorded right after its feedback still finds it (the worker
handles events in the order they were recorded):

- ``responses`` (first of all steps): an answer is for the customer who gave the feedback.
  Its user is read from the state store by the feedback's id, so the event carries that
  customer's id, account and pilot tags, and is dropped if that customer opted out.
- ``feedback_memory`` (last, after redaction and ``before_send``): remembers who gave each
  feedback event and the gist of it, and keeps each answer under its customer. Being last,
  it stores only what left redaction, and nothing ``before_send`` dropped.

Both steps always return the record: a store outage loses the answer for
``for_user`` (logged once), never the event.
"""

from __future__ import annotations

from typing import Any, Final, get_args

from ._errors import InvalidEventError
from ._log import logger, warn_once
from ._prompts._args import as_id, valid_ids
from ._record import EventRecord
from .events import is_event
from .state import (
    Answer,
    FeedbackSummary,
    MemoryStore,
    StateStore,
)
from .state._answers import SUMMARY_COMMENT_LENGTH, AnswerStatus

__all__ = ["Responses"]

_FEEDBACK: Final = "cs.feedback"
_RESPONSE: Final = "cs.feedback.response"
_DEFAULT_LIMIT: Final = 20
_STATUSES: Final[dict[str, AnswerStatus]] = {status: status for status in get_args(AnswerStatus)}


def _text(attributes: dict[str, Any], key: str) -> str | None:
    value = attributes.get(key)
    return value if isinstance(value, str) else None


class Responses:
    """Answers to feedback of one client (``client.responses``; ``cs_sdk.responses``).

    Args:
        store: where feedback gists and answers live (the client's state store).
        strict: raise :class:`~cs_sdk.InvalidEventError` on an invalid user id.
    """

    def __init__(self, store: StateStore, *, strict: bool = False, enabled: bool = True) -> None:
        self._store = store
        self._strict = strict
        self._enabled = enabled

    @classmethod
    def noop(cls) -> Responses:
        """Answers that are neither kept nor read (before ``init()``, disabled)."""
        return cls(MemoryStore(), enabled=False)

    def __repr__(self) -> str:
        return f"<cs_sdk Responses in {self._store!r}>"

    def for_user(self, user_id: str, *, limit: int = _DEFAULT_LIMIT) -> list[Answer]:
        """The answers to ``user_id``'s feedback, newest first (at most ``limit``).

        Each :class:`~cs_sdk.Answer` carries the team's message, team, status and time, and
        what is known of the feedback it answers (``answer.feedback``: kind, score, the
        redacted comment, area). Read from the state store, so with SQLite or Redis an
        answer given from an admin process shows in every web worker. Never raises: an
        invalid id or a store outage is logged once and gives ``[]``.

        >>> for answer in cs_sdk.responses.for_user("u1"):  # doctest: +SKIP
        ...     print(answer.team, answer.status, answer.message)
        reports-team done Export is 3x faster in 2.3
        """
        user_id = as_id(user_id)
        if not self._enabled or not valid_ids("responses.for_user", self._strict, user_id=user_id):
            return []
        if type(limit) is not int or limit < 0:
            error = InvalidEventError("limit", "must be an int of at least 0")
            if self._strict:
                raise error
            warn_once("responses.for_user:limit", "cs_sdk: responses.for_user(): %s", error)
            limit = _DEFAULT_LIMIT
        try:
            return list(self._store.answers(user_id, limit))
        except Exception:
            warn_once("responses:store:read", "cs_sdk: the state store failed; answers unknown")
            logger.debug("for_user failed", exc_info=True)
            return []

    # -- worker steps ----------------------------------------------------------------------

    def resolve(self, record: EventRecord) -> EventRecord:
        """The ``responses`` step: an answer without ``user_id=`` goes to the feedback's user."""
        if record.schema.name != _RESPONSE or record.user_id is not None:
            return record
        if is_event(record.body):
            # track(FeedbackResponse(...)): this step runs before the "typed" one (so that
            # the opt-out step sees the customer), and resolving is idempotent.
            record.resolve_typed_body()
        feedback_id = _text(record.attributes or {}, "cs.feedback.id")
        try:
            summary = None if feedback_id is None else self._store.feedback_summary(feedback_id)
        except Exception:
            warn_once("responses:store", "cs_sdk: the state store failed; an answer has no user")
            logger.debug("looking up answered feedback failed", exc_info=True)
            return record
        if summary is None:
            warn_once(
                "responses:unknown",
                "cs_sdk: respond(): feedback %s is unknown to this state store (recorded by "
                "another process with state='memory', elsewhere, or over a year ago); the "
                "answer is recorded but not kept for the customer: pass user_id=",
                feedback_id,
            )
            return record
        record.user_id = summary.user_id
        if record.account_id is None:
            record.account_id = summary.account_id
        return record

    def remember(self, record: EventRecord) -> EventRecord:
        """The ``feedback_memory`` step: who gave each feedback, and the answers per user."""
        user_id = record.user_id
        if user_id is None:
            return record
        schema = record.schema.name
        if schema != _FEEDBACK and schema != _RESPONSE:
            return record
        try:
            if schema == _FEEDBACK:
                self._store.remember_feedback(_summary(record, user_id))
            else:
                self._keep_answer(record, user_id)
        except Exception:
            warn_once(
                "responses:store:write",
                "cs_sdk: the state store failed; feedback or an answer was not remembered",
            )
            logger.debug("feedback_memory step failed", exc_info=True)
        return record

    def _keep_answer(self, record: EventRecord, user_id: str) -> None:
        attributes = record.attributes or {}
        feedback_id = _text(attributes, "cs.feedback.id")
        message = _text(attributes, "cs.response.message")
        team = _text(attributes, "cs.response.team")
        status = _STATUSES.get(_text(attributes, "cs.response.status") or "")
        if feedback_id is None or message is None or team is None or status is None:
            return  # a before_send hook took a field out: nothing whole to show
        self._store.add_answer(
            user_id,
            Answer(
                response_id=record.event_id,
                feedback_id=feedback_id,
                message=message,
                team=team,
                status=status,
                answered_ts=record.time_unix_nano / 1e9,
                feedback=self._store.feedback_summary(feedback_id),
            ),
        )


def _summary(record: EventRecord, user_id: str) -> FeedbackSummary:
    attributes = record.attributes or {}
    score = attributes.get("cs.feedback.score")
    comment = _text(attributes, "cs.feedback.comment")
    return FeedbackSummary(
        feedback_id=record.event_id,
        user_id=user_id,
        account_id=record.account_id,
        kind=_text(attributes, "cs.feedback.kind") or record.name,
        score=score if type(score) is int else None,
        comment=None if comment is None else comment[:SUMMARY_COMMENT_LENGTH],
        area=_text(attributes, "cs.product.area"),
        prompt_id=_text(attributes, "cs.prompt.id"),
        recorded_ts=record.time_unix_nano / 1e9,
    )
