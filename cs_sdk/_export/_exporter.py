"""OTLP/HTTP exporter: compress, POST with retries, read the collector's answer.

``send()`` returns an :class:`ExportResult` and never raises: delivery failures are
results, counted by the pipeline under a drop reason. The pipeline depends only on the
:class:`Exporter` protocol; ``_memory.py`` has an in-memory one for tests.
"""

from __future__ import annotations

import json
import threading
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final, Protocol

from .._log import warn_once
from .._stats import DropReason
from ._retry import RetryPolicy, is_retryable
from ._transport import HttpTransport, TransportResult

# Chosen by measurement (bench/encoding.py): level 1 compresses OTLP batches nearly as well as
# level 6 at a fraction of the CPU, and the worker's CPU is what limits throughput.
GZIP_LEVEL: Final = 1


@dataclass(frozen=True, slots=True)
class ExportResult:
    """The fate of one batch of ``count`` records."""

    delivered: int
    failed: int = 0
    reason: DropReason | None = None  # why ``failed`` records were lost
    retryable: bool = False  # the failure was transient (the batch may be spooled)
    message: str = ""
    wire_bytes: int = 0
    retries: int = 0  # attempts after the first (each also reported as it happens)


OnRetry = Callable[[], None]


class Exporter(Protocol):
    """What the pipeline needs from an exporter (``OtlpHttpExporter``, ``MemoryExporter``)."""

    @property
    def content_type(self) -> str: ...

    @property
    def content_encoding(self) -> str | None: ...

    def prepare(self, body: bytes) -> bytes: ...

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
    ) -> ExportResult: ...

    def abort(self) -> None: ...

    def close(self) -> None: ...


def gzip_compress(data: bytes, level: int = GZIP_LEVEL) -> bytes:
    compressor = zlib.compressobj(level, zlib.DEFLATED, 31)  # 31: gzip container
    return compressor.compress(data) + compressor.flush()


def _protobuf_fields(data: bytes) -> dict[int, int | bytes]:
    """The top-level fields of a protobuf message (last one wins), read tolerantly."""
    fields: dict[int, int | bytes] = {}
    index = 0
    try:
        while index < len(data):
            key, index = _varint(data, index)
            field, wire = key >> 3, key & 7
            if wire == 0:
                fields[field], index = _varint(data, index)
            elif wire == 2:
                length, index = _varint(data, index)
                fields[field] = data[index : index + length]
                index += length
            elif wire in (1, 5):
                index += 8 if wire == 1 else 4
            else:
                break
    except IndexError:
        pass
    return fields


def _varint(data: bytes, index: int) -> tuple[int, int]:
    shift = result = 0
    while True:
        byte = data[index]
        index += 1
        result |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return result, index
        shift += 7


def _text(value: int | bytes | None) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else ""


def not_found_message(url: str) -> str:
    """What a 404 means for an OTLP exporter: the URL is not a logs endpoint."""
    if "/v1/logs/v1/logs" in url:
        base = url.split("/v1/logs/v1/logs", 1)[0]
        hint = f"the path /v1/logs is doubled: pass endpoint={base!r} (cs_sdk adds /v1/logs)"
    else:
        hint = (
            "pass the collector's base URL as endpoint= (cs_sdk adds /v1/logs), for example "
            "endpoint='http://127.0.0.1:4318', or its full logs URL as "
            "OTEL_EXPORTER_OTLP_LOGS_ENDPOINT"
        )
    return f"{url} answered 404 Not Found: it is not an OTLP logs endpoint; {hint}"


def error_message(result: TransportResult) -> str:
    """The collector's explanation: the ``google.rpc.Status`` message of a failed export."""
    if result.error:
        return result.error
    if result.status_code == 404:
        return not_found_message(result.url or "the endpoint")
    body = result.body[:65536]
    if not body:
        return f"HTTP {result.status_code}"
    if "json" in result.content_type:
        try:
            message = json.loads(body).get("message", "")
            return str(message) or f"HTTP {result.status_code}"
        except (ValueError, AttributeError):
            pass
    if "protobuf" in result.content_type:
        return _text(_protobuf_fields(body).get(2)) or f"HTTP {result.status_code}"
    return body.decode("utf-8", "replace").strip()[:500] or f"HTTP {result.status_code}"


