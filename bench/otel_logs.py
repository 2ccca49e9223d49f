"""cs_sdk's own pipeline vs the application's LoggerProvider. Run: python -m bench.otel_logs

The trade-off of ``cs_sdk.init(logger_provider=...)`` (docs/otel.md), measured:

- caller µs per ``milestone()`` (8 properties, inside an identify() scope) with the default
  pipeline, and through an OpenTelemetry SDK ``LoggerProvider`` with its default
  ``BatchLogRecordProcessor``; each exporter takes ``--export-ms`` per batch (2 ms: a
  collector next door; 50 ms: one across a region);
- a burst of ``--burst`` events recorded as fast as possible: how many reached the exporter
  and how many were lost on the way, with each pipeline's defaults.

Both exporters are in-process (no network), so the difference is the pipelines'.
"""

from __future__ import annotations

import argparse
import statistics
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

import cs_sdk
from cs_sdk._client import Client

PROPERTIES = {f"p{n}": n for n in range(8)}
EXPORT_SECONDS = 0.002


class _CountingExporter:
    """An OpenTelemetry LogRecordExporter that counts and takes EXPORT_SECONDS per batch."""

    def __init__(self) -> None:
        self.count = 0

    def export(self, batch: Sequence[Any]) -> Any:
        from opentelemetry.sdk._logs.export import LogRecordExportResult

        time.sleep(EXPORT_SECONDS)
        self.count += len(batch)
        return LogRecordExportResult.SUCCESS

    def shutdown(self) -> None:
        pass

    def force_flush(self, timeout_millis: int = 30_000) -> bool:
        return True


def _otel_client() -> tuple[Client, Callable[[], int], Callable[[], None]]:
    from opentelemetry.sdk._logs import LoggerProvider
    from opentelemetry.sdk._logs.export import BatchLogRecordProcessor

    exporter = _CountingExporter()
    provider = LoggerProvider()
    provider.add_log_record_processor(BatchLogRecordProcessor(exporter))  # type: ignore[arg-type]
    client = cs_sdk.Client(service_name="bench", logger_provider=provider, environ={})
    return client, lambda: exporter.count, provider.shutdown


def _cs_client() -> tuple[Client, Callable[[], int], Callable[[], None]]:
    """cs_sdk's own pipeline, its HTTP transport answered in-process at the same speed."""
    import httpx

    from cs_sdk.collector import decode_export_request

    delivered = [0]

    def collector(request: httpx.Request) -> httpx.Response:
        time.sleep(EXPORT_SECONDS)
        records = decode_export_request(
            request.content,
            content_type=request.headers["content-type"],
            content_encoding=request.headers.get("content-encoding"),
        )
        delivered[0] += len(records)
        return httpx.Response(200)

    http = httpx.Client(transport=httpx.MockTransport(collector))
    client = cs_sdk.Client(
        service_name="bench", endpoint="http://127.0.0.1:9", http_client=http, environ={}
    )
    return client, lambda: delivered[0], http.close


def _caller_us(client: Client, calls: int, rounds: int) -> float:
    samples = []
    with cs_sdk.identify(user_id="u1", account_id="acme"):
        for _ in range(rounds):
            start = time.perf_counter()
            for _ in range(calls):
                client.milestone("report_viewed", properties=PROPERTIES)
            samples.append((time.perf_counter() - start) / calls * 1e6)
            client.flush(timeout=60)
    return statistics.median(samples)


def run(make: Callable[[], tuple[Client, Callable[[], int], Callable[[], None]]],
        calls: int, rounds: int, burst: int) -> dict[str, float]:  # fmt: skip
    client, delivered, close = make()
    us = _caller_us(client, calls, rounds)
    before = delivered()
    recorded_before = client.stats()["recorded"]
    for _ in range(burst):
        client.milestone("burst", properties=PROPERTIES)
    client.flush(timeout=120)
    got = delivered() - before
    assert client.stats()["recorded"] - recorded_before == burst
    client.shutdown(timeout=10)
    close()
    return {"us": us, "delivered": got, "lost": burst - got}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=5_000)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--burst", type=int, default=20_000)
    parser.add_argument("--export-ms", type=float, default=2.0, help="time per exported batch")
    args = parser.parse_args(argv)
    global EXPORT_SECONDS
    EXPORT_SECONDS = args.export_ms / 1000
    rows = {
        "cs_sdk pipeline": run(_cs_client, args.calls, args.rounds, args.burst),
        "application's LoggerProvider": run(_otel_client, args.calls, args.rounds, args.burst),
    }
    print(f"export: {args.export_ms:g} ms per batch")
    print(f"| pipeline | caller µs / milestone | burst of {args.burst:,}: delivered | lost |")
    print("|:--|--:|--:|--:|")
    for name, row in rows.items():
        print(f"| {name} | {row['us']:.2f} | {row['delivered']:,} | {row['lost']:,} |")
    return 0


if __name__ == "__main__":
    threading.excepthook = lambda args: None  # the OTel processor's worker at exit
    raise SystemExit(main())
