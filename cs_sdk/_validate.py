"""Validation of what callers pass in, cheap enough for the caller's thread.

Each check raises :class:`InvalidEventError` naming the field and the rule; the client turns
that into a counted, logged drop unless ``strict=True``. Property values are copied while
they are checked, so a caller mutating its dict afterwards cannot change a queued event.
"""

from __future__ import annotations

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


# What a queued event holds in memory, estimated on the caller's thread so that the queue
# can be bounded by bytes as well as by count: the record itself with its ids, then per
# property a dict slot and a boxed value, plus the characters of every string. Measured
# against tracemalloc for the benchmark's 8-property event: ~1 KB estimated, ~0.8 KB held.
RECORD_BYTES = 256
VALUE_BYTES = 96
# A typed event is queued as its pydantic instance, which holds more than its field values:
# the object itself, its __dict__ and the set of fields set. Measured with tracemalloc:
# 520 B held for one int field (193 B estimated from the values alone), 1,120 B for eight
# (914 B); without it a burst of typed events outgrew max_queue_bytes (bench/RESULTS.md).
TYPED_EVENT_BYTES = 320
# A feedback's or outcome's first-class attributes are a dict of their own beside the
# properties: its table and boxed values (the comment's characters are counted apart).
# Measured with tracemalloc: ~485 B held for a feedback with a comment against ~320
# estimated without it; ~510 B for an outcome against ~470 (~550 B on Python 3.10).
ATTRIBUTES_BYTES = 320


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
    note_valid_shape(valid, VALUE_BYTES, MAX_STRING_LENGTH)
    return valid, size


def estimated_bytes(value: Any) -> int:
    """The memory estimate of an already validated value (nested properties, comments, a
    typed event's fields). Mirrored by ``estimate`` in _speedups.c."""
    kind = type(value)
    if kind is str or kind is bytes:
        return VALUE_BYTES + len(value)
    if kind is dict:
        size = VALUE_BYTES
        for key, item in value.items():
            # A typed event's dict field may have int keys (pydantic): a boxed value each.
            size += len(key) if type(key) is str else VALUE_BYTES
            size += VALUE_BYTES + len(item) if type(item) is str else estimated_bytes(item)
        return size
    if kind is list:
        size = VALUE_BYTES
        for item in value:
            size += VALUE_BYTES + len(item) if type(item) is str else estimated_bytes(item)
        return size
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
) -> tuple[dict[str, Any], int]:
    # The common case, a flat dict of scalars, stays in this loop with no call per value.
    # The copy is made at C speed first (or was, by the caller: `owned`); only nested values
    # are replaced in it (assigning an existing key during iteration is allowed: the dict
    # does not change size).
    copy: dict[str, Any] = value if owned else dict(value)  # type: ignore[assignment]
    size = VALUE_BYTES * _len(copy)
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
            size += length
        elif kind is _int:
            if not _int_min <= item <= _int_max:
                raise InvalidEventError(f"{field}.{key}", _RULE_INT)
        elif kind is _float:
            if item - item != 0.0:
                raise InvalidEventError(f"{field}.{key}", _RULE_FLOAT)
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
            size -= VALUE_BYTES
    if subclassed_keys:
        copy = {str.__str__(key): item for key, item in copy.items()}
    return copy, size


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
