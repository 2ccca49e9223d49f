"""The caller's side of the pipeline: a bounded queue of events and flush markers.

``submit()`` is the hot path: a length and a bytes check and a ``deque.append`` (atomic under
the GIL), plus a wake-up only when a full batch is waiting. No lock is shared with the
worker. The queue is bounded by count (``max_queue_size``) and by the estimated memory its
events hold (``max_queue_bytes``, every byte an event holds: ids, name and properties); past
either bound new events are dropped and counted as ``queue_full``.
"""

from __future__ import annotations

import threading
from collections import deque

from .._log import warn_once
from .._record import QUEUED_SIZE, QueuedEvent
from .._stats import Stats


class FlushRequest:
    """A marker in the queue; resolved by the worker once everything before it is exported."""

    __slots__ = ("abandoned", "done", "ok")

    def __init__(self) -> None:
        self.done = threading.Event()
        self.ok = False
        # The caller stopped waiting (timeout): its answer no longer tells anyone anything,
        # so resolving it must not move the loss baseline of the flushes that follow.
        self.abandoned = False


class EventQueue:
    """Events waiting for the worker, bounded by count and by bytes."""

    # Slots: the C accelerator reads and writes them by offset (queue_submit in _speedups.c),
    # a load each where a __dict__ costs a lookup each, on every recorded event.
    __slots__ = (
        "_batch_size",
        "_max_bytes",
        "_max_size",
        "_spill_bytes",
        "_spill_size",
        "_stats",
        "_wake",
        "bytes_in",
        "bytes_out",
        "closed",
        "held",
        "items",
        "marks",
    )

    def __init__(
        self,
        stats: Stats,
        *,
        max_size: int,
        max_bytes: int,
        batch_size: int,
        wake: threading.Event,
    ) -> None:
        self._stats = stats
        self._max_size = max_size
        self._max_bytes = max_bytes
        self._batch_size = batch_size
        # With a spool, batches go to disk instead of the collector above these marks.
        self._spill_size = max_size // 2
        self._spill_bytes = max_bytes // 2
        self.reset(wake)

    def reset(self, wake: threading.Event) -> None:
        """Empty, open, waking ``wake`` (a forked child: the same object, since callers hold
        its bound ``submit``)."""
        self.items: deque[QueuedEvent | FlushRequest] = deque()
        self._wake = wake
        # Estimated bytes ever queued, by the callers, and ever taken out, by the worker: their
        # difference is what the queue holds. Each has a single kind of writer; `+=` on an int
        # attribute is not interrupted by a thread switch on a GIL build (no call in between).
        self.bytes_in = 0
        self.bytes_out = 0
        # Events in batches the worker holds for the collector (its single writer); their
        # bytes are taken back out of `bytes_out`, so `bytes_in - bytes_out` counts them too.
        self.held = 0
        self.marks = 0  # flush markers put in so far (the worker backs off while none waits)
        self.closed = False

    def submit(self, queued: QueuedEvent) -> bool:
        """Queue an event; False (and counted) when the queue is full or the client closed."""
        items = self.items
        if (
            len(items) + self.held >= self._max_size
            or self.bytes_in - self.bytes_out >= self._max_bytes
            or self.closed
        ):
            self._stats.drop("queue_full")
            warn_once(
                "queue_full",
                "cs_sdk: the event queue is full (%d events or %d MiB); new events are dropped. "
                "Is the collector reachable? See client.stats().",
                self._max_size,
                self._max_bytes >> 20,
            )
            return False
        items.append(queued)
        self.bytes_in += queued[QUEUED_SIZE]
        if len(items) >= self._batch_size and not self._wake.is_set():
            self._wake.set()
        return True

    def mark(self, request: FlushRequest) -> None:
        """Put a flush marker behind everything queued so far."""
        self.items.append(request)
        self.marks += 1
        self._wake.set()

    def hold(self, events: int, nbytes: int) -> None:
        """The worker now holds ``events`` more events in encoded batches of ``nbytes`` more
        bytes (negative: released); called by the worker only."""
        self.held += events
        self.bytes_out -= nbytes

    def waiting(self) -> tuple[int, int]:
        """(events, bytes) waiting in memory: queued, and held in encoded batches."""
        return len(self.items) + self.held, self.bytes_in - self.bytes_out

    def under_pressure(self) -> bool:
        """Filling faster than the collector takes it: with a spool, spill to disk."""
        events, nbytes = self.waiting()
        return events > self._spill_size or nbytes > self._spill_bytes

    def events(self) -> int:
        """Events waiting (flush markers not counted)."""
        return sum(1 for item in list(self.items) if type(item) is tuple)
