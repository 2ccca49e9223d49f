"""The enrichment chain run on the worker: small steps with one signature.

Each step is ``(record) -> record | None``; ``None`` drops the event and is counted under the
step's drop reason. Steps run before serialisation and before the spool, so a redaction step
sees the event before anything leaves the process or touches disk.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from ._log import logger, warn_once
from ._record import EventRecord
from ._stats import DropReason, Stats

Processor = Callable[[EventRecord], "EventRecord | None"]


@dataclass(frozen=True, slots=True)
class Step:
    """A named processor and the reason its drops are counted under."""

    name: str
    process: Processor
    drop_reason: DropReason


def resolve_typed_body(record: EventRecord) -> EventRecord:
    """Turn a typed event's model into its wire name, body and attributes."""
    record.resolve_typed_body()
    return record


class ProcessorChain:
    """Runs steps in order; a step that raises drops the event, logged once per step."""

    def __init__(self, stats: Stats, steps: list[Step] | None = None) -> None:
        self._stats = stats
        self._steps: list[Step] = list(steps or [])
        self._refreshers: list[Callable[[], None]] = []

    def add_refresher(self, refresher: Callable[[], None]) -> None:
        """Run ``refresher`` before each batch (see :meth:`refresh`)."""
        self._refreshers = [*self._refreshers, refresher]

    def refresh(self) -> None:
        """Called by the worker before the events queued by now: steps that cache shared
        state (pilot tags, opt-outs) check the store's change marker here, once per batch
        and never on the caller's thread. A refresher that raises is logged once."""
        for refresher in self._refreshers:
            try:
                refresher()
            except Exception:
                warn_once("processor:refresh", "cs_sdk: refreshing shared state failed")
                logger.debug("refresher %r failed", refresher, exc_info=True)

    def add(self, step: Step, *, first: bool = False) -> None:
        # Replaced wholesale so the worker iterating the old list is never disturbed.
        self._steps = [step, *self._steps] if first else [*self._steps, step]

    def run(self, record: EventRecord) -> EventRecord | None:
        current: EventRecord | None = record
        for step in self._steps:
            try:
                current = step.process(record)
            except Exception:
                warn_once(
                    f"processor:{step.name}",
                    "cs_sdk: the %r step raised; the event was dropped",
                    step.name,
                )
                logger.debug("processor %r failed", step.name, exc_info=True)
                current = None
            if current is None:
                self._stats.drop(step.drop_reason)
                return None
            record = current
        return current
