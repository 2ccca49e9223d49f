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
# The packed form (the C path, _speedups.c): the body's slot holds a *layout*, a tuple
# ``(id prefix, key, key, ...)`` shared by every queued event of the client with those
# property keys in that order; the id's slot holds the event's sequence number (an int), the
# id being the prefix and the number's low 64 bits as 16 hex digits (what
# ``hex(_id_base + seq)[2:]`` gives on the Python path); slot 7 holds the *context*, a tuple
# ``(account_id, session_id, trace_id, span_id, trace_flags)`` shared by consecutive events
# with the same ones; the properties' values fill slots 8-11 (None where there are fewer than
# four) and follow the 13 fields (``packed_at``). A layout of no keys is an event without
# properties (body None). Per queued event this holds the values only (no dict: its object
# and table cost 272 bytes for 8 entries, the pairs that replaced it 128, the values alone
# 64), one slot for five context ones, and an int of 32 bytes instead of an id str of 88
# (3.11): with the collector down most of a burst waits queued (issue 15,
# bench/queued_memory.py, bench/held_profile.py). The prefix in the layout keeps the form
# self-contained: any pipeline (a capture, a forked child's fresh queue) reads it without
# knowing the client. ``record_of`` is the one rule that turns either form into an
# EventRecord; the Python path queues the plain form (the reference: tests/_differential.py
# compares the two through ``record_of``), and so does the C path for a typed event queued
# as its instance.
QueuedEvent = tuple[Any, ...]
QUEUED_SIZE = 12  # the index of `size` in a QueuedEvent
QUEUED_FIELDS = 13  # a plain QueuedEvent's length; a packed one has its values after these
QUEUED_BODY = 4  # the index of the body, or of a packed event's layout (a tuple)
QUEUED_CONTEXT = 7  # a packed event's context tuple
_IN_FIELDS = 4  # a packed event's first values, in slots 8-11
_LOW_BITS = (1 << 64) - 1


def packed_length(values: int) -> int:
    """The length of a packed event with ``values`` property values."""
    return QUEUED_FIELDS + max(0, values - _IN_FIELDS)


def packed_at(value: int) -> int:
    """Where a packed event holds its property value number ``value``."""
    return 8 + value if value < _IN_FIELDS else 9 + value


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


def _unpack(queued: QueuedEvent) -> tuple[str, dict[Any, Any] | None]:
    """The event id and the body of a packed queued event (the reference of the C function
    ``_speedups.unpack``)."""
    layout = queued[QUEUED_BODY] if len(queued) >= QUEUED_FIELDS else None
    if (
        type(layout) is not tuple
        or not layout
        or packed_length(len(layout) - 1) != len(queued)
        or type(layout[0]) is not str
        or not layout[0].isascii()
        or not isinstance(queued[0], int)
    ):
        raise ValueError("not a packed queued event")
    event_id = f"{layout[0]}{queued[0] & _LOW_BITS:016x}"
    if len(layout) == 1:
        return event_id, None
    return event_id, {key: queued[packed_at(i)] for i, key in enumerate(layout[1:])}


def _load_unpack() -> Callable[[QueuedEvent], tuple[str, dict[Any, Any] | None]]:
    try:
        # By name, as _accelerated.py loads it: an extension has no source to read.
        speedups = importlib.import_module(f"{__package__}._speedups")
    except ImportError:  # not built: only the C path packs, so nothing is packed either
        return _unpack
    unpack_c: Callable[[QueuedEvent], tuple[str, dict[Any, Any] | None]] = speedups.unpack
    return unpack_c


unpack = _load_unpack()


def record_of(queued: QueuedEvent) -> EventRecord:
    """The EventRecord of a queued event, plain or packed (see ``QUEUED_BODY``)."""
    q = queued
    if type(q[QUEUED_BODY]) is not tuple:  # the plain form: a dict, an Event or None
        return EventRecord(*q[:QUEUED_SIZE])
    event_id, body = unpack(q)
    account_id, session_id, trace_id, span_id, flags = q[QUEUED_CONTEXT]
    return EventRecord(
        event_id,
        q[1],
        q[2],
        q[3],
        body,
        q[5],
        q[6],
        account_id,
        session_id,
        trace_id,
        span_id,
        flags,
    )
