"""The client's recording calls besides ``milestone()``: ``outcome``, ``feedback``, ``track``
and ``respond``, and the checks and reports they share. ``milestone()`` (the hot path, also in
C) and ``_emit`` stay on :class:`cs_sdk.Client` itself, where the C accelerator finds them.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, Literal

from ._attributes import OUTCOME_UNIT, OUTCOME_VALUE
from ._config import Config
from ._context import NO_IDENTITY
from ._context import _current as _identity_var
from ._errors import InvalidEventError
from ._feedback_text import truncated
from ._log import logger, warn_once
from ._names import check_name
from ._names import known as _known_names
from ._prompts import Prompts
from ._record import EventRecord
from ._stats import Stats
from ._validate import (
    MAX_STRING_LENGTH,
    STR_BYTES,
    TYPED_EVENT_BYTES,
    check_id,
    check_number,
    check_properties_sized,
    check_text,
    estimated_bytes,
    str_bytes,
)
from ._values import Unconvertible
from .events import is_event
from .events._builtin_rules import (
    FEEDBACK,
    FEEDBACK_RESPONSE,
    OUTCOME,
    feedback_attributes,
    feedback_rule,
    response_attributes,
    response_rule,
)
from .events._plain import wire_body
from .events._schema import SchemaRef

if TYPE_CHECKING:
    from .events._base import Event

__all__ = ["RecordingCalls"]


class RecordingCalls:
    """Mixed into :class:`cs_sdk.Client`: its recording calls other than ``milestone()``."""

    config: Config
    prompts: Prompts
    _disabled: bool
    _strict: bool
    _stats: Stats
    _unreported: list[int]
    _drop_property: Callable[[Unconvertible], None] | None

    if TYPE_CHECKING:  # defined on the client, next to milestone() (the C path calls them)

        def _emit(
            self,
            schema: SchemaRef,
            name: str,
            body: Any,
            attributes: dict[str, Any] | None,
            user_id: str | None,
            account_id: str | None,
            session_id: str | None,
            timestamp: object,
            size: int,
        ) -> str | None: ...

        def _internal_error(self, committed: bool = False) -> None: ...

    def outcome(
        self,
        name: str,
        *,
        value: float | None = None,
        unit: str | None = None,
        user_id: str | None = None,
        account_id: str | None = None,
        session_id: str | None = None,
        properties: Mapping[str, Any] | None = None,
        timestamp: _dt.datetime | float | None = None,
    ) -> str | None:
        """Record a result that proves value (renewal, expansion...). Returns the event id."""
        if self._disabled:
            return None
        try:
            if type(name) is not str or name not in _known_names:
                check_name("name", name)  # the name rule (_names.py): raises if broken
            attributes: dict[str, Any] = {}
            if value is not None:
                attributes[OUTCOME_VALUE] = check_number("value", value)
            if unit is not None:
                attributes[OUTCOME_UNIT] = check_id("unit", unit)
            body, size = (
                (None, 0)
                if properties is None
                else check_properties_sized(properties, "properties", self._drop_property)
            )
            return self._emit(
                OUTCOME,
                name,
                body,
                attributes or None,
                user_id,
                account_id,
                session_id,
                timestamp,
                size,
            )
        except InvalidEventError as error:
            self._invalid(error)
        except Exception:
            try:
                self._internal_error()
            except Exception:  # RecursionError/MemoryError while reporting one
                self._unreported[0] += 1
        return None

    def feedback(
        self,
        kind: str,
        *,
        score: int | None = None,
        comment: str | None = None,
        user_id: str | None = None,
        account_id: str | None = None,
        session_id: str | None = None,
        prompt_id: str | None = None,
        area: str | None = None,
        properties: Mapping[str, Any] | None = None,
        timestamp: _dt.datetime | float | None = None,
    ) -> str | None:
        """Record what a customer said: nps 0-10, csat 1-5, ces 1-7, rating 1-5, thumbs 0/1."""
        if self._disabled:
            return None
        try:
            broken = feedback_rule(kind, score, comment)
            if broken is not None:
                raise InvalidEventError(*broken)
            check_id("prompt_id", prompt_id)
            check_id("area", area)
            if prompt_id is not None:
                self._check_answer(prompt_id, kind)
            if type(comment) is str and len(comment) > MAX_STRING_LENGTH:
                comment = self._truncated_comment(comment)  # last: only a kept answer counts
            check_text("comment", comment)
            attributes = feedback_attributes(kind, score, comment, prompt_id, area)
            body, size = (
                (None, 0)
                if properties is None
                else check_properties_sized(properties, "properties", self._drop_property)
            )
            if comment is not None:  # its str object's header is in ATTRIBUTES_BYTES
                size += str_bytes(comment) - STR_BYTES
            event_id = self._emit(
                FEEDBACK, kind, body, attributes, user_id, account_id, session_id, timestamp, size
            )
            if prompt_id is not None:
                # "Never again after an answer" holds from now, not when the worker gets here.
                self.prompts.answered(prompt_id, user_id)
            return event_id
        except InvalidEventError as error:
            self._invalid(error)
        except Exception:
            try:
                self._internal_error()
            except Exception:  # RecursionError/MemoryError while reporting one
                self._unreported[0] += 1
        return None

    def track(
        self,
        event: Event,
        *,
        user_id: str | None = None,
        account_id: str | None = None,
        session_id: str | None = None,
        timestamp: _dt.datetime | float | None = None,
    ) -> str | None:
        """Record a typed event (a ``cs_sdk.Event`` subclass instance). Returns the event id."""
        if self._disabled:
            return None
        try:
            if not is_event(event):
                raise InvalidEventError("event", "must be an instance of a cs_sdk.Event subclass")
            cls = type(event)
            if not cls.is_declared():
                raise InvalidEventError(
                    "event", f"{cls.__qualname__} must be declared with name= and version="
                )
            schema = cls.__cs_schema__
            # A plain class's event is queued as a copy of its fields, which is its wire body
            # (events/_plain.py); any other as its instance, serialised on the worker.
            body: dict[str, Any] | Event | None = wire_body(event)
            if body is None:
                body, size = event, TYPED_EVENT_BYTES + estimated_bytes(event.__dict__)
            else:
                size = estimated_bytes(body)
            return self._emit(
                schema, schema.name, body, None, user_id, account_id, session_id, timestamp, size
            )
        except InvalidEventError as error:
            self._invalid(error)
        except Exception:
            try:
                self._internal_error()
            except Exception:  # RecursionError/MemoryError while reporting one
                self._unreported[0] += 1
        return None

    def respond(
        self,
        feedback_event_id: str,
        *,
        message: str,
        team: str,
        status: Literal["planned", "done", "declined"],
        user_id: str | None = None,
        account_id: str | None = None,
        timestamp: _dt.datetime | float | None = None,
    ) -> str | None:
        """Answer a customer's feedback; records ``cs.feedback.response``. Returns its id.

        ``feedback_event_id`` is the id :meth:`feedback` returned. The answer is for the
        customer who gave that feedback: the SDK remembers each feedback's user in the state
        store, and :attr:`responses` keeps the answer for ``responses.for_user``. For
        feedback recorded where this state store cannot see it, name the customer with
        ``user_id=``. The ``identify()`` scope is not used: inside one, it is the team member
        answering, not the customer. ``message`` is redacted like feedback comments.

        >>> client.respond(event_id, message="Export is 3x faster in 2.3",
        ...                team="reports-team", status="done")  # doctest: +SKIP
        '6f1c…'
        """
        if self._disabled:
            return None
        try:
            broken = response_rule(feedback_event_id, message, team, status)
            if broken is not None:
                raise InvalidEventError(*broken)
            attributes = response_attributes(feedback_event_id, message, team, status)
            scope = _identity_var.set(NO_IDENTITY)
            try:
                return self._emit(
                    FEEDBACK_RESPONSE, status, None, attributes, user_id, account_id, None,
                    timestamp, len(message),
                )  # fmt: skip
            finally:
                _identity_var.reset(scope)
        except InvalidEventError as error:
            self._invalid(error)
        except Exception:
            self._internal_error()
        return None

    def _truncated_comment(self, comment: str) -> str:
        # Kept, cut, counted (see _feedback_text.py), in strict mode too: what a customer
        # typed is not the developer's mistake.
        self._stats.note("comment_truncated")
        warn_once(
            "feedback:comment_truncated",
            "cs_sdk: a feedback comment of %d characters was cut to %d (the score is kept)",
            len(comment),
            MAX_STRING_LENGTH,
        )
        return truncated(comment)

    def _check_answer(self, prompt_id: str, kind: str) -> None:
        """Feedback with a ``prompt_id`` must answer a prompt of the configuration, with the
        prompt's kind: otherwise counted and logged (strict: raised), and still recorded."""
        try:
            problem = self.prompts.answer_problem(prompt_id, kind)
        except Exception:
            logger.debug("checking the prompt of a feedback failed", exc_info=True)
            return
        if problem is None:
            return
        reason, message = problem
        if self._strict:
            raise InvalidEventError("prompt_id" if reason == "unknown_prompt" else "kind", message)
        self._stats.note(reason)  # type: ignore[arg-type]
        warn_once(f"feedback:{reason}:{prompt_id}", "cs_sdk: %s (recorded anyway)", message)

    def _invalid(self, error: InvalidEventError) -> None:
        if self._strict:
            raise error
        self._stats.drop("invalid")
        warn_once(f"invalid:{error.rule}", "cs_sdk: dropped an invalid event: %s", error)

    def _property_dropped(self, error: Unconvertible) -> None:
        self._stats.count("properties_dropped")
        warn_once(
            f"property:{error.type_name}",
            "cs_sdk: left out property %s, a %s, which cannot be sent (the event was kept); "
            "convert it to a str, number or bool",
            error.field,
            error.type_name,
        )

    def _run_before_send(self, record: EventRecord) -> EventRecord | None:
        hook = self.config.before_send
        result = hook(record) if hook is not None else record
        if result is not None and not isinstance(result, EventRecord):
            warn_once("before_send:type", "cs_sdk: before_send must return the event or None")
            return None
        return result
