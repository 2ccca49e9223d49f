"""The batching pipeline: a bounded queue on the caller's side, one worker thread on the other.

The caller's side is ``submit()``: a length and a bytes check and a ``deque.append`` (atomic
under the GIL), plus a wake-up only when a full batch is waiting. No lock is shared with the
worker. The queue is bounded by count (``max_queue_size``) and by the estimated memory its
events hold (``max_queue_bytes``); past either bound new events are dropped and counted. With
a spool, the worker moves batches to disk once the queue is half full, so that a burst the
collector cannot take in time waits on disk rather than being dropped.
The worker drains the queue every ``schedule_delay`` or when woken, runs the enrichment chain,
maps and encodes each record, cuts batches by count and by encoded size, and hands them to
the sender thread (``_sender.py``) one at a time: while a batch is in flight the worker goes
on encoding the next. Flush requests travel through the same queue, so a flush is resolved
exactly when everything queued before it has been exported.
"""

from __future__ import annotations

import math
import random
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING, Final

from .._export._encoding import Encoder
from .._export._exporter import ExportResult, OtlpHttpExporter
from .._log import logger, warn_once
from .._processors import ProcessorChain
from .._record import QUEUED_SIZE, EventRecord, QueuedEvent
from ._sender import Sender
from ._stats import Stats

if TYPE_CHECKING:
    from .._spool import Spool

# A request still in flight this long before the end of shutdown's budget is aborted, so that
# the worker can notice and stop within the budget; it then gets _ABORT_SLACK past the end.
_ABORT_GRACE: Final = 0.2
_ABORT_SLACK: Final = 0.02
# With a spool, a failing batch goes to disk after this long instead of blocking the queue.
_SPOOL_AFTER: Final = 2.0
_PROBE_INITIAL: Final = 0.5
_PROBE_MAX: Final = 30.0
# With a spool, how often the worker waiting for the batch in flight checks the queue's size.
_PRESSURE_POLL: Final = 0.005
_LEASED_RETRY: Final = 1.0
# The worker encodes in pure Python, holding the GIL; an application thread that wants it
# would wait up to the interpreter's switch interval (5 ms). Releasing it every this many
# records bounds that wait to the time these records take (~0.4 ms).
_YIELD_EVERY: Final = 64


class FlushRequest:
    """A marker in the queue; resolved by the worker once everything before it is exported."""

    __slots__ = ("abandoned", "done", "ok")

    def __init__(self) -> None:
        self.done = threading.Event()
        self.ok = False
        # The caller stopped waiting (timeout): its answer no longer tells anyone anything,
        # so resolving it must not move the loss baseline of the flushes that follow.
        self.abandoned = False


class _Flight:
    """The batch in the sender's hands: fresh from the queue, or a spooled one (``batch_id``)."""

    __slots__ = ("batch_id", "count", "payload")

    def __init__(self, payload: bytes, count: int, batch_id: int | None = None) -> None:
        self.payload = payload
        self.count = count
        self.batch_id = batch_id


