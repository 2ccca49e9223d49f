"""How property values of common Python types are sent, written once.

OTLP attribute values are strings, integers, doubles, booleans, bytes, arrays and maps.
Applications hold richer types; the common ones are converted the way users expect, on the
caller's thread by the validator (``_validate.py``), so the queue, the spool, ``before_send``,
``testing.capture()`` and both encoders (and the C accelerator, which hands such values to
the Python path) see one form. The table in docs/otlp-mapping.md documents this module:

=====================================  ==========================================
Python value                            Sent as
=====================================  ==========================================
``datetime``, ``date``, ``time``        ISO 8601 string (``value.isoformat()``)
``Decimal``                             its exact string (``str(value)``)
``UUID``                                its canonical string (``str(value)``)
``Enum`` member                         its ``value``, converted in turn
``set``, ``frozenset``                  a sorted list (its items converted first)
``bytes``, ``bytearray``, memoryview    OTLP bytes (``bytesValue``, base64 in JSON)
=====================================  ==========================================

Anything else (an arbitrary object, a set whose items cannot be ordered) cannot be converted:
:class:`Unconvertible` is raised, and the validator drops that key only, counted and logged
once (``strict=True`` raises :class:`~cs_sdk.InvalidEventError` instead).
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Callable
from decimal import Decimal
from typing import Any, Final
from uuid import UUID

from ._errors import InvalidEventError

RULE_TYPE: Final = (
    "must be a str, int, float, bool, None, list, tuple or dict of those, or a value the SDK "
    "converts (datetime, date, time, Decimal, UUID, Enum, set, bytes; see docs/otlp-mapping.md)"
)


class Unconvertible(InvalidEventError):
    """A property value of a type the SDK does not send (its key is dropped)."""

    def __init__(self, field: str, value: object) -> None:
        super().__init__(field, f"{RULE_TYPE}; got {type(value).__name__}")
        self.type_name = type(value).__name__


def _isoformat(value: Any) -> str:
    return str(value.isoformat())


def _bytes(value: Any) -> bytes:
    return bytes(value)


# By exact type first (the usual case, one dict lookup); subclasses through isinstance below.
_BY_TYPE: Final[dict[type, Callable[[Any], Any]]] = {
    dt.datetime: _isoformat,
    dt.date: _isoformat,
    dt.time: _isoformat,
    Decimal: str,
    UUID: str,
    bytes: _bytes,
    bytearray: _bytes,
    memoryview: _bytes,
}
_BY_BASE: Final = tuple(_BY_TYPE.items())
CONVERTERS: Final = _BY_TYPE
"""The conversion of each exact type, also called by the C accelerator (_speedups.c)."""


def convert(value: Any, field: str, item: Callable[[Any, str], Any]) -> Any:
    """``value`` (not a str/int/float/bool/None/list/tuple/dict) in a form OTLP can carry.

    ``item`` checks a converted value in turn (an Enum's value, a set's items).

    Raises:
        Unconvertible: no conversion applies.
        InvalidEventError: the converted value breaks a rule (a string too long, say).
    """
    converter = _BY_TYPE.get(type(value))
    if converter is None:
        if isinstance(value, enum.Enum):
            return item(value.value, field)
        if isinstance(value, (set, frozenset)):
            return _sorted_list(value, field, item)
        converter = next((c for base, c in _BY_BASE if isinstance(value, base)), None)
        if converter is None:
            raise Unconvertible(field, value)
    return item(converter(value), field)


def _sorted_list(value: set[Any] | frozenset[Any], field: str, item: Callable[..., Any]) -> Any:
    converted = [item(element, f"{field}[]") for element in value]
    try:
        converted.sort()
    except TypeError:  # mixed types (1 and "a"), None among others, dicts: no order to send
        raise Unconvertible(field, value) from None
    return converted
