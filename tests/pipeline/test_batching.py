"""The batching pipeline: bounded queue, batches by count/size/delay, flush semantics."""

from __future__ import annotations

import gzip
import threading

import httpx
from _waiting import wait_until
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import (
    ExportLogsServiceRequest,
    ExportLogsServiceResponse,
)

import cs_sdk

OK_BODY = ExportLogsServiceResponse().SerializeToString()


class RecordingCollector:
    """An httpx MockTransport handler that decodes every batch and can be held shut."""

    def __init__(self) -> None:
        self.batches: list[list[str]] = []
        self.open = threading.Event()
        self.open.set()
        self.entered = threading.Event()

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.entered.set()
        assert self.open.wait(timeout=20), "test collector was never opened"
        body = request.content
        if request.headers.get("content-encoding") == "gzip":
            body = gzip.decompress(body)
        message = ExportLogsServiceRequest.FromString(body)
        names = [
            {a.key: a.value.string_value for a in record.attributes}["cs.event.name"]
            for resource in message.resource_logs
            for scope in resource.scope_logs
            for record in scope.log_records
        ]
        self.batches.append(names)
        return httpx.Response(
            200, content=OK_BODY, headers={"content-type": "application/x-protobuf"}
        )

    def client(self, **options: object) -> cs_sdk.Client:
        options.setdefault("endpoint", "http://127.0.0.1:4318")
        options.setdefault("service_name", "batching")
        return cs_sdk.Client(
            environ={},
            http_client=httpx.Client(transport=httpx.MockTransport(self)),
            **options,  # type: ignore[arg-type]
        )


def test_flush_returns_only_after_the_collector_accepted_everything() -> None:
    collector = RecordingCollector()
    client = collector.client(schedule_delay=60)  # only flush can trigger the export
    for index in range(10):
        client.milestone(f"m{index}")
    assert collector.batches == []
    assert client.flush(timeout=5) is True
    assert [name for batch in collector.batches for name in batch] == [f"m{i}" for i in range(10)]
    client.shutdown()


def test_batches_are_cut_by_count() -> None:
    collector = RecordingCollector()
    client = collector.client(max_export_batch_size=4, schedule_delay=60)
    for index in range(10):
        client.milestone(f"m{index}")
    assert client.flush(timeout=5)
    client.shutdown()
    assert [len(batch) for batch in collector.batches] == [4, 4, 2]


def test_batches_are_cut_by_encoded_size() -> None:
    collector = RecordingCollector()
    client = collector.client(max_export_batch_bytes=2_000, schedule_delay=60)
    for index in range(10):
        client.milestone(f"m{index}", properties={"padding": "x" * 500})
    assert client.flush(timeout=5)
    client.shutdown()
    assert len(collector.batches) >= 3
    assert all(len(batch) <= 3 for batch in collector.batches)
    assert sum(len(batch) for batch in collector.batches) == 10


def test_batches_are_sent_after_the_schedule_delay_without_a_flush() -> None:
    collector = RecordingCollector()
    client = collector.client(schedule_delay=0.05)
    client.milestone("m")
    assert collector.entered.wait(timeout=5)
    client.shutdown()
    assert collector.batches == [["m"]]


def test_a_full_queue_drops_and_counts_without_blocking_the_caller() -> None:
    collector = RecordingCollector()
    collector.open.clear()  # the collector hangs: nothing leaves the queue
    client = collector.client(max_queue_size=100, max_export_batch_size=10, schedule_delay=0.01)
    client.milestone("first")
    assert collector.entered.wait(timeout=5)  # the worker is stuck exporting "first"
    # The worker takes one more batch of 10 out of the queue, encodes it, and holds it behind
    # the batch in flight: held events count towards the bound like queued ones.
    for index in range(10):
        client.milestone(f"b{index}")
    assert wait_until(lambda: client.stats()["queued"] == 0)
    results = [client.milestone(f"m{index}") for index in range(250)]
    accepted = sum(result is not None for result in results)
    stats = client.stats()
    assert accepted == 90
    assert stats["dropped"]["queue_full"] == 160
    # 100 waiting in memory (queued, or held by the worker), "first" in the sender's hands.
    assert stats["queued"] + stats["in_flight"] == 101
    collector.open.set()
    assert client.flush(timeout=10) is False  # events were lost since the last flush
    client.shutdown()
    assert client.stats()["sent"] == 101
    assert client.flush(timeout=1) is False  # a closed client delivers nothing more


