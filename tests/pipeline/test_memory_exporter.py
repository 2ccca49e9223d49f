"""The pipeline against the ``Exporter`` protocol alone, with the in-memory exporter: no
network, so each delivery rule (scripted answers, retries, a send that never ends) is shown
on its own, with the books checked after each."""

from __future__ import annotations

from pathlib import Path

from _books import assert_balanced
from _waiting import wait_until

import cs_sdk
from cs_sdk._config import Config
from cs_sdk._export._encoding import make_encoder
from cs_sdk._export._exporter import ExportResult
from cs_sdk._export._mapping import build_scope
from cs_sdk._export._memory import MemoryExporter
from cs_sdk._pipeline._worker import BatchPipeline
from cs_sdk._processors import ProcessorChain
from cs_sdk._spool import Spool
from cs_sdk._stats import Stats


def client_with(exporter: MemoryExporter, spool: Spool | None = None) -> cs_sdk.Client:
    def factory(config: Config, stats: Stats, chain: ProcessorChain) -> BatchPipeline:
        return BatchPipeline(
            stats=stats,
            chain=chain,
            encoder=make_encoder("http/protobuf", build_scope({}, "test")),
            make_exporter=lambda interrupt: exporter,
            max_queue_size=1_000,
            max_queue_bytes=config.max_queue_bytes,
            max_export_batch_size=10,
            max_export_batch_bytes=1 << 20,
            schedule_delay=60,
            export_timeout=5,
            spool=spool,
        )

    return cs_sdk.Client(environ={}, _pipeline_factory=factory)


def test_delivered_batches_and_scripted_failures_land_in_the_books() -> None:
    exporter = MemoryExporter()
    exporter.answers += [
        ExportResult(0, 10, "rejected_by_collector", message="bad"),
        ExportResult(7, 3, "rejected_by_collector", retries=2),
    ]
    client = client_with(exporter)
    for index in range(30):
        client.milestone("m", properties={"i": index})
    assert client.flush(timeout=10) is False
    stats = client.stats()
    assert len(exporter.payloads) == 3
    assert stats["sent"] == 0 + 7 + 10
    assert stats["dropped"]["rejected_by_collector"] == 10 + 3
    assert stats["retried"] == 2  # reported by the exporter as they happened
    assert_balanced(stats)
    assert client.shutdown(timeout=1) is True  # nothing lost since that flush
    assert exporter.closed


def test_a_send_that_never_ends_is_given_up_at_shutdown_and_counted() -> None:
    exporter = MemoryExporter()
    exporter.hold.clear()  # the exporter never answers until aborted
    client = client_with(exporter)
    for index in range(10):
        client.milestone("m", properties={"i": index})
    client.flush(timeout=0)
    assert wait_until(lambda: client.stats()["in_flight"] == 10)
    assert client.shutdown(timeout=0.5) is False
    stats = client.stats()
    assert stats["dropped"]["shutdown_timeout"] == 10
    assert stats["in_flight"] == 0
    assert_balanced(stats)


def test_with_a_spool_a_failing_batch_waits_on_disk_and_is_replayed(tmp_path: Path) -> None:
    exporter = MemoryExporter()
    exporter.answers.append(ExportResult(0, 10, "retry_exhausted", retryable=True))
    spool = Spool(tmp_path, 1 << 20)
    client = client_with(exporter, spool)
    for index in range(10):
        client.milestone("m", properties={"i": index})
    client.flush(timeout=0)
    assert wait_until(lambda: client.stats()["spooled"] == 10)
    assert client.flush(timeout=60) is True  # the probe replays it once the backoff is over
    stats = client.stats()
    assert stats["sent"] == stats["replayed"] == 10
    assert stats["spool_pending"] == 0
    assert_balanced(stats)
    assert len(exporter.payloads) == 2 and exporter.payloads[0] == exporter.payloads[1]
    assert client.shutdown(timeout=1) is True
