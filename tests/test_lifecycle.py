"""Interpreter exit, OpenTelemetry metrics of the SDK's own counters, global client swaps."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import time
from typing import Any

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


EXIT_SCRIPT = textwrap.dedent(
    """
    import atexit, json, sys
    # Registered before cs_sdk is imported: atexit runs last-in first-out, so this runs after
    # the SDK's own exit flush and sees its final books.
    atexit.register(lambda: print(json.dumps(client.stats())))
    import cs_sdk
    client = cs_sdk.init(endpoint=sys.argv[1], shutdown_timeout=0.5, schedule_delay=60)
    cs_sdk.milestone("at_exit")
    """
)
SHUTDOWN_BUDGET = 0.5


def timed_exit(endpoint: str) -> tuple[float, dict[str, Any]]:
    """Seconds the interpreter took from start to exit, and the client's books at the end."""
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-c", EXIT_SCRIPT, endpoint],
        check=True,
        timeout=60,
        capture_output=True,
        text=True,
    )
    stats: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return time.monotonic() - started, stats


def test_exit_with_a_dead_collector_is_bounded() -> None:
    with LocalCollector() as collector:
        # The same script with the collector up: interpreter start-up, import and exit.
        baseline, delivered = timed_exit(collector.endpoint)
        endpoint = collector.endpoint  # closed when the block ends
    elapsed, lost = timed_exit(endpoint)
    print(f"interpreter exit: {baseline:.2f} s with a collector, {elapsed:.2f} s without")
    assert delivered["sent"] == 1
    # The books: the event nobody could take is counted, not silently gone.
    assert lost["sent"] == 0 and sum(lost["dropped"].values()) == 1, lost
    # A hang guard ten times the exit budget, beyond the same script's own start-up time; the
    # exit time itself is a figure of `python -m bench.budgets`.
    assert elapsed - baseline < 10 * SHUTDOWN_BUDGET


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
