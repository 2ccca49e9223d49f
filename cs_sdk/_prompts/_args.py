"""The ids pilots and prompts calls accept, checked before anything touches the store.

Application code passes whatever its framework hands it (``request.user.pk`` is an int,
a missing header is ``""``). User and account ids follow the one id rule of ``_ids.py``,
exactly like the recording calls and ``identify()``: an int is kept as its digits and a UUID
as its string (:func:`as_id`), so ``enroll(42, ...)`` and ``milestone(..., user_id=42)``
mean the same user. Anything else that is not a non-empty
string makes the call do nothing and log once, or raise
:class:`~cs_sdk.InvalidEventError` with ``strict=True``::

    user_id = as_id(user_id)
    if not valid_ids("prompts.shown", strict, prompt_id=prompt_id, user_id=user_id):
        return False
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import TypeVar

from .._context import current_identity
from .._errors import InvalidEventError
from .._ids import MAX_ID_LENGTH, id_problem, normalize_id
from .._log import warn_once

__all__ = ["MAX_ID", "as_id", "scoped_ids", "valid_ids"]

MAX_ID = MAX_ID_LENGTH  # the limit of ids in events, so every accepted id can be recorded

_T = TypeVar("_T")
_ID_FIELDS = frozenset(("user_id", "account_id", "session_id"))


def as_id(value: _T) -> _T:
    """A user or account id as the recording calls keep it (:func:`normalize_id`): an int
    (a database key) as its digits, anything else unchanged (``bool`` is not an id)."""
    return normalize_id(value)  # type: ignore[return-value]


def scoped_ids(user_id: object, account_id: object) -> tuple[str, str | None]:
    """``(user_id, account_id)`` as :func:`as_id` keeps them, each missing one taken from the
    ``identify()`` scope, as the recording calls do (an explicit argument wins)::

        with cs_sdk.identify(user_id="u1", account_id="acme"):
            cs_sdk.prompts.next_for()          # for u1 in acme

    Typed as the valid case: a user id that is neither given nor in a scope is ``None``, or
    an invalid value stays as given, and :func:`valid_ids` refuses both before any use.
    """
    if user_id is None or account_id is None:
        scope = current_identity()
        user = scope.user_id if user_id is None else as_id(user_id)
        account = scope.account_id if account_id is None else as_id(account_id)
        return user, account  # type: ignore[return-value]
    return as_id(user_id), as_id(account_id)  # type: ignore[return-value]


def valid_ids(
    call: str,
    strict: bool,
    *,
    optional: Collection[str] = (),
    limits: Mapping[str, int] | None = None,
    **values: object,
) -> bool:
    """True when every value is a non-empty ``str`` within its limit (``None`` if optional).

    Otherwise logs once per call and argument and returns False.

    Raises:
        InvalidEventError: a value is invalid and ``strict`` is set.
    """
    for field, value in values.items():
        if value is None and field in optional:
            continue
        limit = limits.get(field, MAX_ID) if limits else MAX_ID
        if field in _ID_FIELDS:
            problem = id_problem(value, limit)  # the one id rule (_ids.py)
        elif type(value) is str and value and len(value) <= limit:
            problem = None
        else:
            problem = f"must be a non-empty string of at most {limit} characters"
        if problem is None:
            continue
        error = InvalidEventError(field, problem)
        if strict:
            raise error
        shown = repr(value)
        warn_once(
            f"{call}:invalid:{field}",
            "cs_sdk: ignored a %s() call: %s (got %s)",
            call,
            error,
            shown if len(shown) <= 40 else shown[:37] + "...",
        )
        return False
    return True
