"""Protobuf wire-format value encoding for :mod:`._protobuf`: varints, length-delimited
fields, the AnyValue/KeyValue trees of bodies and attributes, and the per-key caches that
make repeated keys cheap. The record writer (:class:`ProtobufEncoder`) is in ``_protobuf.py``,
with the field numbers both follow."""

from __future__ import annotations

import struct
from collections.abc import Callable, Mapping
from typing import Any, Final

# The C writer of a dict of values (``cs_sdk._accelerated.encode_pairs``), or None. It
# returns None for a dict holding anything it does not write exactly as ``_Writer.pairs``.
FlatEncoder = Callable[[dict[str, Any], bytes, int], "bytes | None"]

_pack_double = struct.Struct("<d").pack
_pack_fixed64 = struct.Struct("<Q").pack
_pack_fixed32 = struct.Struct("<I").pack

_INT64_MIN: Final = -(2**63)
_INT64_MAX: Final = 2**63 - 1
_TWO_TO_64: Final = 2**64

# Attribute and property names repeat from record to record but are user data, so unbounded
# in principle: the cache is dropped wholesale when it grows past this many entries.
_KEY_CACHE_LIMIT: Final = 4096
# Distinct short string values remembered per key before the key stops remembering them.
_TEXT_CACHE_LIMIT: Final = 2048
# ... and by all keys of one encoder together (a few MB at most).
_TEXT_BUDGET: Final = 32_768
# Upstream validation caps nesting at 10; past this a value is written as str(value) so
# that a self-containing list cannot recurse without end.
_MAX_DEPTH: Final = 32

# Single-byte varints: nearly every length, enum and small int is below 128.
_SMALL: Final[tuple[bytes, ...]] = tuple(bytes((n,)) for n in range(128))
# Whole AnyValue messages for the commonest scalars.
_SMALL_INTS: Final[tuple[bytes, ...]] = tuple(b"\x18" + bytes((n,)) for n in range(128))
_TRUE: Final = b"\x10\x01"
_FALSE: Final = b"\x10\x00"


# Two-byte varints (128..16383: record and batch-part lengths), built on first use.
_TWO_BYTES: list[bytes | None] = [None] * 0x4000


