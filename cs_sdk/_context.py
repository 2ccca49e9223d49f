"""Identity scopes carried by ``contextvars``, and the ids of the active OpenTelemetry span.

Threads and asyncio tasks each see their own scope because ``contextvars`` gives every
thread its own context and copies the context into each new task.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import NamedTuple

from opentelemetry import trace


class Identity(NamedTuple):
    """Who an event is about. ``None`` means "not known here"."""

    user_id: str | None = None
    account_id: str | None = None
    session_id: str | None = None


NO_IDENTITY = Identity()
_current: ContextVar[Identity] = ContextVar("cs_sdk.identity", default=NO_IDENTITY)


def current_identity() -> Identity:
    """The identity of the innermost :func:`identify` scope (all ``None`` outside one)."""
    return _current.get()


def _check_id(name: str, value: object) -> None:
    if value is not None and (not isinstance(value, str) or not value):
        raise TypeError(f"identify(): {name} must be a non-empty string or None, got {value!r}")


@contextmanager
def identify(
    user_id: str | None = None,
    account_id: str | None = None,
    session_id: str | None = None,
) -> Iterator[Identity]:
    """Attach an identity to every event recorded inside the block.

    Scopes nest: an inner value wins, an inner ``None`` keeps the outer value.

    >>> with identify(user_id="u1", account_id="acme"):
    ...     with identify(session_id="s9") as who:
    ...         who
    Identity(user_id='u1', account_id='acme', session_id='s9')
    """
    _check_id("user_id", user_id)
    _check_id("account_id", account_id)
    _check_id("session_id", session_id)
    outer = _current.get()
    scope = Identity(
        user_id if user_id is not None else outer.user_id,
        account_id if account_id is not None else outer.account_id,
        session_id if session_id is not None else outer.session_id,
    )
    token = _current.set(scope)
    try:
        yield scope
    finally:
        _current.reset(token)


_get_current_span = trace.get_current_span
_INVALID_SPAN_ID = trace.INVALID_SPAN_ID


def active_span_ids() -> tuple[int, int, int]:
    """``(trace_id, span_id, trace_flags)`` of the active span, or zeros outside one."""
    context = _get_current_span().get_span_context()
    if context.span_id == _INVALID_SPAN_ID:
        return 0, 0, 0
    return context.trace_id, context.span_id, int(context.trace_flags)
