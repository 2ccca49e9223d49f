"""The batching pipeline: a bounded queue on the caller's side, one worker thread on the other.

The parts: ``_queue.py`` (the caller's side: bounded queue, flush markers), the batcher here
(drain the queue, run the enrichment chain, encode, cut batches by count and by encoded
size), ``_delivery.py`` (the batch in flight, the spool circuit, replay, the books of each
batch), ``_sender.py`` (the thread that POSTs), and this module's thin loop and lifecycle.
The worker drains the queue every ``schedule_delay`` or when woken; while a batch is in flight
it goes on encoding the next. Flush requests travel through the same queue, so a flush is
resolved exactly when everything queued before it has been exported.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Final

from .._export._encoding import Encoder
from .._export._exporter import Exporter, ExportResult
from .._log import logger, warn_once
from .._processors import ProcessorChain
from .._record import QUEUED_SIZE, QueuedEvent, record_of
from .._stats import DropReason, Stats
from ._delivery import Delivery
from ._pacing import YIELD_EVERY, Pacer
from ._queue import EventQueue, FlushRequest
from ._sender import Sender

if TYPE_CHECKING:
    from .._spool import Spool

__all__ = ["BatchPipeline", "FlushRequest"]

# A request still in flight this long before the end of shutdown's budget is aborted, so that
# the worker can notice and stop within the budget; it then gets _ABORT_SLACK past the end.
_ABORT_GRACE: Final = 0.2
_ABORT_SLACK: Final = 0.1


class BatchPipeline:
    """Bounded queue + worker thread + exporter: the path from ``submit()`` to the collector."""

    submit: Callable[[QueuedEvent], bool]  # the queue's own method: no call in between
    _events: EventQueue

    def __init__(
        self,
        *,
        stats: Stats,
        chain: ProcessorChain,
        encoder: Encoder,
        make_exporter: Callable[[threading.Event], Exporter],
        max_queue_size: int,
        max_export_batch_size: int,
        max_export_batch_bytes: int,
        schedule_delay: float,
        export_timeout: float,
        max_queue_bytes: int,
        spool: Spool | None = None,
    ) -> None:
        self._stats = stats
        self._spool = spool
        self._chain = chain
        self._encoder = encoder
        self._make_exporter = make_exporter
        self._max_queue_size = max_queue_size
        self._max_queue_bytes = max_queue_bytes
        self._batch_size = max_export_batch_size
        self._batch_bytes = max_export_batch_bytes
        self._schedule_delay = schedule_delay
        self._export_timeout = export_timeout
        self._start()

    def _start(self) -> None:
        # Everything a fork could leave in a bad state is created here, so the child of a
        # fork gets fresh locks, a fresh connection pool and an empty queue.
        self._wake = threading.Event()
        if hasattr(self, "_events"):  # a forked child: callers hold the queue's submit
            self._events.reset(self._wake)
        else:
            self._events = EventQueue(
                self._stats,
                max_size=self._max_queue_size,
                max_bytes=self._max_queue_bytes,
                batch_size=self._batch_size,
                wake=self._wake,
            )
            self.submit = self._events.submit
        self._queue = self._events.items
        self._interrupt = threading.Event()
        self._lifecycle_lock = threading.Lock()
        self._closed = False
        self._stopping = False
        self._lost_at_last_flush = self._stats.lost_total()
        self._pending: list[bytes] = []
        self._pending_bytes = 0
        # Flushes waiting for their batches (the seq of the last batch cut before each).
        self._waiting_flushes: list[tuple[int, FlushRequest]] = []
        self._sender = Sender(on_done=self._wake.set)
        self._delivery = Delivery(
            stats=self._stats,
            exporter=self._make_exporter(self._interrupt),
            spool=self._spool,
            sender=self._sender,
            export_timeout=self._export_timeout,
            under_pressure=self._events.under_pressure,
            hold=self._events.hold,
        )
        self._pacer = Pacer(
            self._events,
            self._stats,
            self._max_queue_size,
            self._max_queue_bytes,
            taking=self._delivery.taking,
        )
        self._thread = threading.Thread(target=self._run, name="cs_sdk.worker", daemon=True)
        self._thread.start()

    # -- caller's side -------------------------------------------------------------------

    def queued(self) -> int | None:
        """None: the stats' books know (``Stats.snapshot`` derives ``queued``)."""
        return None

    def flush(self, timeout: float) -> bool:
        """Wait until everything queued before the call is exported; True if all delivered."""
        if self._closed or not self._thread.is_alive():
            return False
        request = FlushRequest()
        self._events.mark(request)
        if request.done.wait(timeout):
            return request.ok
        request.abandoned = True
        return False

    def shutdown(self, timeout: float) -> bool:
        """Export what is queued within ``timeout`` seconds, then stop. Idempotent.

        True only when nothing was lost since the previous flush (which reported earlier
        losses) and nothing of this process is left in memory or on disk: False when
        anything could not be delivered. Whatever happens, every event is accounted for
        (sent, dropped by reason, or on disk) when it returns.
        """
        with self._lifecycle_lock:
            if self._closed:
                return True
            self._closed = True
        self._events.closed = True
        budget = max(timeout, 0.0)
        deadline = time.monotonic() + budget
        lost_before = self._lost_at_last_flush
        delivery = self._delivery
        # The last part of the budget is kept for writing what is left to disk (with a spool)
        # or counting it (without one), after the batch in flight is given up.
        delivery.spool_reserve = min(0.25 * budget, 0.5) if self._spool else min(0.1 * budget, 0.05)
        delivery.shutdown_deadline = deadline
        delivery.stopping = True
        self._stopping = True
        self._pacer.stopping = True
        # Retry sleeps end now; each remaining batch gets one attempt within the budget.
        self._interrupt.set()
        self._wake.set()
        # A request that started before the shutdown has the normal timeout: it is aborted
        # this long before the send deadline, so that the worker still ends within the budget.
        grace = min(_ABORT_GRACE, 0.2 * budget)
        self._thread.join(max(delivery.send_deadline() - grace - time.monotonic(), 0.0))
        if self._thread.is_alive():
            delivery.exporter.abort()  # a black hole: cut the request, really
            self._thread.join(max(deadline - time.monotonic(), 0.0) + _ABORT_SLACK)
        if self._thread.is_alive():
            # The worker is stuck outside a send (a hung before_send, a locked disk): count
            # what it has not taken; what it holds stays in flight in the books.
            self._discard_queue("shutdown_timeout", pending=False)
        delivery.exporter.close()
        if self._spool is not None and not self._thread.is_alive():
            self._spool.close()
        self._sender.stop()
        snapshot = self._stats.snapshot()
        return (
            self._stats.lost_total() == lost_before
            and snapshot["queued"] == 0
            and snapshot["in_flight"] == 0
            and snapshot["spool_pending"] == 0
        )

    # -- worker's side -------------------------------------------------------------------

    def _run(self) -> None:
        delivery = self._delivery
        try:
            while True:
                self._wake.wait(self._wait_time())
                self._wake.clear()
                # Read before draining: a shutdown that begins while a drain is under way
                # (blocked in a send) still gets one full drain of what was queued before it.
                stopping = self._stopping
                delivery.pump()
                self._drain()
                delivery.pump()
                self._replay()
                self._resolve_ready()
                if stopping:
                    self._export_pending()
                    delivery.finish_held()
                    delivery.finish_replay()
                    delivery.settle()
                    self._resolve_ready()
                    break
        except Exception:  # a bug here must not kill the host; say so once
            logger.exception("cs_sdk: the export worker failed; events are no longer sent")
        finally:
            self._discard_queue("shutdown_timeout" if self._stopping else "internal_error")

    def _drain(self) -> None:
        queue = self._queue
        events = self._events
        stats = self._stats
        delivery = self._delivery
        chain_run = self._chain.run
        encode = self._encoder.encode_event
        look = self._pacer.look
        countdown = YIELD_EVERY
        fresh = 0  # items still queued that were queued before the last chain.refresh()
        while True:
            countdown -= 1
            if not countdown:
                countdown = YIELD_EVERY
                look()  # yield the GIL, or back off during a burst (_pacing.py)
            if self._stopping:
                now = time.monotonic()
                if now >= delivery.shutdown_deadline:
                    return
                if self._spool is not None and now >= delivery.send_deadline():
                    delivery.healthy = False  # out of time to send: the rest goes to disk
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
                # Resolved once every batch cut so far is settled (and the spool drained:
                # delivered means delivered), without the worker waiting for it.
                self._export_pending()
                delivery.pump()
                self._waiting_flushes.append((delivery.cut, item))
                self._resolve_ready()
                continue
            events.bytes_out += item[QUEUED_SIZE]  # type: ignore[index]
            # Taken and in flight in one move; a step that drops it counts the drop inside
            # the same bracket, so stats() never sees it twice.
            stats.version += 1
            stats.taken += 1
            stats.in_flight += 1
            try:
                record = chain_run(record_of(item))  # type: ignore[arg-type]
            except BaseException:
                stats.drop("internal_error")
                stats.in_flight -= 1
                stats.version += 1
                raise
            if record is None:
                stats.in_flight -= 1
                stats.version += 1
                continue
            stats.version += 1
            try:
                fragment = encode(record)
            except Exception:
                stats.begin()
                stats.drop("internal_error")
                stats.in_flight -= 1
                stats.end()
                warn_once("encode", "cs_sdk: an event could not be encoded and was dropped")
                logger.debug("encoding failed for %r", record, exc_info=True)
                continue
            if self._pending and self._pending_bytes + len(fragment) > self._batch_bytes:
                self._export_pending()
            self._pending.append(fragment)
            self._pending_bytes += len(fragment)
            if len(self._pending) >= self._batch_size:
                self._export_pending()
        if delivery.in_flight is None or self._stopping:
            self._export_pending()
        # Else the partial batch stays open: it is cut when full, or when the sender is free
        # (its end wakes the worker); small held batches would compress worse.

    def _export_pending(self) -> None:
        fragments = self._pending
        if not fragments:
            return
        self._pending = []
        self._pending_bytes = 0
        delivery = self._delivery
        try:
            payload = delivery.exporter.prepare(self._encoder.encode_request(fragments))
        except Exception:
            logger.debug("encoding a batch failed", exc_info=True)
            delivery.account(ExportResult(0, len(fragments), "internal_error"), len(fragments))
            return
        delivery.deliver(payload, len(fragments))
        if self._waiting_flushes:
            self._resolve_ready()  # a long drain must not hold back a flush already delivered

    def _replay(self) -> None:
        if self._delivery.replay():
            self._resolve_ready()

    def _resolve_ready(self) -> None:
        """Resolve the flushes whose batches are all settled, oldest first."""
        waiting = self._waiting_flushes
        delivery = self._delivery
        while waiting and not delivery.backlog and delivery.oldest_unsettled() > waiting[0][0]:
            self._resolve(waiting.pop(0)[1])

    def _wait_time(self) -> float:
        delivery = self._delivery
        if delivery.in_flight is not None and not self._sender.finished:
            return self._schedule_delay  # the sender wakes the worker when the send is over
        if delivery.backlog and not self._stopping:
            due = max(delivery.next_probe, delivery.next_claim)
            return max(0.0, min(self._schedule_delay, due - time.monotonic()))
        return self._schedule_delay

    def _resolve(self, request: FlushRequest) -> None:
        self._pacer.flushes_done += 1
        if request.abandoned:
            request.done.set()
            return
        lost = self._stats.lost_total()
        request.ok = lost == self._lost_at_last_flush
        self._lost_at_last_flush = lost
        request.done.set()

    def _discard_queue(self, reason: DropReason, *, pending: bool = True) -> None:
        """Count what can no longer be sent; release anyone waiting on a flush."""
        stats = self._stats
        delivery = self._delivery
        if pending and delivery.in_flight is not None and self._sender.finished:
            delivery.settle()  # it ended while the worker was failing: count what it says
        waiting, self._waiting_flushes = self._waiting_flushes, []
        for _, request in waiting:
            request.done.set()  # not ok: the spool still holds events
        dropped = 0
        while True:
            try:
                item = self._queue.popleft()
            except IndexError:
                break
            if type(item) is FlushRequest:
                item.done.set()
                continue
            stats.begin()
            stats.taken += 1
            stats.drop(reason)
            stats.end()
            dropped += 1
        if pending:
            dropped += sum(flight.count for flight in delivery.held)
            delivery.release_held(reason)
        if pending and self._pending:
            count = len(self._pending)
            self._pending = []
            self._pending_bytes = 0
            stats.begin()
            stats.in_flight -= count
            stats.drop(reason, count)
            stats.end()
            dropped += count
        if dropped:
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
        self._stats.forget_unsettled()
        self._start()
