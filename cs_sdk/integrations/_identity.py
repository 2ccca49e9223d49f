"""The one rule every middleware applies to what the application's resolver returns.

A resolver maps a request (a Starlette ``Request``, a WSGI ``environ``, a Django
``HttpRequest``) to a mapping with any of ``user_id``, ``account_id``, ``session_id``, or
``None`` for an anonymous request. The middleware must never fail a request, so a resolver
that raises or returns anything else is logged once (per reason) and the request goes on
without identity: an event recorded without an id is better than a 500 page.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from typing import Any

from .._context import Identity
from .._log import logger, warn_once
from .._validate import MAX_NAME_LENGTH, normalize_id

__all__ = ["Resolver", "ResolverError", "clean_identity", "resolve", "resolve_async"]

Resolver = Callable[[Any], Any]

_FIELDS = ("user_id", "account_id", "session_id")
_FIELD_SET = frozenset(_FIELDS)
_new_identity = tuple.__new__  # Identity(...) without NamedTuple's Python-level __new__


def _plain(value: object) -> bool:
    """None, or a string that is already a valid id as it is."""
    return value is None or (type(value) is str and 0 < len(value) <= MAX_NAME_LENGTH)


class ResolverError(ValueError):
    """What the resolver returned is not an identity (the reason is the message)."""


def clean_identity(result: object) -> Identity | None:
    """``result`` as an :class:`~cs_sdk.Identity`, or ``None`` for an anonymous request.

    Accepted: ``None``, a mapping whose keys are among ``user_id``, ``account_id`` and
    ``session_id`` with values that are non-empty strings (at most 256 characters), ints
    (database keys, kept as their digits) or ``None``, or a ``cs_sdk.Identity``.

    Raises:
        ResolverError: anything else, with the reason.

    >>> clean_identity({"user_id": 42, "account_id": "acme"})
    Identity(user_id='42', account_id='acme', session_id=None)
    """
    if result is None:
        return None
    if type(result) is dict and result.keys() <= _FIELD_SET:
        # The usual answer (a dict of strings), checked without the general path's calls.
        user, account = result.get("user_id"), result.get("account_id")
        session = result.get("session_id")
        if _plain(user) and _plain(account) and _plain(session):
            if user is None and account is None and session is None:
                return None
            return _new_identity(Identity, (user, account, session))
    if isinstance(result, Identity):
        result = result._asdict()
    if not isinstance(result, Mapping):
        raise ResolverError(f"expected a mapping or None, got {type(result).__name__}")
    unknown = [key for key in result if key not in _FIELDS]
    if unknown:
        # A typo ("userid") silently ignored would lose identity for good: say so.
        raise ResolverError(f"unknown key(s) {sorted(map(str, unknown))}; use {list(_FIELDS)}")
    values: list[str | None] = []
    for name in _FIELDS:
        value = normalize_id(result.get(name))
        if value is not None and (
            type(value) is not str or not value or len(value) > MAX_NAME_LENGTH
        ):
            raise ResolverError(f"{name} must be a non-empty string (or an int), got {value!r}")
        values.append(value)
    identity = Identity(*values)
    return None if identity == Identity() else identity


def _failed(kind: str, detail: object) -> None:
    warn_once(
        f"integrations:resolver:{kind}",
        "cs_sdk: the identify resolver %s (%s); this request and others like it go on "
        "without identity",
        "raised" if kind == "raised" else "returned something that is not an identity",
        detail,
    )


def resolve(resolver: Resolver, request: object) -> Identity | None:
    """Run a synchronous resolver; never raises."""
    try:
        result = resolver(request)
        if inspect.isawaitable(result):
            close = getattr(result, "close", None)
            if close is not None:
                close()  # no "coroutine was never awaited" warning
            raise ResolverError("an async resolver cannot be used with a WSGI application")
        return clean_identity(result)
    except ResolverError as error:
        _failed("invalid", error)
    except Exception as error:
        _failed("raised", type(error).__name__)
        logger.debug("identify resolver raised", exc_info=True)
    return None


async def resolve_async(resolver: Resolver, request: object) -> Identity | None:
    """Run a resolver that may be a coroutine function; never raises."""
    try:
        result = resolver(request)
        if type(result) is dict:
            return clean_identity(result)  # the usual case, before the awaitable checks
        if inspect.isawaitable(result):
            result = await result
        return clean_identity(result)
    except ResolverError as error:
        _failed("invalid", error)
    except Exception as error:
        _failed("raised", type(error).__name__)
        logger.debug("identify resolver raised", exc_info=True)
    return None
