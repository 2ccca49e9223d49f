"""The sender: one thread that POSTs one batch at a time, so the worker never waits on I/O.

    sender = Sender(on_done=wake.set)
    sender.start(lambda: exporter.send(payload, count, deadline), count)  # returns at once
    ...                                      # the worker encodes the next batch meanwhile
    result = sender.wait()                   # the ExportResult, once the send is over
    sender.stop()

While a batch is in flight the worker goes on draining the queue and encoding; when the next
batch is ready it either waits for this one (one batch in flight per endpoint, as the OTLP
specification asks) or, when the queue is filling up and a spool exists, writes it to disk.
Retry sleeps happen here too, cut short by the exporter's interrupt event at shutdown.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from .._export._exporter import ExportResult
from .._log import logger

__all__ = ["Sender"]

Send = Callable[[], ExportResult]


class Sender:
    """Runs one send (a callable returning an ExportResult) at a time on a daemon thread."""

    def __init__(self, on_done: Callable[[], None]) -> None:
        self._on_done = on_done
        self._job: tuple[Send, int] | None = None
        self._result: ExportResult | None = None
        self._has_job = threading.Event()
        self._done = threading.Event()
        self._done.set()
        self._stopped = False
        self._thread = threading.Thread(target=self._run, name="cs_sdk.sender", daemon=True)
        self._thread.start()

    @property
    def finished(self) -> bool:
        """The batch in flight is over: ``wait()`` returns at once."""
        return self._done.is_set()

    def start(self, send: Send, count: int) -> None:
        """Run ``send`` (for a batch of ``count`` records) in the background; not when busy."""
        assert self._job is None, "one batch in flight at a time"
        self._job = (send, count)
        self._done.clear()
        self._has_job.set()

    def wait_finished(self, timeout: float) -> bool:
        """Wait up to ``timeout`` seconds for the batch in flight to end; True once it has."""
        return self._done.wait(timeout)

    def wait(self) -> ExportResult:
        """The result of the batch in flight, once it is over (clearing it for the next)."""
        self._done.wait()
        result, self._result, self._job = self._result, None, None
        assert result is not None, "wait() without a batch in flight"
        return result

    def stop(self) -> None:
        """End the thread once the batch in flight (if any) is over."""
        self._stopped = True
        self._has_job.set()

    def _run(self) -> None:
        while True:
            self._has_job.wait()
            self._has_job.clear()
            job = self._job
            if job is None or self._result is not None:
                if self._stopped:
                    return
                continue
            send, count = job
            try:
                result = send()
            except Exception:  # export() never raises by contract; a bug must not kill us
                logger.debug("export failed", exc_info=True)
                result = ExportResult(0, count, "internal_error")
            self._result = result
            self._done.set()
            self._on_done()
            if self._stopped:
                return
