"""What a client is assembled from besides its parts: the pipeline it sends through (the
protocol, the disabled one, the default OTLP/HTTP one) and the spool on disk."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol

from ._config import Config
from ._errors import ConfigError
from ._export._encoding import make_encoder
from ._export._exporter import OtlpHttpExporter
from ._export._mapping import build_scope
from ._export._transport import HttpTransport
from ._otel_resource import DEFAULT_SERVICE_NAME, existing_resource_attributes, merge_resource
from ._pipeline._worker import BatchPipeline
from ._processors import ProcessorChain
from ._record import QueuedEvent
from ._stats import Stats
from ._version import __version__

if TYPE_CHECKING:
    import httpx

__all__ = ["NullPipeline", "Pipeline", "PipelineFactory", "default_pipeline", "sdk_version"]


class Pipeline(Protocol):
    """Where recorded events go: the batching worker, or a test capture."""

    def submit(self, queued: QueuedEvent) -> bool: ...
    def flush(self, timeout: float) -> bool: ...
    def shutdown(self, timeout: float) -> bool: ...
    def queued(self) -> int | None: ...  # None: the stats' books derive it
    def reinit_after_fork(self) -> None: ...


PipelineFactory = Callable[[Config, Stats, ProcessorChain], Pipeline]


class NullPipeline:
    """A pipeline with nothing behind it: ``disabled=True`` uses it as it is (nothing queued,
    no thread started, no file opened); ``testing.CapturePipeline`` overrides ``submit``."""

    def submit(self, queued: QueuedEvent) -> bool:
        return False

    def flush(self, timeout: float) -> bool:
        return True

    def shutdown(self, timeout: float) -> bool:
        return True

    def queued(self) -> int | None:
        return 0

    def reinit_after_fork(self) -> None:
        pass


def default_pipeline(
    config: Config, stats: Stats, chain: ProcessorChain, http_client: httpx.Client | None
) -> Pipeline:
    """The pipeline a client sends through unless a test injects another: OTLP/HTTP through
    the batching worker, or the host's OpenTelemetry ``logger_provider=``."""
    if config.logger_provider is not None:
        from ._pipeline._otel_logs import OtelLoggerPipeline

        return OtelLoggerPipeline(config.logger_provider, chain, stats, sdk_version())
    resource = dict(config.resource_attributes)
    if config.reuse_otel_resource:
        explicit = config.service_name != DEFAULT_SERVICE_NAME
        resource = merge_resource(existing_resource_attributes(), resource, explicit)
    scope = build_scope(resource, sdk_version())
    encoder = make_encoder(config.protocol, scope, accelerated=config.speedups)

    def make_exporter(interrupt: threading.Event) -> OtlpHttpExporter:
        return OtlpHttpExporter(
            HttpTransport(config, http_client),
            content_type=encoder.content_type,
            compression=config.compression == "gzip",
            request_timeout=config.timeout,
            interrupt=interrupt,
        )

    return BatchPipeline(
        stats=stats,
        chain=chain,
        encoder=encoder,
        make_exporter=make_exporter,
        max_queue_size=config.max_queue_size,
        max_queue_bytes=config.max_queue_bytes,
        max_export_batch_size=config.max_export_batch_size,
        max_export_batch_bytes=config.max_export_batch_bytes,
        schedule_delay=config.schedule_delay,
        export_timeout=config.export_timeout,
        spool=open_spool(config),
    )


def open_spool(config: Config) -> Any:
    if not config.spool_dir:
        return None
    from ._spool import Spool, SpoolError  # sqlite3 is only loaded by those who spool

    try:
        return Spool(config.spool_dir, config.spool_max_bytes)
    except SpoolError as error:
        raise ConfigError(f"spool_dir={config.spool_dir!r} cannot be used: {error}") from error


def sdk_version() -> str:
    return __version__
