"""Test helpers: see exactly what the SDK would send, without a collector.

    from cs_sdk.testing import capture

    with capture() as events:
        cs_sdk.milestone("first_report_created", user_id="u1")
    assert events[0].name == "first_report_created"

Captured events went through the same validation, identity, enrichment, ``before_send`` and
OTLP mapping as real ones; only the network is left out. The pytest plugin offers the same
as the ``cs_events`` fixture.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from . import _api
from ._attributes import FEEDBACK_COMMENT, FEEDBACK_SCORE
from ._client import Client, NullPipeline
from ._config import Config
from ._export._mapping import (
    ACCOUNT_ID,
    EVENT_ID,
    EVENT_NAME,
    PILOT_COHORTS,
    PILOT_IDS,
    SCHEMA_NAME,
    SCHEMA_VERSION,
    SESSION_ID,
    USER_ID,
    to_otlp,
)
from ._export._otlp_types import OtlpLogRecord
from ._processors import ProcessorChain
from ._record import QueuedEvent, record_of
from ._stats import Stats

__all__ = ["CapturedEvent", "CapturedEvents", "capture"]


@dataclass(frozen=True)
class CapturedEvent:
    """One event as it would be sent: the OTLP record plus convenient accessors."""

    name: str
    schema_name: str
    schema_version: str
    event_id: str
    user_id: str | None
    account_id: str | None
    session_id: str | None
    properties: dict[str, Any]
    attributes: dict[str, Any]
    pilots: dict[str, str | None]
    trace_id: str
    span_id: str
    time_unix_nano: int
    record: OtlpLogRecord = field(repr=False)

    @classmethod
    def from_otlp(cls, record: OtlpLogRecord) -> CapturedEvent:
        attributes = dict(record.attributes)
        pilot_ids = attributes.get(PILOT_IDS) or []
        cohorts = attributes.get(PILOT_COHORTS) or []
        body = record.body
        return cls(
            name=str(attributes[EVENT_NAME]),
            schema_name=str(attributes[SCHEMA_NAME]),
            schema_version=str(attributes[SCHEMA_VERSION]),
            event_id=str(attributes[EVENT_ID]),
            user_id=attributes.get(USER_ID),  # type: ignore[arg-type]
            account_id=attributes.get(ACCOUNT_ID),  # type: ignore[arg-type]
            session_id=attributes.get(SESSION_ID),  # type: ignore[arg-type]
            properties=dict(body) if isinstance(body, dict) else {},
            attributes=attributes,
            pilots={str(p): (str(c) or None) for p, c in zip(pilot_ids, cohorts, strict=False)},  # type: ignore[arg-type]
            trace_id=record.trace_id.hex(),
            span_id=record.span_id.hex(),
            time_unix_nano=record.time_unix_nano,
            record=record,
        )

    @property
    def score(self) -> int | None:
        """The feedback score, for feedback events."""
        value = self.attributes.get(FEEDBACK_SCORE)
        return value if isinstance(value, int) else None

    @property
    def comment(self) -> str | None:
        """The feedback comment (after redaction), for feedback events."""
        value = self.attributes.get(FEEDBACK_COMMENT)
        return value if isinstance(value, str) else None


class CapturedEvents(list[CapturedEvent]):
    """The captured events in recording order, with a few lookups."""

    def names(self) -> list[str]:
        return [event.name for event in self]

    def named(self, name: str) -> list[CapturedEvent]:
        return [event for event in self if event.name == name]


class CapturePipeline(NullPipeline):
    """A pipeline that runs the enrichment chain and the mapping synchronously into a list."""

    def __init__(
        self, chain: ProcessorChain, sink: CapturedEvents, stats: Stats | None = None
    ) -> None:
        self._chain = chain
        self._sink = sink
        # With the client's stats, its books (docs/reliability.md) stay balanced: a captured
        # event is taken and delivered (to the capture) in one move.
        self._stats = stats

    def submit(self, queued: QueuedEvent) -> bool:
        stats = self._stats
        if stats is None:
            self._capture(queued)
            return True
        stats.begin()
        try:
            stats.taken += 1
            if self._capture(queued):
                stats.count("sent")
            return True
        except Exception:
            stats.drop("internal_error")
            raise
        finally:
            stats.end()

    def _capture(self, queued: QueuedEvent) -> bool:
        processed = self._chain.run(record_of(queued))
        if processed is None:
            return False
        self._sink.append(CapturedEvent.from_otlp(to_otlp(processed)))
        return True

    def queued(self) -> int | None:
        # With the books, everything submitted was taken at once: they derive it (0).
        return None if self._stats is not None else 0


@contextmanager
def capture(client: Client | None = None, **options: Any) -> Iterator[CapturedEvents]:
    """Collect the events recorded inside the block instead of sending them.

    With ``client``, that client's events are captured. Without it, the global client's are
    (its options, ``before_send`` included, still apply); when there is no global client a
    temporary one built from ``options`` stands in for the duration of the block.
    """
    events = CapturedEvents()
    target = client if client is not None else (None if options else _api.get_client())
    if target is not None:
        saved = target._swap_pipeline(CapturePipeline(target.processors, events, target._stats))
        try:
            yield events
        finally:
            target._swap_pipeline(saved)
        return

    def factory(config: Config, stats: Stats, chain: ProcessorChain) -> CapturePipeline:
        return CapturePipeline(chain, events, stats)

    options.setdefault("service_name", "test")
    temporary = Client(_pipeline_factory=factory, environ={}, **options)
    previous = _api._set_client(temporary)
    try:
        yield events
    finally:
        _api._set_client(previous)
        temporary.shutdown()
