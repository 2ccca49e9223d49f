"""An in-memory exporter for tests: the pipeline's ``Exporter`` without a network.

    exporter = MemoryExporter()
    exporter.answers.append(ExportResult(0, 0, "retry_exhausted", retryable=True))
    ...
    exporter.payloads   # every payload sent, in order

Each ``send`` takes the next scripted answer (its counts scaled to the batch) or, when none
is left, delivers the batch. ``hold`` keeps a send waiting until it is set, like a collector
that does not answer; ``abort()`` releases it as a failed attempt.
"""

from __future__ import annotations

import threading
from dataclasses import replace

from ._exporter import ExportResult, OnRetry


class MemoryExporter:
    """Records payloads; answers from ``answers`` (then "delivered")."""

    content_type = "application/x-protobuf"
    content_encoding: str | None = None

    def __init__(self) -> None:
        self.payloads: list[bytes] = []
        self.answers: list[ExportResult] = []
        self.hold = threading.Event()
        self.hold.set()
        self._aborted = threading.Event()
        self.closed = False

    def prepare(self, body: bytes) -> bytes:
        return body

    def send(
        self,
        payload: bytes,
        count: int,
        deadline: float,
        *,
        content_type: str | None = None,
        gzip: bool | None = None,
        retry: bool = True,
        on_retry: OnRetry | None = None,
    ) -> ExportResult:
        while not self.hold.wait(0.01):
            if self._aborted.is_set():
                return ExportResult(0, count, "retry_exhausted", True, "aborted")
        self.payloads.append(payload)
        if self.answers:
            answer = self.answers.pop(0)
            if answer.retries and on_retry is not None:
                for _ in range(answer.retries):
                    on_retry()
            failed = min(answer.failed, count) if answer.delivered else count
            if not answer.failed:
                failed = 0
            return replace(answer, delivered=count - failed, failed=failed)
        return ExportResult(count, wire_bytes=len(payload))

    def abort(self) -> None:
        self._aborted.set()

    def close(self) -> None:
        self.closed = True
        self.abort()
