"""Validation of what callers pass in, cheap enough for the caller's thread.

Each check raises :class:`InvalidEventError` naming the field and the rule; the client turns
that into a counted, logged drop unless ``strict=True``. Property values are copied while
they are checked, so a caller mutating its dict afterwards cannot change a queued event.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping
from typing import Any

from ._errors import InvalidEventError
from ._ids import normalize_id as normalize_id  # the id rule lives in _ids.py
from ._shapes import note_valid_shape, shape_check
from ._values import Unconvertible, convert

OnDrop = Callable[[Unconvertible], None]
"""Told about each property key dropped because its value cannot be converted (``_values``);
None (``strict=True``) raises instead."""

MAX_NAME_LENGTH = 256
MAX_STRING_LENGTH = 65_536
MAX_PROPERTIES = 256
MAX_DEPTH = 8
MAX_LIST_ITEMS = MAX_PROPERTIES * 16
_INT64_MIN = -(2**63)
_INT64_MAX = 2**63 - 1

_RULE_STRING = f"must be a string of at most {MAX_STRING_LENGTH} characters"
_RULE_INT = "must fit in a signed 64-bit integer"
_RULE_FLOAT = "must be a finite number (NaN and infinity cannot be sent as JSON)"
_RULE_BYTES = f"must be at most {MAX_STRING_LENGTH} bytes"
_RULE_KEY = f"keys must be non-empty strings of at most {MAX_NAME_LENGTH} characters"
_RULE_DEPTH = f"must not nest deeper than {MAX_DEPTH} levels"


def check_name(field: str, value: object) -> str:
    """A non-empty event name of reasonable length."""
    if type(value) is not str or not value or len(value) > MAX_NAME_LENGTH:
        raise InvalidEventError(
            field, f"must be a non-empty string of at most {MAX_NAME_LENGTH} characters"
        )
    return value


def check_id(field: str, value: object) -> str | None:
    """An optional short string naming something (prompt id, area, unit). User, account and
    session ids follow the id rule of ``_ids.py`` instead."""
    if value is None:
        return None
    if type(value) is not str or not value or len(value) > MAX_NAME_LENGTH:
        raise InvalidEventError(
            field, f"must be a non-empty string of at most {MAX_NAME_LENGTH} characters"
        )
    return value


def check_text(field: str, value: object) -> str | None:
    """Optional free text (feedback comments, units)."""
    if value is None:
        return None
    if type(value) is not str or len(value) > MAX_STRING_LENGTH:
        raise InvalidEventError(field, _RULE_STRING)
    return value


def check_number(field: str, value: object) -> float | None:
    """An optional finite number."""
    if value is None:
        return None
    if type(value) not in (int, float) or value - value != 0:  # type: ignore[operator]
        raise InvalidEventError(field, _RULE_FLOAT)
    try:
        return float(value)  # type: ignore[arg-type]
    except OverflowError:  # an int beyond the largest double
        raise InvalidEventError(field, _RULE_FLOAT) from None


# What a queued event holds in memory, estimated on the caller's thread so that the queue can
# be bounded by bytes as well as by count (max_queue_bytes). One rule, per kind of value, at
# the size CPython gives an object of that kind (64-bit; tracemalloc, `python -m
# bench.queued_memory` on 3.10, 3.11 and 3.13): the containers the validator copies (exact
# tables), and each value as if the event alone held it (a string built for it, an int
# computed for it), so the bound never counts less than events hold; the characters of keys
# are counted, not their objects (literals, shared). _speedups.c reads the same constants
# (SIZES, given to it before its first Recorder). Sizes differ between versions: 3.11 packs a
# dict of str keys tighter, 3.12 dropped a pointer from every str.
_STR_312 = sys.version_info >= (3, 12)
_DICT_311 = sys.version_info >= (3, 11)
STR_BYTES = 41 if _STR_312 else 49
"""An ASCII str: its header and final NUL, plus one byte per character."""
WIDE_STR_BYTES = 56 if _STR_312 else 72
"""Any other str: its header, plus 1, 2 or 4 bytes per character and the NUL (its widest)."""
INT_BYTES = 40  # an int64, three 30-bit digits, and the spare one an addition leaves
FLOAT_BYTES = 24
BYTES_BYTES = 33  # plus one per byte
LIST_BYTES = 104  # the list, and the 6 spare slots a list built by appending may keep
ITEM_BYTES = 9  # a list's slot, and its share of the spare ones (one in eight)
VALUE_BYTES = 96
"""A value of another kind (a typed event's datetime, UUID, Decimal field...)."""
_DICT_HEADER = 97 if _DICT_311 else 105  # the dict and its keys object, GC header included
_DICT_ENTRY = 16 if _DICT_311 else 24  # (hash,) key, value
_EMPTY_DICT = 64  # a dict with no keys shares the empty keys object
RECORD_BYTES = 144 + STR_BYTES + 32 + 40 + 9 + 48 + 40
"""The queued tuple (13 items), its 32-character event id, its time, its slot in the queue,
and a trace and a span id (a 128-bit and a 64-bit int) when recorded inside a span: counted
for every event, since the C path's emit (not this rule's) knows whether there is one."""
# A typed event of a plain class is queued as a copy of its fields (events/_plain.py),
# estimated as any dict. Any other is queued as its pydantic instance, which holds more than
# its field values:
# the object itself and the set of the fields set (728 B for 5 to 18 fields; 216 for fewer,
# 2,264 up to 76: a class of more fields holds ~1.5 KB more than counted).
TYPED_EVENT_BYTES = 96 + 728


def dict_bytes(keys: int) -> int:
    """A dict of ``keys`` str keys as ``dict.copy()`` builds it: the smallest table (a power
    of two, at least 8) of which two thirds hold them, an index of 1 or 2 bytes per slot."""
    if keys == 0:
        return _EMPTY_DICT
    slots = 8
    while slots * 2 // 3 < keys:
        slots *= 2
    return (
        _DICT_HEADER
        + slots * (1 if slots <= 128 else 2 if slots <= 32768 else 4)
        + (slots * 2 // 3) * _DICT_ENTRY
    )


def str_bytes(value: str) -> int:
    """An exact str, by the width CPython stores it in."""
    if value.isascii():
        return STR_BYTES + len(value)
    widest = ord(max(value))
    width = 1 if widest < 256 else 2 if widest < 65536 else 4
    return WIDE_STR_BYTES + (len(value) + 1) * width


# A feedback's or outcome's first-class attributes are a dict of their own beside the
# properties: its table (up to 5 keys), a number and a comment's or unit's str object (its
# characters are counted apart).
ATTRIBUTES_BYTES = dict_bytes(5) + INT_BYTES + STR_BYTES
_DICT_BYTES = tuple(dict_bytes(keys) for keys in range(MAX_PROPERTIES + 1))
SIZES = (
    STR_BYTES,
    WIDE_STR_BYTES,
    INT_BYTES,
    FLOAT_BYTES,
    BYTES_BYTES,
    LIST_BYTES,
    ITEM_BYTES,
    VALUE_BYTES,
    _DICT_HEADER,
    _DICT_ENTRY,
    _EMPTY_DICT,
)
"""The constants of the rule, in the order _speedups.c's set_sizes takes them."""
SCALAR_BYTES: dict[type, int] = {int: INT_BYTES, float: FLOAT_BYTES, bool: 0, type(None): 0}
"""A scalar's bytes by its type (a str's: str_bytes), for the shape checkers (_shapes.py)."""


def check_properties_sized(
    value: object, field: str = "properties", on_drop: OnDrop | None = None
) -> tuple[dict[str, Any] | None, int]:
    """A validated copy of a properties mapping (``None`` for no properties) and the
    estimated bytes the copy holds in memory.

    Values of common types are converted (``_values.py``); a key whose value cannot be is
    left out of the copy and reported to ``on_drop``, or raises when ``on_drop`` is None."""
    if value is None:
        return None, 0
    if type(value) is dict:
        # The usual case: a shape seen before, checked by its generated checker (_shapes.py).
        value = value.copy()  # ours from here on: the general validator checks it in place
        check = shape_check(tuple(value))
        if check is not None:
            size = check(value)
            if size >= 0:
                return value, size
        owned = True
    # `type(...) is dict` first: an ABC isinstance check costs ~0.1 µs on the hot path.
    elif not isinstance(value, Mapping):
        raise InvalidEventError(field, "must be a dict")
    else:
        owned = False
    if len(value) > MAX_PROPERTIES:
        raise InvalidEventError(field, f"must have at most {MAX_PROPERTIES} keys")
    if not value:
        return None, 0
    valid, size = _check_mapping(value, field, 1, owned, on_drop)
    if not valid:  # every key dropped
        return None, 0
    note_valid_shape(valid, _DICT_BYTES, STR_BYTES, SCALAR_BYTES, MAX_STRING_LENGTH)
    return valid, size


def estimated_bytes(value: Any) -> int:
    """The memory estimate of an already validated value (nested properties, comments, a
    typed event's fields). Mirrored by ``estimate`` in _speedups.c."""
    kind = type(value)
    if kind is str:
        return str_bytes(value)
    if kind is int:
        return INT_BYTES
    if kind is float:
        return FLOAT_BYTES
    if kind is bool or value is None:
        return 0
    if kind is dict:
        keys = len(value)
        size = _DICT_BYTES[keys] if keys <= MAX_PROPERTIES else dict_bytes(keys)
        for key, item in value.items():
            # A typed event's dict field may have int keys (pydantic): a boxed value each.
            size += len(key) if type(key) is str else VALUE_BYTES
            size += estimated_bytes(item)
        return size
    if kind is list or kind is tuple:  # a tuple: a typed event's field (validated: a list)
        size = LIST_BYTES + ITEM_BYTES * len(value)
        for item in value:
            size += estimated_bytes(item)
        return size
    if kind is bytes:
        return BYTES_BYTES + len(value)
    return VALUE_BYTES


def _check_mapping(
    value: Mapping[Any, Any],
    field: str,
    depth: int,
    owned: bool = False,
    on_drop: OnDrop | None = None,
    # Bound as defaults so that the loop reads fast locals, not globals and builtins.
    _str: type = str,
    _int: type = int,
    _float: type = float,
    _bool: type = bool,
    _len: Any = len,
    _max_name: int = MAX_NAME_LENGTH,
    _max_string: int = MAX_STRING_LENGTH,
    _int_min: int = _INT64_MIN,
    _int_max: int = _INT64_MAX,
    _str_bytes: int = STR_BYTES,
    _int_bytes: int = INT_BYTES,
    _float_bytes: int = FLOAT_BYTES,
) -> tuple[dict[str, Any], int]:
    # The common case, a flat dict of scalars, stays in this loop with no call per value.
    # The copy is made at C speed first (or was, by the caller: `owned`); only nested values
    # are replaced in it (assigning an existing key during iteration is allowed: the dict
    # does not change size).
    copy: dict[str, Any] = value if owned else dict(value)  # type: ignore[assignment]
    # The values' bytes (estimated_bytes's, inlined for scalars); the table's at the end.
    size = 0
    subclassed_keys = False
    dropped: list[Any] | None = None
    for key, item in copy.items():
        if type(key) is not _str:
            if not isinstance(key, _str):
                raise InvalidEventError(field, _RULE_KEY)
            subclassed_keys = True  # a StrEnum member, say: sent as its plain string
        if not key or _len(key) > _max_name:
            raise InvalidEventError(field, _RULE_KEY)
        kind = type(item)
        if kind is _str:
            length = _len(item)
            if length > _max_string:
                raise InvalidEventError(f"{field}.{key}", _RULE_STRING)
            size += _str_bytes + length if item.isascii() else str_bytes(item)
        elif kind is _int:
            if not _int_min <= item <= _int_max:
                raise InvalidEventError(f"{field}.{key}", _RULE_INT)
            size += _int_bytes
        elif kind is _float:
            if item - item != 0.0:
                raise InvalidEventError(f"{field}.{key}", _RULE_FLOAT)
            size += _float_bytes
        elif item is not None and kind is not _bool:
            try:
                item = copy[key] = _check_nested(item, f"{field}.{key}", depth, on_drop)
            except Unconvertible as error:
                if on_drop is None:
                    raise
                # This key only: the rest of the event is still worth sending.
                on_drop(error)
                dropped = [key] if dropped is None else [*dropped, key]
                continue
            size += estimated_bytes(item)
    if dropped is not None:
        for key in dropped:
            del copy[key]
    if subclassed_keys:
        copy = {str.__str__(key): item for key, item in copy.items()}
    return copy, size + _DICT_BYTES[_len(copy)]


def _check_nested(value: Any, field: str, depth: int, on_drop: OnDrop | None = None) -> Any:
    if depth >= MAX_DEPTH:
        raise InvalidEventError(field, _RULE_DEPTH)
    if isinstance(value, Mapping):
        if len(value) > MAX_PROPERTIES:
            raise InvalidEventError(field, f"must have at most {MAX_PROPERTIES} keys")
        return _check_mapping(value, field, depth + 1, False, on_drop)[0]
    if isinstance(value, (list, tuple)):
        if len(value) > MAX_LIST_ITEMS:
            raise InvalidEventError(field, f"must have at most {MAX_LIST_ITEMS} items")
        # An item that cannot be converted drops the list's key (in the enclosing dict).
        return [
            _check_item(item, f"{field}[{index}]", depth + 1, on_drop)
            for index, item in enumerate(value)
        ]
    # Subclasses of the scalar types (IntEnum, str subclasses) are normalised to the base type.
    if isinstance(value, bool):
        return bool(value)
    if isinstance(value, str):  # str.__str__: the value, not an Enum's "Color.RED"
        return _check_item(str.__str__(value), field, depth)
    if isinstance(value, int):
        return _check_item(int(value), field, depth)
    if isinstance(value, float):
        return _check_item(float(value), field, depth)
    # datetime, Decimal, UUID, Enum, set, bytes...: the one conversion rule (_values.py).
    return convert(value, field, lambda item, at: _check_item(item, at, depth + 1, on_drop))


def _check_item(item: Any, field: str, depth: int, on_drop: OnDrop | None = None) -> Any:
    kind = type(item)
    if kind is str:
        if len(item) > MAX_STRING_LENGTH:
            raise InvalidEventError(field, _RULE_STRING)
        return item
    if kind is int:
        if not _INT64_MIN <= item <= _INT64_MAX:
            raise InvalidEventError(field, _RULE_INT)
        return item
    if kind is float:
        if item - item != 0.0:
            raise InvalidEventError(field, _RULE_FLOAT)
        return item
    if item is None or kind is bool:
        return item
    if kind is bytes:
        if len(item) > MAX_STRING_LENGTH:
            raise InvalidEventError(field, _RULE_BYTES)
        return item
    return _check_nested(item, field, depth, on_drop)
