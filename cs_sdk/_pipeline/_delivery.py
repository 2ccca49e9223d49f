"""Delivery: the batch in flight, the spool circuit, replay, and the books of each batch.

One batch is in flight at a time (per endpoint, as the OTLP specification asks), sent by the
``Sender`` thread so the worker goes on encoding meanwhile. The batches encoded while one is
in flight wait in ``held``, in order, as the compressed payloads they will be sent as: the
worker never waits for the collector, so events do not pile up in the queue as Python
objects while it is slow or down (a held event costs its share of a gzipped batch, 50-70
bytes, where a queued one costs ~350-1,400 bytes of tuple and values; bench/held_memory.py).
Held batches count against the queue's bounds (``EventQueue.hold``): by events towards
``max_queue_size`` and by their exact size towards ``max_queue_bytes``. Their events are
``in_flight`` in the books. Without a spool a batch that fails is counted under its reason
and the next held one is sent. With a spool:

* a batch that fails (retryable) goes to disk, and the circuit opens: later batches go
  straight to disk behind it, in order, and one spooled batch probes the collector now and
  then (jittered backoff, capped);
* held batches are spilled to disk, oldest first, when the queue and the held batches together
  pass half their bounds, and behind a failed batch (order is kept);
* spooled batches are replayed oldest first, one at a time, through the same sender
  (``_replay.py``).

Every move of events between the books' entries (``in_flight``, ``spool_pending``, the
outcome counters) happens inside a ``stats.begin()/end()`` bracket, so that ``stats()`` never
sees an event twice or not at all. Batches this process wrote to disk are its own (it keeps
their ids): their events stay in its books while on disk. Batches found on disk, from an
earlier run or another process, are accounted on their own side (``replayed``,
``replay_dropped``).

At shutdown the batch in flight is bounded: the pipeline aborts its request, and if it has
still not ended when its time is up, the worker stops waiting for it and spools it (or
counts it as ``shutdown_timeout``) before ``shutdown()`` returns.
"""

from __future__ import annotations

import math
import random
import time
from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING, Final

from .._export._exporter import Exporter, ExportResult
from .._log import warn_once
from .._stats import DropReason, Stats
from ._replay import Flight, Replay
from ._sender import Sender

if TYPE_CHECKING:
    from .._spool import Spool

# With a spool, a failing batch goes to disk after this long instead of blocking the queue.
_SPOOL_AFTER: Final = 2.0
_PROBE_INITIAL: Final = 0.5
_PROBE_MAX: Final = 30.0
# How often a worker waiting for the batch in flight checks whether shutdown's time is up.
_STOP_POLL: Final = 0.02
# A delivery older than this says nothing about the collector now (a black hole, a
# collector far too slow, or nothing sent yet): the worker stops backing off to find out.
_KNOWN: Final = 2.0