def _varint(value: int) -> bytes:
    """Unsigned LEB128 of a non-negative ``value`` (negative int64s are wrapped by callers)."""
    if value < 0x80:
        return _SMALL[value]
    if value < 0x4000:
        encoded = _TWO_BYTES[value]
        if encoded is None:
            encoded = _TWO_BYTES[value] = bytes((value & 0x7F | 0x80, value >> 7))
        return encoded
    out = bytearray()
    while value > 0x7F:
        out.append(value & 0x7F | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def _utf8(text: str) -> bytes:
    try:
        return text.encode()
    except UnicodeEncodeError:
        # Lone surrogates: a collector rejects invalid UTF-8, and with it the whole batch.
        return text.encode("utf-8", "replace")


def _delimited(tag: bytes, payload: bytes) -> bytes:
    n = len(payload)
    return tag + (_SMALL[n] if n < 0x80 else _varint(n)) + payload


class _KeyFields:
    """Everything about one key that does not depend on its value, in one context (tag).

    A KeyValue of a scalar is ``tag, size, key field, value tag, AnyValue length, AnyValue``
    where everything but the AnyValue's payload depends only on the key and on the payload's
    length. Those prefixes are built once per key and length, so writing a string attribute
    is ``prefix + utf-8 bytes`` and a double ``prefix + 8 bytes``.
    """

    __slots__ = (
        "budget",
        "double",
        "falsy",
        "ints",
        "key",
        "small_ints",
        "strings",
        "tag",
        "texts",
        "truthy",
    )

    def __init__(self, tag: bytes, key_field: bytes, budget: list[int]) -> None:
        self.tag = tag
        self.key = key_field  # KeyValue.key (left out when empty) and KeyValue.value's tag
        # AnyValue {double_value: 8 bytes} is always 9 bytes long.
        self.double = self.prefix(9) + b"\x21"
        self.truthy = self.prefix(2) + _TRUE
        self.falsy = self.prefix(2) + _FALSE
        self.strings: list[bytes | None] = [None] * 0x80  # by utf-8 length, under 128
        self.small_ints: list[bytes | None] = [None] * 0x80  # whole KeyValues for 0..127
        self.ints: list[bytes | None] = [None] * 11  # by varint length (at most 10 bytes)
        # Whole KeyValues of the short strings this key has had (event names, plans, user
        # ids...): most attribute values repeat. A key whose values do not (event ids,
        # free text) outgrows the table and stops using one.
        self.texts: dict[str, bytes] | None = {}
        self.budget = budget  # [entries left] for all keys of the writer together

    def prefix(self, any_value_length: int) -> bytes:
        """Tag, size, key and value tag of a KeyValue whose AnyValue has this length."""
        length = _varint(any_value_length)
        size = len(self.key) + len(length) + any_value_length
        return self.tag + _varint(size) + self.key + length

    def remember(self, value: str, encoded: bytes) -> None:
        texts = self.texts
        if texts is not None:
            if len(texts) >= _TEXT_CACHE_LIMIT or self.budget[0] <= 0:
                self.texts = None  # values of this key do not repeat enough to be worth it
            else:
                texts[value] = encoded
                self.budget[0] -= 1

    def string(self, n: int) -> bytes:
        """The prefix of a string of ``n`` < 128 utf-8 bytes, up to and including its length."""
        encoded = self.strings[n] = self.prefix(n + 2) + b"\x0a" + _SMALL[n]
        return encoded

    def small_int(self, value: int) -> bytes:
        encoded = self.small_ints[value] = self.prefix(2) + _SMALL_INTS[value]
        return encoded

    def int_prefix(self, n: int) -> bytes:
        """The prefix of an int64 whose varint is ``n`` bytes, up to and including its tag."""
        encoded = self.ints[n] = self.prefix(n + 1) + b"\x18"
        return encoded


class _Writer:
    """Serializes AnyValue trees; owns the per-key caches of one encoder."""

    __slots__ = ("_budget", "_fields", "_flat", "fallbacks")

    def __init__(self, flat: FlatEncoder | None) -> None:
        # A dict of scalars, lists, tuples and small dicts (nearly every body and attribute
        # map) in one C call.
        self._flat = flat
        # Dicts the C writer handed back to this one: zero for every typical event shape
        # (tests/test_encoder_shapes.py), so a change that sends them all down the
        # slow path shows here rather than only as lost throughput.
        self.fallbacks = 0
        # tag -> key -> _KeyFields. Keys repeat from record to record but are user data, so
        # unbounded in principle: a table is dropped wholesale when it grows too large.
        self._fields: dict[bytes, dict[str, _KeyFields]] = {b"\x0a": {}, b"\x32": {}}
        self._budget = [_TEXT_BUDGET]

    def key_fields(self, key: str, tag: bytes) -> _KeyFields:
        table = self._fields[tag]
        if len(table) >= _KEY_CACHE_LIMIT:
            table.clear()
            self._budget = [_TEXT_BUDGET]  # the old tables keep theirs until they are gone
        # A str subclass (a StrEnum member) is written as the text it holds, as the JSON
        # encoder does; anything else as str(key).
        data = _utf8(str.__str__(key) if isinstance(key, str) else str(key))
        # proto3 leaves out an empty string, even as a key.
        key_field = _delimited(b"\x0a", data) + b"\x12" if data else b"\x12"
        fields = _KeyFields(tag, key_field, self._budget)
        if type(key) is str:
            # Only plain strings are cached: 1 == True == 1.0 would share an entry otherwise.
            table[key] = fields
        return fields

    def pairs(self, values: Mapping[str, Any], tag: bytes, parts: list[bytes], depth: int) -> None:
        """Append each ``key: value`` of ``values`` to ``parts`` as a ``tag``-ged KeyValue.

        The hot loop of the encoder: a scalar costs a cache lookup and one or two appends.
        """
        flat = self._flat
        if flat is not None:
            encoded = flat(values, tag, depth)  # type: ignore[arg-type]
            if encoded is not None:
                parts.append(encoded)
                return
            self.fallbacks += 1
        table = self._fields[tag]
        append = parts.append
        for key, value in values.items():
            fields = table.get(key) or self.key_fields(key, tag)
            kind = type(value)
            if kind is str:
                texts = fields.texts
                if texts is not None:
                    known = texts.get(value)
                    if known is not None:
                        append(known)
                        continue
                try:
                    data = value.encode()
                except UnicodeEncodeError:
                    data = value.encode("utf-8", "replace")
                n = len(data)
                if n < 0x80:
                    prefix = fields.strings[n] or fields.string(n)
                    if texts is not None:
                        fields.remember(value, prefix + data)
                    append(prefix)
                    append(data)
                    continue
                encoded = b"\x0a" + _varint(n) + data
            elif kind is int:
                if 0 <= value < 0x80:
                    append(fields.small_ints[value] or fields.small_int(value))
                    continue
                if _INT64_MIN <= value <= _INT64_MAX:
                    digits = _varint(value if value >= 0 else value + _TWO_TO_64)
                    append(fields.ints[len(digits)] or fields.int_prefix(len(digits)))
                    append(digits)
                    continue
                encoded = self.any_value(value, depth)
            elif kind is float:
                append(fields.double)
                append(_pack_double(value))
                continue
            elif kind is bool:
                append(fields.truthy if value else fields.falsy)
                continue
            else:
                encoded = self.any_value(value, depth)
            append(fields.prefix(len(encoded)))
            append(encoded)

    def any_value(self, value: Any, depth: int) -> bytes:
        """The serialized AnyValue message for one Python value."""
        kind = type(value)
        if kind is str:
            return _delimited(b"\x0a", _utf8(value))
        if kind is bool:
            return _TRUE if value else _FALSE
        if kind is int:
            if 0 <= value < 0x80:
                small_int: bytes = _SMALL_INTS[value]
                return small_int
            if _INT64_MIN <= value <= _INT64_MAX:
                return b"\x18" + _varint(value if value >= 0 else value + _TWO_TO_64)
            # Out of int64 range: the decimal digits keep the value instead of wrapping it.
            return _delimited(b"\x0a", str(value).encode())
        if kind is float:
            return b"\x21" + _pack_double(value)  # NaN and infinities are valid doubles
        if value is None:
            return b""  # an empty AnyValue: the value is present but unset
        if isinstance(value, (bool, int, float, str)):
            # A subclass (IntEnum, StrEnum, ...) is written as the value it holds.
            return self.any_value(_plain(value), depth)
        if isinstance(value, (bytes, bytearray, memoryview)):
            return _delimited(b"\x3a", bytes(value))
        if depth >= _MAX_DEPTH:
            return _delimited(b"\x0a", _utf8(str(value)))
        if isinstance(value, Mapping):
            parts: list[bytes] = []
            self.pairs(value, b"\x0a", parts, depth + 1)
            return _delimited(b"\x32", b"".join(parts))
        if isinstance(value, (list, tuple)):
            any_value = self.any_value
            small = _SMALL
            items: list[bytes] = []
            for item in value:
                encoded = any_value(item, depth + 1)
                n = len(encoded)
                items += (b"\x0a", small[n] if n < 0x80 else _varint(n), encoded)
            return _delimited(b"\x2a", b"".join(items))
        return _delimited(b"\x0a", _utf8(str(value)))


def _plain(value: bool | int | float | str) -> bool | int | float | str:
    """The built-in value inside a subclass instance, as the JSON encoder also writes it."""
    if isinstance(value, bool):
        return bool(value)
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value)
    return str.__str__(value)
