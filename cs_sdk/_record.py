"""The in-process forms of one recorded event.

On the caller's thread an event is a ``QueuedEvent``: a plain tuple of ``EventRecord``'s
constructor arguments (the C path packs its id and dict into it: the packed form below). Building a
tuple is the cheapest thing Python can build (part of the caller's 5 µs budget). The C path
leaves the tuple, and the nested values it copied when they hold no list, out of the garbage
collector's walks (_speedups.c), so a long queue of such events costs full collections
nothing; on the Python path the collector untracks a tuple only once nothing in it is
tracked. The worker turns each into an ``EventRecord`` (``record_of``) just before the
enrichment steps; everything expensive (typed-event serialisation, pilot tags, redaction,
``before_send``, OTLP mapping, encoding) happens there.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from .events import is_event
from .events._schema import SchemaRef

if TYPE_CHECKING:
    from .events._base import Event

# (event_id, time_unix_nano, schema, name, body, attributes, user_id, account_id, session_id,
#  trace_id, span_id, trace_flags, size): EventRecord's parameters, in order, then the
# estimated bytes the event holds, which only the queue's byte bound needs.
#
# The packed form (the C path, _speedups.c; the plain form's slots reused):
#   0  the *stamp*: time_unix_nano * 2**64 + the low 64 bits of the sequence number, one int
#      (the id is the layout's prefix and those bits as 16 hex digits, what
#      ``hex(_id_base + seq)[2:]`` gives on the Python path);
#   4  the *layout*: ``(id prefix, key, key, ...)``, shared by every queued event of the
#      client with those property keys in that order (no keys: no properties, body None);
#   5  the attribute keys (feedback's, outcome's), a tuple shared per combination, or None;
#   7  the *context*: ``(account_id, session_id, trace_id, span_id, trace_flags)``, shared
#      by consecutive events with the same ones;
#   2, 3, 6, 12 as in the plain form (schema, name, user_id, size);
#   1, 8-11 and after the 13 fields: the properties' values, then the attributes' values
#      (``packed_at``), None in the slots left over. A property's value that is a dict is
#      packed too: a tuple ``(layout, value, ...)``, its layout ``(Ellipsis, key, ...)``
#      shared as the event's is (a property's value is never a tuple otherwise: the
#      validator sends a tuple as a list).
# Per queued event this holds the values only: no dicts (a dict's object and table cost 184
# bytes for 3 entries, 272 for 8, where its values cost 8 each here), one slot for five
# context ones, and one int of 48 bytes (3.11, with the allocator's rounding) where the plain
# form holds a time int of 48 and an id str of 88: with the collector down most of a burst
# waits queued (issue 15, bench/queued_memory.py, bench/held_profile.py). The prefix in the
# layout keeps the form self-contained: any pipeline (a capture, a forked child's fresh
# queue) reads it without knowing the client. ``record_of`` is the one rule that turns
# either form into an EventRecord; the Python path queues the plain form (the reference:
# tests/_differential.py compares the two through ``record_of``), and so does the C path for
# a typed event queued as its instance.
QueuedEvent = tuple[Any, ...]
QUEUED_SIZE = 12  # the index of `size` in a QueuedEvent
QUEUED_FIELDS = 13  # a plain QueuedEvent's length; a packed one has its values after these
QUEUED_BODY = 4  # the index of the body, or of a packed event's layout (a tuple)
QUEUED_ATTRIBUTES = 5  # the attributes, or a packed event's attribute keys (a tuple or None)
QUEUED_CONTEXT = 7  # a packed event's context tuple
_IN_FIELDS = 5  # a packed event's first values, in slots 1 and 8-11
_LOW_BITS = (1 << 64) - 1


def packed_length(values: int) -> int:
    """The length of a packed event with ``values`` values (properties' and attributes')."""
    return QUEUED_FIELDS + max(0, values - _IN_FIELDS)


def packed_at(value: int) -> int:
    """Where a packed event holds its value number ``value``."""
    if value == 0:
        return 1
    return 7 + value if value < _IN_FIELDS else 8 + value


class EventRecord:
    """One event on its way to the collector."""

    __slots__ = (
        "account_id",
        "attributes",
        "body",
        "event_id",
        "name",
        "pilots",
        "schema",
        "session_id",
        "span_id",
        "time_unix_nano",
        "trace_flags",
        "trace_id",
        "user_id",
    )

    def __init__(
        self,
        event_id: str,
        time_unix_nano: int,
        schema: SchemaRef,
        name: str,
        body: dict[str, Any] | Event | None,
        attributes: dict[str, Any] | None,
        user_id: str | None,
        account_id: str | None,
        session_id: str | None,
        trace_id: int,
        span_id: int,
        trace_flags: int,
    ) -> None:
        self.event_id = event_id
        self.time_unix_nano = time_unix_nano
        self.schema = schema
        # A typed event queued as its instance (not a plain class's, events/_plain.py: that
        # one comes as its fields) has `name` filled and `body` turned into a dict on the worker.
        self.name = name
        self.body = body
        self.attributes = attributes
        self.user_id = user_id
        self.account_id = account_id
        self.session_id = session_id
        self.trace_id = trace_id
        self.span_id = span_id
        self.trace_flags = trace_flags
        # (pilot id, cohort) pairs, added on the worker by the pilot tagging step.
        self.pilots: tuple[tuple[str, str | None], ...] = ()

    def resolve_typed_body(self) -> None:
        """Serialise a typed event's model into name, body and first-class attributes."""
        body = self.body
        if is_event(body):
            self.name, self.body, extra = body.wire_fields()
            if extra:
                self.attributes = {**extra, **(self.attributes or {})}

    def __repr__(self) -> str:
        return (
            f"EventRecord({self.schema.name!r}, {self.name!r}, event_id={self.event_id!r}, "
            f"user_id={self.user_id!r}, account_id={self.account_id!r})"
        )


