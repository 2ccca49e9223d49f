"""Replay: spooled batches sent again, oldest first, one at a time; a part of ``Delivery``.

The batch a replay puts in the sender's hands is a ``Flight`` like a fresh one, with the id
of its row on disk, and ``own`` when this process wrote it (its events are then in this
process's books: ``spool_pending`` while on disk, ``in_flight`` while replayed).
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Final

from .._export._exporter import Exporter, ExportResult
from .._log import warn_once
from .._stats import Stats
from ._sender import Sender

if TYPE_CHECKING:
    from .._spool import Spool

# When everything on disk is leased by other live processes: look again after this long.
_LEASED_RETRY: Final = 1.0


class Flight:
    """A batch in the sender's hands or held for it: fresh (``seq``, its place in the order
    batches were cut), or a spooled one (``batch_id``, ``own``)."""

    __slots__ = ("batch_id", "count", "own", "payload", "seq")

    def __init__(
        self,
        payload: bytes,
        count: int,
        batch_id: int | None = None,
        own: bool = True,
        seq: int = 0,
    ) -> None:
        self.payload = payload
        self.count = count
        self.batch_id = batch_id
        self.own = own  # its events are in this process's books (in_flight)
        self.seq = seq


class Replay:
    """The replaying half of ``Delivery`` (``_delivery.py``), which owns the state below."""

    if TYPE_CHECKING:
        spool: Spool | None
        exporter: Exporter
        in_flight: Flight | None
        backlog: bool
        healthy: bool
        next_probe: float
        next_claim: float
        _stats: Stats
        _sender: Sender
        _stuck: bool
        _export_timeout: float
        _probe_failures: int
        _own: dict[int, int]

        def settle(self) -> None: ...
        def account(self, result: ExportResult, count: int) -> None: ...
        def send_deadline(self) -> float: ...
        def _out_of_time(self) -> bool: ...
        def _mark_unhealthy(self) -> None: ...

    def _release(self, batch_id: int) -> None:
        assert self.spool is not None
        try:
            self.spool.release(batch_id)
        except Exception as error:
            warn_once("spool-error", "cs_sdk: could not update the spool: %s", error)

    def _settle_replay(self, flight: Flight, result: ExportResult) -> None:
        spool = self.spool
        stats = self._stats
        assert spool is not None and flight.batch_id is not None
        if result.retryable:
            self._release(flight.batch_id)
            self._mark_unhealthy()
            if flight.own:  # back on disk
                stats.begin()
                stats.in_flight -= flight.count
                stats.spool_pending += flight.count
                self._own[flight.batch_id] = flight.count
                stats.end()
            return
        try:
            # Delivered, or refused for good (a 400 will not get better): either way it leaves.
            spool.ack(flight.batch_id)
        except Exception as error:
            warn_once("spool-error", "cs_sdk: could not update the spool: %s", error)
        self.healthy = True
        self._probe_failures = 0
        if result.delivered:
            stats.count("replayed", result.delivered)
        if flight.own:
            self.account(result, flight.count)
        elif flight.count - result.delivered:
            stats.count("replay_dropped", flight.count - result.delivered)

    def spool_has_backlog(self) -> bool:
        try:
            return self.spool is not None and self.spool.pending()[0] > 0
        except Exception:
            return False

    def replay(self) -> bool:
        """Start sending the oldest spooled batch, if the collector may take it now.

        One batch at a time, through the sender like any other: the worker goes on draining
        the queue meanwhile, and comes back here when the sender wakes it. Returns True when
        the spool was found empty (flushes waiting for it may be resolved).
        """
        spool = self.spool
        if spool is None or not self.backlog or self._stuck:
            return False
        now = time.monotonic()
        if (not self.healthy and now < self.next_probe) or now < self.next_claim:
            return False
        if self.in_flight is not None:
            if not self._sender.finished:
                return False
            self.settle()
            if not self.healthy or not self.backlog:
                return False
        if self._out_of_time():
            return False
        try:
            batch = spool.claim()
        except Exception as error:
            warn_once("spool-error", "cs_sdk: could not read the spool: %s", error)
            self._mark_unhealthy()
            return False
        if batch is None and self.spool_has_backlog():
            # Leased by another process that is sending it (or will, once its lease ends):
            # not delivered yet, so flushes keep waiting; look again in a while.
            self.next_claim = time.monotonic() + _LEASED_RETRY
            return False
        if batch is None:
            self.backlog = False
            return True
        own = self._own.pop(batch.id, None) is not None
        if own:
            self._stats.begin()
            self._stats.spool_pending -= batch.records
            self._stats.in_flight += batch.records
            self._stats.end()
        deadline = min(time.monotonic() + self._export_timeout, self.send_deadline())
        send = self.exporter.send

        def replay() -> ExportResult:
            return send(
                batch.payload,
                batch.records,
                deadline,
                content_type=batch.content_type,
                gzip=batch.content_encoding == "gzip",
                retry=False,
            )

        self.in_flight = Flight(batch.payload, batch.records, batch.id, own)
        self._sender.start(replay, batch.records)
        return False

    def finish_replay(self) -> None:
        """At shutdown: replay what the budget allows (the rest waits on disk for next time)."""
        while self.spool is not None and self.backlog and self.healthy and not self._stuck:
            if self._out_of_time():
                return
            self.replay()
            if self.in_flight is None:
                return
            self.settle()
