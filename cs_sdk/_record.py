"""The in-process forms of one recorded event.

On the caller's thread an event is a ``QueuedEvent``: a plain tuple of ``EventRecord``'s
constructor arguments (the C path packs its dict into it: ``PACKED`` below). Building a
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
# The packed form (the C path, _speedups.c): an event's properties are not queued as a dict
# but as key, value pairs after the 13 fields, the body's slot holding ``PACKED``. A dict
# costs its object and its table (272 bytes for 8 entries, where the pairs cost 128 in the
# tuple), and with the collector down most of a burst waits queued (issue 15,
# bench/held_profile.py). ``record_of`` is the one rule that turns either form into an
# EventRecord; the Python path queues the plain form (the reference: tests/_differential.py
# compares the two through ``record_of``).
QueuedEvent = tuple[Any, ...]
QUEUED_SIZE = 12  # the index of `size` in a QueuedEvent
QUEUED_FIELDS = 13  # a plain QueuedEvent's length; a packed one has its pairs after these
PACKED = ...  # in the body's slot: the properties' pairs follow the fields


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


def _unpack_pairs(queued: QueuedEvent) -> dict[Any, Any]:
    """The packed dict, rebuilt from the pairs after the fields (the reference of the C
    function ``_speedups.unpack_pairs``)."""
    if len(queued) < QUEUED_FIELDS:
        raise ValueError("not a queued event with key, value pairs")
    pairs = iter(queued[QUEUED_FIELDS:])
    return dict(zip(pairs, pairs, strict=True))


def _load_unpack_pairs() -> Callable[[QueuedEvent], dict[Any, Any]]:
    try:
        # By name, as _accelerated.py loads it: an extension has no source to read.
        speedups = importlib.import_module(f"{__package__}._speedups")
    except ImportError:  # not built: only the C path packs, so nothing is packed either
        return _unpack_pairs
    unpack: Callable[[QueuedEvent], dict[Any, Any]] = speedups.unpack_pairs
    return unpack


unpack_pairs = _load_unpack_pairs()


def record_of(queued: QueuedEvent) -> EventRecord:
    """The EventRecord of a queued event, plain or packed (see ``PACKED``)."""
    q = queued
    if len(q) == QUEUED_FIELDS:
        return EventRecord(*q[:QUEUED_SIZE])
    body = unpack_pairs(q)  # q[4] is PACKED
    return EventRecord(q[0], q[1], q[2], q[3], body, q[5], q[6], q[7], q[8], q[9], q[10], q[11])
