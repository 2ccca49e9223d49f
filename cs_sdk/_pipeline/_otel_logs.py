"""A pipeline that hands each event to the application's own OpenTelemetry LoggerProvider.

``cs_sdk.init(logger_provider=provider)`` (or ``"global"``) sends events through the
application's log processors and exporters instead of cs_sdk's worker, for teams that want
one pipe. The trade-off, measured in bench/otel_logs.py and written in docs/otel.md:

- The enrichment chain (pilot tags, prompt history, redaction, ``before_send``), the OTLP
  mapping and the provider's ``emit`` run on the caller's thread: a recording call costs
  what the provider's processors cost (a BatchLogRecordProcessor: a queue append).
- Delivery is the provider's: its queue (2048 by default) drops when full, with a warning
  but no cs_sdk counter; no spool, no cs_sdk retries, no bounded shutdown of its own.
  cs_sdk counts an event as ``sent`` once the provider took it.
- ``flush()`` calls the provider's ``force_flush``; ``shutdown()`` flushes and leaves the
  provider running (it is the application's).

Uses ``opentelemetry._logs`` (the logs API is still underscore-named): only this module.
"""

from __future__ import annotations

from typing import Any

from .._export._mapping import to_otlp
from .._log import logger, warn_once
from .._processors import ProcessorChain
from .._record import QueuedEvent, record_of
from .._stats import Stats

__all__ = ["OtelLoggerPipeline"]


class OtelLoggerPipeline:
    """Events -> enrichment -> OTLP mapping -> ``provider.get_logger("cs_sdk").emit``."""

    def __init__(self, provider: Any, chain: ProcessorChain, stats: Stats, version: str) -> None:
        from opentelemetry import trace
        from opentelemetry._logs import LogRecord, SeverityNumber, get_logger_provider

        if provider == "global":
            provider = get_logger_provider()
        self._provider = provider
        self._logger = provider.get_logger("cs_sdk", version)
        self._chain = chain
        self._stats = stats
        self._log_record = LogRecord
        self._severity = SeverityNumber.INFO
        self._trace = trace

    def submit(self, queued: QueuedEvent) -> bool:
        try:
            record = self._chain.run(record_of(queued))
            if record is None:
                return True  # dropped by a step, which counted it under its reason
            otlp = to_otlp(record)
            context = None
            if otlp.span_id:
                trace = self._trace
                span_context = trace.SpanContext(
                    int.from_bytes(otlp.trace_id, "big"),
                    int.from_bytes(otlp.span_id, "big"),
                    is_remote=False,
                    trace_flags=trace.TraceFlags(otlp.flags),
                )
                context = trace.set_span_in_context(trace.NonRecordingSpan(span_context))
            self._logger.emit(
                self._log_record(
                    timestamp=otlp.time_unix_nano,
                    observed_timestamp=otlp.observed_time_unix_nano,
                    context=context,
                    severity_number=self._severity,
                    severity_text=otlp.severity_text,
                    body=otlp.body,
                    attributes=otlp.attributes,
                    event_name=otlp.event_name,
                )
            )
        except Exception:
            self._stats.drop("internal_error")
            warn_once("otel_logs", "cs_sdk: the application's LoggerProvider refused an event")
            logger.debug("emit through the LoggerProvider failed", exc_info=True)
            return True
        self._stats.count("sent")
        return True

    def flush(self, timeout: float) -> bool:
        try:
            return bool(self._provider.force_flush(int(timeout * 1000)))
        except Exception:
            logger.debug("force_flush failed", exc_info=True)
            return False

    def shutdown(self, timeout: float) -> bool:
        return self.flush(timeout)  # the provider is the application's: it shuts it down

    def queued(self) -> int:
        return 0

    def reinit_after_fork(self) -> None:
        pass  # the provider's processors handle forks (BatchLogRecordProcessor does)