Unpacked = tuple[str, int, "dict[Any, Any] | None", "dict[Any, Any] | None"]


def _unpacked_value(value: Any) -> Any:
    """A property's value as the Python path queues it: a packed dict rebuilt."""
    if type(value) is not tuple:
        return value
    layout = value[0] if value else None
    if type(layout) is not tuple or len(layout) != len(value):
        raise ValueError("not a packed dict")
    return dict(zip(layout[1:], value[1:], strict=True))


def _unpack(queued: QueuedEvent) -> Unpacked:
    """The event id, time, body and attributes of a packed queued event (the reference of the
    C function ``_speedups.unpack``)."""
    long_enough = len(queued) >= QUEUED_FIELDS
    layout = queued[QUEUED_BODY] if long_enough else None
    keys = queued[QUEUED_ATTRIBUTES] if long_enough else None
    attributes = 0 if keys is None else len(keys) if type(keys) is tuple else -1
    if (
        type(layout) is not tuple
        or not layout
        or attributes < 0
        or packed_length(len(layout) - 1 + attributes) != len(queued)
        or type(layout[0]) is not str
        or not layout[0].isascii()
        or not isinstance(queued[0], int)
    ):
        raise ValueError("not a packed queued event")
    stamp, values = queued[0], len(layout) - 1
    event_id = f"{layout[0]}{stamp & _LOW_BITS:016x}"
    body = (
        {key: _unpacked_value(queued[packed_at(i)]) for i, key in enumerate(layout[1:])}
        if values
        else None
    )
    attrs = {key: queued[packed_at(values + i)] for i, key in enumerate(keys)} if keys else None
    return event_id, stamp >> 64, body, attrs


def _load_unpack() -> Callable[[QueuedEvent], Unpacked]:
    try:
        # By name, as _accelerated.py loads it: an extension has no source to read.
        speedups = importlib.import_module(f"{__package__}._speedups")
    except ImportError:  # not built: only the C path packs, so nothing is packed either
        return _unpack
    unpack_c: Callable[[QueuedEvent], Unpacked] = speedups.unpack
    return unpack_c


unpack = _load_unpack()


def record_of(queued: QueuedEvent) -> EventRecord:
    """The EventRecord of a queued event, plain or packed (see ``QUEUED_BODY``)."""
    q = queued
    if type(q[QUEUED_BODY]) is not tuple:  # the plain form: a dict, an Event or None
        return EventRecord(*q[:QUEUED_SIZE])
    event_id, time_unix_nano, body, attributes = unpack(q)
    account_id, session_id, trace_id, span_id, flags = q[QUEUED_CONTEXT]
    return EventRecord(
        event_id,
        time_unix_nano,
        q[2],
        q[3],
        body,
        attributes,
        q[6],
        account_id,
        session_id,
        trace_id,
        span_id,
        flags,
    )
