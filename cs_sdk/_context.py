"""Identity scopes carried by ``contextvars``, and the ids of the active OpenTelemetry span.

Threads and asyncio tasks each see their own scope because ``contextvars`` gives every
thread its own context and copies the context into each new task. The active span's ids are
read by ``_spans.py``, which the client imports: ``identify()`` and ``import cs_sdk`` do not
load the OpenTelemetry API.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import NamedTuple

from ._errors import InvalidEventError
from ._ids import id_problem, normalize_id
from ._log import warn_once


class Identity(NamedTuple):
    """Who an event is about. ``None`` means "not known here"."""

    user_id: str | None = None
    account_id: str | None = None
    session_id: str | None = None


NO_IDENTITY = Identity()
_current: ContextVar[Identity] = ContextVar("cs_sdk.identity", default=NO_IDENTITY)
# The global client's strictness, pushed down by ``_api`` whenever the global client changes:
# this module sits below the client and never asks it (imports point downwards only).
_strict_scopes: list[bool] = [False]


def set_strict_scopes(strict: bool) -> None:
    """Whether an invalid id given to :func:`identify` raises (the global client is strict)."""
    _strict_scopes[0] = strict


def current_identity() -> Identity:
    """The identity of the innermost :func:`identify` scope (all ``None`` outside one)."""
    return _current.get()


def _check_id(name: str, value: object) -> str | None:
    """A scope id under the id rule of ``_ids.py`` (an int or a UUID as its string), or None.

    Anything else is a mistake in the application: with a strict global client (as told by
    ``set_strict_scopes``) it raises InvalidEventError; otherwise it is logged once and the
    scope goes on without that id, because identify() wraps request handlers and must never
    break one.
    """
    ident = normalize_id(value)
    problem = None if ident is None else id_problem(ident)
    if problem is None:
        return ident  # type: ignore[return-value]  # None or a valid str
    error = InvalidEventError(name, problem + " (or None)")
    if _strict_scopes[0]:
        raise error
    warn_once(f"identify:{name}", "cs_sdk: identify() ignored an invalid id: %s", error)
    return None


def merged(outer: Identity, inner: Identity) -> Identity:
    """The scope ``inner`` opens inside ``outer``: an inner value wins, an inner ``None`` keeps
    the outer value (also used by middlewares that set the scope in a copied context)."""
    return Identity(
        inner.user_id if inner.user_id is not None else outer.user_id,
        inner.account_id if inner.account_id is not None else outer.account_id,
        inner.session_id if inner.session_id is not None else outer.session_id,
    )


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
    user_id = _check_id("user_id", user_id)
    account_id = _check_id("account_id", account_id)
    session_id = _check_id("session_id", session_id)
    scope = merged(_current.get(), Identity(user_id, account_id, session_id))
    token = _current.set(scope)
    try:
        yield scope
    finally:
        _current.reset(token)