def test_the_queue_is_bounded_by_the_memory_its_events_hold() -> None:
    collector = RecordingCollector()
    collector.open.clear()  # the collector hangs: nothing leaves the queue
    client = collector.client(
        max_queue_size=10_000, max_queue_bytes=200_000, max_export_batch_size=10
    )
    client.milestone("first")
    assert collector.entered.wait(timeout=5)  # the worker is stuck exporting "first"
    # One batch of 10 that the worker takes out of the queue (it waits behind "first").
    for _ in range(10):
        client.milestone("batch", properties={"n": 1})
    assert wait_until(lambda: client.stats()["queued"] == 0)
    small = [client.milestone("small", properties={"n": 1}) for _ in range(50)]
    # Each of these holds ~10 KB of text: the byte bound stops them long before the count one.
    big = [client.milestone("big", properties={"text": "x" * 10_000}) for _ in range(100)]
    stats = client.stats()
    assert None not in small
    accepted = sum(result is not None for result in big)
    # ~200 KB / ~10 KB, less what the small ones hold; more when the worker compresses some of
    # them into a held batch meanwhile (a held event counts its compressed size), but the
    # count bound (10,000) is never what stops them.
    assert 10 <= accepted < 100
    assert stats["dropped"]["queue_full"] == 100 - accepted
    # The queue and the held batches take nothing beyond the bound ("first" is in flight).
    assert stats["queued"] + stats["in_flight"] == 1 + 10 + 50 + accepted
    collector.open.set()
    client.shutdown(timeout=10)
    assert client.stats()["sent"] == 1 + 10 + 50 + accepted
    assert client.milestone("after", properties={"n": 1}) is None  # closed, not a leak


def test_queue_memory_is_released_as_the_worker_takes_events() -> None:
    collector = RecordingCollector()
    client = collector.client(max_queue_bytes=100_000, schedule_delay=0.01)
    # 20x the byte bound in total, recorded in steps the worker keeps up with.
    for step in range(40):
        for _ in range(5):
            assert client.milestone("big", properties={"text": "x" * 9_000}) is not None
        assert client.flush(timeout=5) is True, step
    assert client.stats()["dropped_total"] == 0
    client.shutdown()


def test_a_flush_after_a_loss_reports_true_again_once_all_is_delivered() -> None:
    collector = RecordingCollector()
    collector.open.clear()
    client = collector.client(max_queue_size=5, max_export_batch_size=5, schedule_delay=0.01)
    client.milestone("first")
    assert collector.entered.wait(timeout=5)
    for index in range(10):
        client.milestone(f"m{index}")
    collector.open.set()
    assert client.flush(timeout=5) is False
    client.milestone("later")
    assert client.flush(timeout=5) is True
    client.shutdown()


def test_shutdown_just_after_a_slow_export_still_delivers_the_queue() -> None:
    collector = RecordingCollector()
    collector.open.clear()
    client = collector.client(max_export_batch_size=10)
    client.milestone("first")
    assert collector.entered.wait(timeout=5)  # the worker is inside a send
    for index in range(30):
        client.milestone(f"m{index}")
    collector.open.set()  # the send returns while shutdown begins
    assert client.shutdown(timeout=10) is True
    assert client.stats()["sent"] == 31
    assert client.stats()["dropped_total"] == 0


def test_shutdown_delivers_what_is_queued_and_is_idempotent() -> None:
    collector = RecordingCollector()
    client = collector.client(schedule_delay=60)
    for index in range(5):
        client.milestone(f"m{index}")
    assert client.shutdown(timeout=5) is True
    assert client.shutdown(timeout=5) is True
    assert sum(len(batch) for batch in collector.batches) == 5
    assert client.milestone("after") is None
    assert client.stats()["sent"] == 5


def test_stats_count_the_life_of_events() -> None:
    collector = RecordingCollector()
    client = collector.client(schedule_delay=60)
    for index in range(3):
        client.milestone(f"m{index}")
    client.milestone("")  # invalid
    assert client.flush(timeout=5)
    stats = client.stats()
    client.shutdown()
    assert stats["recorded"] == 3
    assert stats["sent"] == 3
    assert stats["queued"] == 0
    assert stats["batches_sent"] == 1
    assert stats["bytes_sent"] > 0
    assert stats["dropped"]["invalid"] == 1
    # Refused at the call: apart from the books of recorded events.
    assert stats["refused_total"] == 1
    assert stats["refused"]["invalid"] == 1
    assert stats["dropped_total"] == 0
    assert stats["in_flight"] == 0
    assert stats["spool_pending"] == 0
