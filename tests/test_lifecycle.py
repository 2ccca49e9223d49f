"""Interpreter exit, OpenTelemetry metrics of the SDK's own counters, global client swaps."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time

from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader

import cs_sdk
from cs_sdk.collector import LocalCollector
from cs_sdk.testing import capture


def test_events_are_flushed_at_interpreter_exit_without_an_explicit_flush() -> None:
    script = textwrap.dedent(
        """
        import sys, cs_sdk
        cs_sdk.init(service_name="exiting", endpoint=sys.argv[1], schedule_delay=60)
        for i in range(25):
            cs_sdk.milestone("before_exit", properties={"i": i})
        """
    )
    with LocalCollector() as collector:
        subprocess.run([sys.executable, "-c", script, collector.endpoint], check=True, timeout=30)
        assert collector.wait_for(25, timeout=5)


def test_exit_with_a_dead_collector_is_bounded() -> None:
    script = textwrap.dedent(
        """
        import sys, cs_sdk
        cs_sdk.init(endpoint=sys.argv[1], shutdown_timeout=0.5, schedule_delay=60)
        cs_sdk.milestone("lost_at_exit")
        """
    )
    with LocalCollector() as collector:
        endpoint = collector.endpoint  # closed when the block ends
    started = time.monotonic()
    subprocess.run([sys.executable, "-c", script, endpoint], check=True, timeout=30)
    elapsed = time.monotonic() - started
    print(f"interpreter exit with a dead collector took {elapsed:.2f} s (including start-up)")
    assert elapsed < 10  # generous: interpreter start-up plus the 0.5 s budget


def test_stats_are_exported_as_opentelemetry_metrics() -> None:
    reader = InMemoryMetricReader()
    provider = MeterProvider(metric_readers=[reader])
    with capture(meter_provider=provider):
        cs_sdk.milestone("m")
        cs_sdk.milestone("")  # invalid
    data = reader.get_metrics_data()
    points: dict[tuple[str, tuple[tuple[str, object], ...]], float] = {}
    for resource_metrics in data.resource_metrics:
        for scope_metrics in resource_metrics.scope_metrics:
            for metric in scope_metrics.metrics:
                for point in metric.data.data_points:
                    key = (metric.name, tuple(sorted(point.attributes.items())))
                    points[key] = point.value
    assert points[("cs_sdk.events.recorded", ())] == 1
    assert points[("cs_sdk.events.dropped", (("reason", "invalid"),))] == 1
    assert ("cs_sdk.queue.size", ()) in points


def test_init_replaces_and_shuts_down_the_previous_global_client() -> None:
    with LocalCollector() as collector:
        first = cs_sdk.init(endpoint=collector.endpoint, schedule_delay=60)
        cs_sdk.milestone("to_first")
        second = cs_sdk.init(endpoint=collector.endpoint, schedule_delay=60)
        assert cs_sdk.get_client() is second
        assert collector.wait_for(1, timeout=5)  # the first client flushed on replacement
        assert first.milestone("after_shutdown") is None
        cs_sdk.shutdown()
        assert cs_sdk.get_client() is None