class Delivery(Replay):
    """Sends batches, spools and replays them, and keeps their books."""

    def __init__(
        self,
        *,
        stats: Stats,
        exporter: Exporter,
        spool: Spool | None,
        sender: Sender,
        export_timeout: float,
        under_pressure: Callable[[], bool],
        hold: Callable[[int, int], None],
    ) -> None:
        self._stats = stats
        self.exporter = exporter
        self.spool = spool
        self._sender = sender
        self._export_timeout = export_timeout
        self._under_pressure = under_pressure
        self._hold = hold  # (events, bytes) now held (negative: no longer), for the bounds
        self.in_flight: Flight | None = None
        # Fresh batches encoded while another is in flight, oldest first (see the docstring).
        self.held: deque[Flight] = deque()
        self.cut = 0  # the seq of the last fresh batch handed to deliver()
        # The sender still runs a batch given up at shutdown: nothing more is sent.
        self._stuck = False
        # Circuit state for the spool: while the collector is failing, batches go straight to
        # disk and one spooled batch probes the collector now and then.
        self.healthy = True
        self._probe_failures = 0
        self.next_probe = 0.0
        # When everything on disk is leased by other live processes: look again at this time.
        self.next_claim = 0.0
        self.backlog = spool is not None and self.spool_has_backlog()
        # Batches this process wrote to disk and that are still there: id -> records.
        self._own: dict[int, int] = {}
        self.stopping = False
        self.shutdown_deadline = math.inf
        self.spool_reserve = 0.0
        # The collector refused or failed the last batch, or the one in flight was retried
        # (set by the sender's thread): cleared when a batch is delivered whole.
        self.refusing = False
        self._delivered_at = -math.inf  # when a batch was last delivered whole

    # -- sending -------------------------------------------------------------------------

    def deliver(self, payload: bytes, count: int) -> None:
        """Send a fresh batch (its ``count`` events are in flight), hold it, or spool it."""
        self.cut += 1
        flight = Flight(payload, count, seq=self.cut)
        if self._stuck:
            self._lose_or_spool(flight)
            return
        if self.spool is not None and (self.backlog or not self.healthy):
            # Keep delivery in order: once anything waits on disk, new batches go behind it.
            self.to_spool(payload, count)
            return
        self.pump()  # the batch in flight may be over (no wait): the oldest held one next
        if self._stuck or (self.spool is not None and (self.backlog or not self.healthy)):
            self._lose_or_spool(flight)  # it failed: behind it, in order
            return
        if self.in_flight is None:
            self._start(flight)
            return
        # Decision (issue 15): never wait for the collector here. The batch waits, compressed,
        # behind the one in flight; the worker goes on taking events out of the queue.
        self.held.append(flight)
        self._hold(count, len(payload))
        if self.spool is not None and self._under_pressure():
            self.spill_held()  # filling faster than the collector takes it: to disk

    def pump(self) -> None:
        """Settle the batch in flight if it is over, then start the next held one; no wait."""
        if self.in_flight is not None:
            if not self._sender.finished:
                return
            self.settle()
        if self.in_flight is None and self.held and not self._stuck:
            flight = self.held.popleft()
            self._hold(-flight.count, -len(flight.payload))
            self._start(flight)

    def finish_held(self) -> None:
        """At shutdown: send the held batches while the budget allows; spool or count the rest."""
        while True:
            self.settle()
            if not self.held:
                return
            if self._stuck or self._out_of_time():
                self.release_held(None)
                return
            self.pump()

    def release_held(self, reason: DropReason | None) -> None:
        """Every held batch leaves memory: to disk (``reason`` None, with a spool), or counted
        as dropped under ``reason`` (or ``shutdown_timeout`` without a spool)."""
        while self.held:
            flight = self.held.popleft()
            self._hold(-flight.count, -len(flight.payload))
            if reason is None:
                self._lose_or_spool(flight)
            else:
                self._stats.begin()
                self._stats.in_flight -= flight.count
                self._stats.drop(reason, flight.count)
                self._stats.end()

    def spill_held(self) -> None:
        """With a spool: every held batch to disk, oldest first (later batches go behind)."""
        if self.spool is not None:
            self.release_held(None)

    def oldest_unsettled(self) -> float:
        """The seq of the oldest fresh batch whose fate is not known yet (inf: none)."""
        flight = self.in_flight
        if flight is not None and flight.batch_id is None:
            return flight.seq
        return self.held[0].seq if self.held else math.inf

    def taking(self) -> bool:
        """The collector is taking batches, as far as the worker knows now: a batch was
        delivered whole less than ``_KNOWN`` s ago, none failed or was retried since, and the
        spool's circuit is closed. The pacer backs off only then (``_pacing.py``)."""
        if self.refusing or not self.healthy:
            return False
        return time.monotonic() - self._delivered_at < _KNOWN

    def _start(self, flight: Flight) -> None:
        budget = (
            self._export_timeout if self.spool is None else min(self._export_timeout, _SPOOL_AFTER)
        )
        deadline = min(time.monotonic() + budget, self.send_deadline())
        send = self.exporter.send
        on_retry = self._count_retry
        payload, count = flight.payload, flight.count
        self.in_flight = flight
        self._sender.start(lambda: send(payload, count, deadline, on_retry=on_retry), count)

    def _count_retry(self) -> None:
        self.refusing = True
        self._stats.count("retried")

    def _lose_or_spool(self, flight: Flight) -> None:
        if self.spool is not None:
            self.to_spool(flight.payload, flight.count)
        else:
            self.account(ExportResult(0, flight.count, "shutdown_timeout", True), flight.count)

    def _out_of_time(self) -> bool:
        return self.stopping and time.monotonic() >= self.send_deadline()

    def send_deadline(self) -> float:
        """Sends during shutdown end early enough to leave time to spool what is left."""
        if self.shutdown_deadline == math.inf:
            return math.inf
        return self.shutdown_deadline - self.spool_reserve

    def settle(self) -> None:
        """Wait for the batch in flight, if any, and account for its fate.

        While shutting down the wait is bounded: past the send deadline the batch is given up
        (spooled, or counted as ``shutdown_timeout``) even if its request has not ended.
        """
        flight = self.in_flight
        if flight is None:
            return
        sender = self._sender
        while not sender.wait_finished(_STOP_POLL):
            if self._out_of_time():
                self._give_up(flight)
                return
        result = sender.wait()
        self.in_flight = None
        self.refusing = result.delivered < flight.count
        if not self.refusing:
            self._delivered_at = time.monotonic()
        if flight.batch_id is not None:
            self._settle_replay(flight, result)
            return
        if self.spool is not None and result.retryable:
            # Not "could not deliver": the batch is safe on disk and is sent later.
            warn_once(
                "export-to-spool",
                "cs_sdk: the collector did not take a batch (%s); batches wait in the spool "
                "and are sent when it answers",
                result.message or result.reason,
            )
            self._mark_unhealthy()
            self.to_spool(flight.payload, flight.count)
            self.spill_held()  # in order: the held batches go behind it
            return
        self.account(result, flight.count)

    def _give_up(self, flight: Flight) -> None:
        """Shutdown's time is up and the request has not ended (a black hole)."""
        self.in_flight = None
        self._stuck = True
        self.healthy = False
        if flight.batch_id is None:
            self._lose_or_spool(flight)
            self.release_held(None)  # nothing more is sent: behind it, in order
            return
        # A replayed batch is still on disk (leased); it goes back to the books' disk side.
        self._release(flight.batch_id)
        if flight.own:
            self._stats.begin()
            self._stats.in_flight -= flight.count
            self._stats.spool_pending += flight.count
            self._own[flight.batch_id] = flight.count
            self._stats.end()

    def account(self, result: ExportResult, count: int) -> None:
        """``count`` of this process's events leave the flight: delivered or dropped."""
        stats = self._stats
        failed = count - result.delivered
        reason = result.reason or "internal_error"
        if self.stopping and result.retryable:
            reason = "shutdown_timeout"
        if failed and reason == "shutdown_timeout":
            warn_once(
                "discard:shutdown_timeout",
                "cs_sdk: %d events could not be sent before shutdown (%s)",
                failed,
                reason,
            )
        elif failed and self.spool is None and result.retryable:
            warn_once(
                "export-gave-up",
                "cs_sdk: could not deliver a batch of %d events: %s",
                count,
                result.message or reason,
            )
        stats.begin()
        stats.in_flight -= count
        if result.delivered:
            stats.count("sent", result.delivered)
            stats.count("batches_sent")
            stats.count("bytes_sent", result.wire_bytes)
        if failed:
            stats.count("export_failures")
            stats.drop(reason, failed)
        stats.end()

    # -- the spool -----------------------------------------------------------------------

    def to_spool(self, payload: bytes, count: int) -> None:
        """Write ``count`` of this process's in-flight events to disk (or count the failure)."""
        spool = self.spool
        assert spool is not None
        exporter = self.exporter
        stats = self._stats
        try:
            stored = spool.store(payload, count, exporter.content_type, exporter.content_encoding)
        except Exception as error:
            warn_once("spool-error", "cs_sdk: could not write to the spool: %s", error)
            self.account(ExportResult(0, count, "spool_error"), count)
            return
        if stored is None:  # larger than the whole spool
            self.account(ExportResult(0, count, "spool_full"), count)
            return
        batch_id, evicted = stored
        self.backlog = True
        own_lost = 0
        stats.begin()
        stats.in_flight -= count
        stats.spool_pending += count
        stats.count("spooled", count)
        self._own[batch_id] = count
        for old_id, records in evicted:
            mine = self._own.pop(old_id, None)
            if mine is None:
                stats.count("replay_dropped", records)
            else:
                own_lost += mine
                stats.spool_pending -= mine
                stats.drop("spool_full", mine)
        stats.end()
        if evicted:
            warn_once(
                "spool_full",
                "cs_sdk: the spool is full; its oldest events are dropped (%d so far)",
                sum(records for _, records in evicted),
            )
        if not self.stopping:
            return
        warn_once(
            "spooled-at-shutdown",
            "cs_sdk: %d events are kept on disk in the spool; they are sent at the next start",
            count,
        )

    def _mark_unhealthy(self) -> None:
        self.healthy = False
        self._probe_failures += 1
        # Full jitter, capped: many app servers must not probe a recovering collector at once.
        backoff = min(_PROBE_MAX, _PROBE_INITIAL * 2 ** min(self._probe_failures, 10))
        self.next_probe = time.monotonic() + random.uniform(0, backoff)