def partial_success(result: TransportResult) -> tuple[int, str]:
    """``(rejected_log_records, error_message)`` from an ExportLogsServiceResponse."""
    body = result.body
    if not body:
        return 0, ""
    if "json" in result.content_type:
        try:
            partial = json.loads(body).get("partialSuccess") or {}
            return int(partial.get("rejectedLogRecords", 0)), str(partial.get("errorMessage", ""))
        except (ValueError, AttributeError, TypeError, RecursionError):
            return 0, ""
    if "protobuf" not in result.content_type:
        return 0, ""  # an answer of another type says nothing about partial success
    nested = _protobuf_fields(body).get(1)
    if not isinstance(nested, bytes):
        return 0, ""
    fields = _protobuf_fields(nested)
    rejected = fields.get(1, 0)
    return (rejected if isinstance(rejected, int) else 0), _text(fields.get(2))


class OtlpHttpExporter:
    """Sends encoded ExportLogsServiceRequest bodies, one batch in flight at a time."""

    def __init__(
        self,
        transport: HttpTransport,
        *,
        content_type: str,
        compression: bool,
        request_timeout: float,
        interrupt: threading.Event,
    ) -> None:
        self._transport = transport
        self._content_type = content_type
        self._compression = compression
        self._request_timeout = request_timeout
        self._interrupt = interrupt

    def _retry_reporter(
        self, counter: list[int], on_retry: OnRetry | None
    ) -> Callable[[TransportResult], None]:
        def report(result: TransportResult) -> None:
            counter[0] += 1
            if on_retry is not None:
                on_retry()  # counted as it happens: stats() shows an outage while it lasts
            warn_once(
                f"export-retry:{result.status_code}",
                "cs_sdk: export to %s failed (%s); retrying",
                self._transport.shown_url,
                error_message(result),
            )

        return report

    @property
    def content_type(self) -> str:
        return self._content_type

    @property
    def content_encoding(self) -> str | None:
        return "gzip" if self._compression else None

    def prepare(self, body: bytes) -> bytes:
        """The bytes to put on the wire (and in the spool) for an encoded request body."""
        return gzip_compress(body) if self._compression else body

    def export(self, body: bytes, count: int, deadline: float) -> ExportResult:
        """Compress and send ``body`` (holding ``count`` records) by ``deadline``."""
        return self.send(self.prepare(body), count, deadline)

    def abort(self) -> None:
        """Cut the attempt in flight at once (shutdown): its batch comes back as failed."""
        self._transport.abort()

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
        """POST a prepared payload, retrying per the policy unless ``retry`` is False.

        ``content_type`` and ``gzip`` default to this exporter's; a spooled batch written by an
        earlier configuration passes its own.
        """
        content_type = content_type or self._content_type
        gzip = self._compression if gzip is None else gzip

        def attempt(remaining: float) -> TransportResult:
            return self._transport.send(
                payload,
                content_type=content_type,
                gzip=gzip,
                timeout=min(self._request_timeout, remaining),
            )

        if not retry:
            result = attempt(max(deadline - time.monotonic(), 0.0))
            return self._judge(result, count, len(payload), 0)
        retries = [0]
        policy = RetryPolicy(self._interrupt, self._retry_reporter(retries, on_retry))
        result = policy.run(attempt, deadline)
        return self._judge(result, count, len(payload), retries[0])

    def _judge(
        self, result: TransportResult, count: int, wire_bytes: int, retries: int
    ) -> ExportResult:
        if result.ok:
            rejected, message = partial_success(result)
            # A collector's count is clamped to the batch: "-5" must not make 105 of 100 sent.
            rejected = max(0, min(rejected, count))
            if rejected:
                warn_once(
                    "export-partial",
                    "cs_sdk: the collector rejected %d of %d events: %s",
                    rejected,
                    count,
                    message,
                )
                return ExportResult(
                    count - rejected,
                    rejected,
                    "rejected_by_collector",
                    False,
                    message,
                    wire_bytes,
                    retries,
                )
            return ExportResult(count, wire_bytes=wire_bytes, retries=retries)
        message = error_message(result)
        if is_retryable(result):
            # Not logged here: the pipeline knows whether the batch is lost or goes to disk.
            return ExportResult(0, count, "retry_exhausted", True, message, retries=retries)
        warn_once(
            f"export-rejected:{result.status_code}",
            "cs_sdk: the collector rejected a batch of %d events with HTTP %s: %s",
            count,
            result.status_code,
            message,
        )
        return ExportResult(0, count, "rejected_by_collector", False, message, retries=retries)

    def close(self) -> None:
        self._transport.close()