class BatchPipeline:
    """Bounded queue + worker thread + exporter: the path from ``submit()`` to the collector."""

    def __init__(
        self,
        *,
        stats: Stats,
        chain: ProcessorChain,
        encoder: Encoder,
        make_exporter: Callable[[threading.Event], OtlpHttpExporter],
        max_queue_size: int,
        max_export_batch_size: int,
        max_export_batch_bytes: int,
        schedule_delay: float,
        export_timeout: float,
        max_queue_bytes: int = 128 * 1024 * 1024,
        spool: Spool | None = None,
    ) -> None:
        self._stats = stats
        self._spool = spool
        self._chain = chain
        self._encoder = encoder
        self._make_exporter = make_exporter
        self._max_queue_size = max_queue_size
        self._max_queue_bytes = max_queue_bytes
        # With a spool, batches go to disk instead of the collector above these marks.
        self._spill_size = max_queue_size // 2
        self._spill_bytes = max_queue_bytes // 2
        self._batch_size = max_export_batch_size
        self._batch_bytes = max_export_batch_bytes
        self._schedule_delay = schedule_delay
        self._export_timeout = export_timeout
        self._start()

    def _start(self) -> None:
        # Everything a fork could leave in a bad state is created here, so the child of a
        # fork gets fresh locks, a fresh connection pool and an empty queue.
        self._queue: deque[QueuedEvent | FlushRequest] = deque()
        # Estimated bytes ever queued, by the callers, and ever taken out, by the worker: their
        # difference is what the queue holds. Each has a single kind of writer; `+=` on an int
        # attribute is not interrupted by a thread switch on a GIL build (no call in between).
        self._bytes_in = 0
        self._bytes_out = 0
        self._wake = threading.Event()
        self._interrupt = threading.Event()
        self._lifecycle_lock = threading.Lock()
        self._closed = False
        self._stopping = False
        self._shutdown_deadline = math.inf
        self._spool_reserve = 0.0
        self._lost_at_last_flush = self._stats.lost_total()
        self._pending: list[bytes] = []
        self._pending_bytes = 0
        # Circuit state for the spool: while the collector is failing, batches go straight to
        # disk and one spooled batch probes the collector now and then.
        self._healthy = True
        self._probe_failures = 0
        self._next_probe = 0.0
        # When everything on disk is leased by other live processes: look again at this time.
        self._next_claim = 0.0
        self._spool_backlog = self._spool is not None and self._spool_has_backlog()
        self._waiting_flushes: list[FlushRequest] = []
        self._exporter = self._make_exporter(self._interrupt)
        self._sender = Sender(on_done=self._wake.set)
        # The batch in the sender's hands, kept to spool it (or release it) if it fails.
        self._in_flight: _Flight | None = None
        self._thread = threading.Thread(target=self._run, name="cs_sdk.worker", daemon=True)
        self._thread.start()

    # -- caller's side -------------------------------------------------------------------

    def submit(self, queued: QueuedEvent) -> bool:
        """Queue an event; False (and counted) when the queue is full or the client closed."""
        queue = self._queue
        if (
            len(queue) >= self._max_queue_size
            or self._bytes_in - self._bytes_out >= self._max_queue_bytes
            or self._closed
        ):
            self._stats.drop("queue_full")
            warn_once(
                "queue_full",
                "cs_sdk: the event queue is full (%d events or %d MiB); new events are dropped. "
                "Is the collector reachable? See client.stats().",
                self._max_queue_size,
                self._max_queue_bytes >> 20,
            )
            return False
        queue.append(queued)
        self._bytes_in += queued[QUEUED_SIZE]
        if len(queue) >= self._batch_size and not self._wake.is_set():
            self._wake.set()
        return True

    def queued(self) -> int:
        return sum(1 for item in list(self._queue) if type(item) is tuple)

    def flush(self, timeout: float) -> bool:
        """Wait until everything queued before the call is exported; True if all delivered."""
        if self._closed or not self._thread.is_alive():
            return False
        request = FlushRequest()
        self._queue.append(request)
        self._wake.set()
        if request.done.wait(timeout):
            return request.ok
        request.abandoned = True
        return False

    def shutdown(self, timeout: float) -> bool:
        """Export what is queued within ``timeout`` seconds, then stop. Idempotent."""
        with self._lifecycle_lock:
            if self._closed:
                return True
            self._closed = True
        deadline = time.monotonic() + max(timeout, 0.0)
        lost_before = self._stats.lost_total()
        # With a spool, the last part of the budget is kept for writing what is left to disk.
        self._spool_reserve = min(0.25 * max(timeout, 0.0), 0.5)
        self._shutdown_deadline = deadline
        self._stopping = True
        # Retry sleeps end now; each remaining batch gets one attempt within the budget.
        self._interrupt.set()
        self._wake.set()
        # A request that started before the shutdown has the normal timeout: it is aborted
        # this long before the deadline, so that the worker still ends within the budget.
        grace = min(_ABORT_GRACE, 0.2 * max(timeout, 0.0))
        self._thread.join(max(deadline - grace - time.monotonic(), 0.0))
        if self._thread.is_alive():
            # A request still in flight (a black-hole collector): abort it.
            self._exporter.close()
            self._thread.join(max(deadline - time.monotonic(), 0.0) + _ABORT_SLACK)
            self._discard_queue("shutdown_timeout", pending=False)
        else:
            self._exporter.close()
            if self._spool is not None:
                self._spool.close()
        self._sender.stop()
        return self._stats.lost_total() == lost_before

    # -- worker's side -------------------------------------------------------------------

    def _run(self) -> None:
        try:
            while True:
                self._wake.wait(self._wait_time())
                self._wake.clear()
                # Read before draining: a shutdown that begins while a drain is under way
                # (blocked in a send) still gets one full drain of what was queued before it.
                stopping = self._stopping
                if self._sender.finished:
                    self._settle()
                self._drain()
                self._replay()
                if stopping:
                    self._finish_replay()
                    self._settle()
                    break
        except Exception:  # a bug here must not kill the host; say so once
            logger.exception("cs_sdk: the export worker failed; events are no longer sent")
        finally:
            self._discard_queue("shutdown_timeout" if self._stopping else "internal_error")

    def _drain(self) -> None:
        queue = self._queue
        chain_run = self._chain.run
        encode = self._encoder.encode_event
        countdown = _YIELD_EVERY
        fresh = 0  # items still queued that were queued before the last chain.refresh()
        while True:
            countdown -= 1
            if not countdown:
                countdown = _YIELD_EVERY
                time.sleep(0)  # let a waiting application thread take the GIL
            if self._stopping:
                now = time.monotonic()
                if now >= self._shutdown_deadline:
                    return
                if self._spool is not None and now >= self._send_deadline():
                    self._healthy = False  # out of time to send: the rest goes to disk
            try:
                item = queue.popleft()
            except IndexError:
                break
            if fresh <= 0:
                # Shared state (pilot tags, opt-outs) is re-checked before events recorded
                # after the last check: once per batch, however long the queue keeps filling.
                self._chain.refresh()
                fresh = len(queue) + 1
            fresh -= 1
            if type(item) is FlushRequest:
                self._export_pending()
                self._settle()
                if self._spool_backlog:
                    # Delivered means delivered: the flush waits for the spool to drain.
                    self._waiting_flushes.append(item)
                else:
                    self._resolve(item)
                continue
            self._bytes_out += item[QUEUED_SIZE]  # type: ignore[index]
            record = chain_run(EventRecord(*item[:QUEUED_SIZE]))  # type: ignore[index]
            if record is None:
                continue
            try:
                fragment = encode(record)
            except Exception:
                self._stats.drop("internal_error")
                warn_once("encode", "cs_sdk: an event could not be encoded and was dropped")
                logger.debug("encoding failed for %r", record, exc_info=True)
                continue
            if self._pending and self._pending_bytes + len(fragment) > self._batch_bytes:
                self._export_pending()
            self._pending.append(fragment)
            self._pending_bytes += len(fragment)
            if len(self._pending) >= self._batch_size:
                self._export_pending()
        self._export_pending()

    def _export_pending(self) -> None:
        fragments = self._pending
        if not fragments:
            return
        self._pending = []
        self._pending_bytes = 0
        try:
            payload = self._exporter.prepare(self._encoder.encode_request(fragments))
        except Exception:
            logger.debug("encoding a batch failed", exc_info=True)
            self._account(ExportResult(0, len(fragments), "internal_error"))
            return
        self._deliver(payload, len(fragments))

    def _deliver(self, payload: bytes, count: int) -> None:
        spool = self._spool
        if spool is not None:
            if self._spool_backlog or not self._healthy:
                # Keep delivery in order: once anything waits on disk, new batches go behind it.
                self._to_spool(payload, count)
                return
            while self._in_flight is not None and not self._sender.wait_finished(_PRESSURE_POLL):
                if self._under_pressure():
                    # The queue fills faster than the collector takes it: to disk, not waiting.
                    self._to_spool(payload, count)
                    return
            self._settle()
            if self._spool_backlog or not self._healthy:  # the batch in flight was spooled
                self._to_spool(payload, count)
                return
        else:
            self._settle()  # one batch in flight per endpoint
        budget = self._export_timeout if spool is None else min(self._export_timeout, _SPOOL_AFTER)
        deadline = min(time.monotonic() + budget, self._send_deadline())
        send = self._exporter.send
        self._in_flight = _Flight(payload, count)
        self._sender.start(lambda: send(payload, count, deadline), count)

    def _settle(self) -> None:
        """Wait for the batch in flight, if any, and account for its fate."""
        flight = self._in_flight
        if flight is None:
            return
        result = self._sender.wait()
        self._in_flight = None
        if flight.batch_id is not None:
            self._settle_replay(flight.batch_id, result)
            return
        if self._spool is not None and result.retryable:
            self._count_retries()
            self._mark_unhealthy()
            self._to_spool(flight.payload, flight.count)
            return
        self._account(result)

    def _settle_replay(self, batch_id: int, result: ExportResult) -> None:
        spool = self._spool
        assert spool is not None
        try:
            if result.retryable:
                spool.release(batch_id)
                self._mark_unhealthy()
                return
            # Delivered, or refused for good (a 400 will not get better): either way it leaves.
            spool.ack(batch_id)
        except Exception as error:
            warn_once("spool-error", "cs_sdk: could not update the spool: %s", error)
        self._healthy = True
        self._probe_failures = 0
        if result.delivered:
            self._stats.count("replayed", result.delivered)
        self._account(result)

    def _under_pressure(self) -> bool:
        """The queue is filling faster than the collector takes it: spill to disk."""
        return (
            len(self._queue) > self._spill_size
            or self._bytes_in - self._bytes_out > self._spill_bytes
        )

    def _send_deadline(self) -> float:
        """Sends during shutdown end early enough to leave time to spool what is left."""
        if self._spool is None or self._shutdown_deadline == math.inf:
            return self._shutdown_deadline
        return self._shutdown_deadline - self._spool_reserve

    def _to_spool(self, payload: bytes, count: int) -> None:
        assert self._spool is not None
        exporter = self._exporter
        try:
            dropped = self._spool.append(
                payload, count, exporter.content_type, exporter.content_encoding
            )
        except Exception as error:
            self._stats.drop("spool_error", count)
            warn_once("spool-error", "cs_sdk: could not write to the spool: %s", error)
            return
        self._spool_backlog = True
        self._stats.count("spooled", count)
        if dropped:
            self._stats.drop("spool_full", dropped)
            warn_once(
                "spool_full",
                "cs_sdk: the spool is full; its oldest events are dropped (%d so far)",
                dropped,
            )

    def _mark_unhealthy(self) -> None:
        self._healthy = False
        self._probe_failures += 1
        # Full jitter, capped: many app servers must not probe a recovering collector at once.
        backoff = min(_PROBE_MAX, _PROBE_INITIAL * 2 ** min(self._probe_failures, 10))
        self._next_probe = time.monotonic() + random.uniform(0, backoff)

    def _wait_time(self) -> float:
        if self._in_flight is not None and not self._sender.finished:
            return self._schedule_delay  # the sender wakes the worker when the send is over
        if self._spool_backlog and not self._stopping:
            due = max(self._next_probe, self._next_claim)
            return max(0.0, min(self._schedule_delay, due - time.monotonic()))
        return self._schedule_delay

    def _spool_has_backlog(self) -> bool:
        try:
            return self._spool is not None and self._spool.pending()[0] > 0
        except Exception:
            return False

    def _replay(self) -> None:
        """Start sending the oldest spooled batch, if the collector may take it now.

        One batch at a time, through the sender like any other: the worker goes on draining
        the queue meanwhile, and comes back here when the sender wakes it.
        """
        spool = self._spool
        if spool is None or not self._spool_backlog:
            return
        now = time.monotonic()
        if (not self._healthy and now < self._next_probe) or now < self._next_claim:
            return
        if self._in_flight is not None:
            if not self._sender.finished:
                return
            self._settle()
            if not self._healthy or not self._spool_backlog:
                return
        if self._stopping and time.monotonic() >= self._send_deadline():
            return
        try:
            batch = spool.claim()
        except Exception as error:
            warn_once("spool-error", "cs_sdk: could not read the spool: %s", error)
            self._mark_unhealthy()
            return
        if batch is None and self._spool_has_backlog():
            # Leased by another process that is sending it (or will, once its lease ends):
            # not delivered yet, so flushes keep waiting; look again in a while.
            self._next_claim = time.monotonic() + _LEASED_RETRY
            return
        if batch is None:
            self._spool_backlog = False
            waiting, self._waiting_flushes = self._waiting_flushes, []
            for request in waiting:
                self._resolve(request)
            return
        deadline = min(time.monotonic() + self._export_timeout, self._send_deadline())
        send = self._exporter.send

        def replay() -> ExportResult:
            return send(
                batch.payload,
                batch.records,
                deadline,
                content_type=batch.content_type,
                gzip=batch.content_encoding == "gzip",
                retry=False,
            )

        self._in_flight = _Flight(batch.payload, batch.records, batch.id)
        self._sender.start(replay, batch.records)

    def _finish_replay(self) -> None:
        """At shutdown: replay what the budget allows (the rest waits on disk for next time)."""
        while self._spool is not None and self._spool_backlog and self._healthy:
            if time.monotonic() >= self._send_deadline():
                return
            self._replay()
            if self._in_flight is None:
                return
            self._settle()

    def _count_retries(self) -> None:
        retries = self._exporter.take_retry_count()
        if retries:
            self._stats.count("retried", retries)

    def _account(self, result: ExportResult) -> None:
        stats = self._stats
        self._count_retries()
        if result.delivered:
            stats.count("sent", result.delivered)
            stats.count("batches_sent")
            stats.count("bytes_sent", result.wire_bytes)
        if result.failed and result.reason is not None:
            stats.count("export_failures")
            reason = result.reason
            if self._stopping and result.retryable:
                reason = "shutdown_timeout"
            stats.drop(reason, result.failed)

    def _resolve(self, request: FlushRequest) -> None:
        if request.abandoned:
            request.done.set()
            return
        lost = self._stats.lost_total()
        request.ok = lost == self._lost_at_last_flush
        self._lost_at_last_flush = lost
        request.done.set()

    def _discard_queue(self, reason: str, *, pending: bool = True) -> None:
        """Count what can no longer be sent; release anyone waiting on a flush."""
        dropped = 0
        if pending and self._in_flight is not None and self._sender.finished:
            self._settle()  # it ended while the worker was failing: count what it says
        waiting, self._waiting_flushes = self._waiting_flushes, []
        for request in waiting:
            request.done.set()  # not ok: the spool still holds events
        while True:
            try:
                item = self._queue.popleft()
            except IndexError:
                break
            if type(item) is FlushRequest:
                item.done.set()
            else:
                dropped += 1
        if pending and self._pending:
            dropped += len(self._pending)
            self._pending = []
            self._pending_bytes = 0
        if dropped:
            self._stats.drop(reason, dropped)  # type: ignore[arg-type]
            warn_once(
                f"discard:{reason}",
                "cs_sdk: %d events could not be sent before shutdown (%s)",
                dropped,
                reason,
            )

    def reinit_after_fork(self) -> None:
        """In a forked child: forget the parent's queue and thread, start afresh."""
        if self._spool is not None:
            self._spool.reopen_after_fork()
        self._start()
