"""The id rule: what a user, account or session id may be, written once.

Every entry point that takes such an id calls this module: the recording calls (the Python
method here, the C accelerator by handing every id that is not a plain string within the
bound back to that method), ``identify()``, ``opt_out()``, ``pilots.enroll/exit/of`` and the
prompts calls. A test runs one table of ids through all of them (tests/test_ids.py).

The rule: a non-empty string of at most :data:`MAX_ID_LENGTH` characters. Application code
passes what its framework hands it, so two other types are accepted and converted the way a
user reads them: an ``int`` (a database key, ``request.user.pk``) as its digits, and a
``uuid.UUID`` as its canonical string (``str(uuid)``, lowercase with hyphens), so that
``milestone(..., user_id=42)`` and ``enroll(42, ...)`` mean the user ``"42"``. A ``str``
subclass is kept as its plain string (a ``StrEnum`` member as its value). ``bool`` is not
an id (``True`` is an ``int`` to Python, never a user). The bound keeps a queued event's ids
small (they count towards ``max_queue_bytes``) and matches what the state stores accept.
"""

from __future__ import annotations

import sys
from typing import Final

from ._errors import InvalidEventError

MAX_ID_LENGTH: Final = 256
ID_RULE: Final = (
    f"must be a non-empty string (or an int or a UUID) of at most {MAX_ID_LENGTH} characters"
)

__all__ = ["ID_RULE", "MAX_ID_LENGTH", "check_id", "id_problem", "normalize_id", "optional_id"]


def normalize_id(value: object) -> object:
    """An id as events carry it: an int as its digits, a UUID as its canonical string, a
    ``str`` subclass as the plain string; anything else unchanged, for :func:`check_id`."""
    kind = type(value)
    if kind is str:
        return value
    if kind is int:
        return str(value)
    if isinstance(value, str):
        return str.__str__(value)
    # A UUID exists only once its module was imported: looked up, so that `import cs_sdk`
    # does not import uuid (and platform) for the rare id that is one.
    uuid = sys.modules.get("uuid")
    if uuid is not None and isinstance(value, uuid.UUID):
        return uuid.UUID.__str__(value)  # a subclass too: the canonical form, not its __str__
    return value


def id_problem(value: object, limit: int = MAX_ID_LENGTH) -> str | None:
    """None when ``value`` (already normalised) is a valid id, else the rule it breaks."""
    if type(value) is str and value and len(value) <= limit:
        return None
    if limit == MAX_ID_LENGTH:
        return ID_RULE
    return f"must be a non-empty string of at most {limit} characters"


def check_id(field: str, value: object) -> str:
    """The id as events carry it, or :class:`InvalidEventError` naming ``field``."""
    ident = normalize_id(value)
    if type(ident) is str and ident and len(ident) <= MAX_ID_LENGTH:
        return ident
    raise InvalidEventError(field, ID_RULE)


def optional_id(field: str, value: object) -> str | None:
    """:func:`check_id`, with ``None`` meaning "not given"."""
    return None if value is None else check_id(field, value)
