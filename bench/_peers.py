"""One adapter per SDK: construct it at its defaults, record one typical event, flush, shut down.

Every SDK runs at its defaults except what points it at the loopback sink (endpoint / host /
keys) and whatever would otherwise reach the internet. The event is the same everywhere: a
named event for a user with 8 properties (str/int/float/bool); see ``properties``.

Imports happen inside the constructors so that a subprocess only loads the SDK it measures
(the import cost and memory of the others must not show up in its numbers).
"""

from __future__ import annotations

import logging
import random
from collections import Counter
from collections.abc import Callable
from typing import Any, ClassVar

EVENT = "report_created"
USERS = tuple(f"user-{i:04d}" for i in range(1000))


def _templates(n: int) -> tuple[dict[str, Any], ...]:
    """Property dicts whose values vary as real ones do: constant values would let the
    gzipping SDKs compress far better than they would in production."""
    rng = random.Random(1234)
    report_types = ("revenue_by_region", "churn_risk", "weekly_active_users", "nps_trend")
    return tuple(
        {
            "plan": rng.choice(("enterprise", "team", "starter")),  # str
            "report_type": rng.choice(report_types),  # str
            "source": rng.choice(("dashboard", "api", "scheduled")),  # str
            "pages": rng.randint(1, 40),  # int
            "rows": 0,  # int, replaced by the event number
            "duration_ms": round(rng.uniform(5.0, 5000.0), 3),  # float
            "score": round(rng.random(), 4),  # float
            "first_time": rng.random() < 0.1,  # bool
        }
        for _ in range(n)
    )


# 1009 (prime) templates against 1000 users: the pairs do not repeat in step.
_TEMPLATES = _templates(1009)


def properties(i: int) -> dict[str, Any]:
    """Event ``i``'s 8 properties, in a fresh dict as an application would build it (an SDK
    that keeps a reference rather than a copy must not look cheaper because events share one).
    Costs ~0.1 µs, included in every SDK's per-call time alike."""
    props = _TEMPLATES[i % 1009].copy()
    props["rows"] = i
    return props


class LogCounter(logging.Handler):
    """Counts the warnings SDKs log (queue-full drops in particular) without formatting them.

    Installed on the root logger of the measuring process. Without any handler, Python's
    last-resort handler would print every "queue is full" line to stderr, and the cost of
    that printing (tens of thousands of lines) would swamp what is being measured.
    """

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.by_logger: Counter[str] = Counter()
        self.queue_full = 0

    def emit(self, record: logging.LogRecord) -> None:
        self.by_logger[record.name] += 1
        message = str(record.msg).lower()
        if "queue is full" in message or "queue full" in message:
            self.queue_full += 1


class Adapter:
    """The common face of an SDK under test."""

    name: ClassVar[str]
    distributions: ClassVar[tuple[str, ...]]  # for the versions in the report
    record: Callable[[str, dict[str, Any]], object]  # (user_id, properties) -> whatever
    # (user_id, event name, properties): the peers' call for the shapes they have no API
    # of their own for (feedback, outcomes; bench/_shapes.py). cs_sdk has one for each.
    send: Callable[[str, str, dict[str, Any]], object]

    def __init__(self, url: str, logs: LogCounter) -> None:
        self.url = url
        self.logs = logs

    def flush(self, timeout: float) -> None:
        raise NotImplementedError

    def shutdown(self) -> None:
        """The SDK's own "deliver what is left and stop" call, with its default bounds."""
        raise NotImplementedError

    def dropped(self) -> int:
        """Events the SDK says it dropped (peers only say so in their logs)."""
        return self.logs.queue_full

    def info(self) -> dict[str, Any]:
        """SDK-specific facts for the JSON report."""
        return {}


class CsSdk(Adapter):
    name = "cs_sdk"
    distributions = ("cs-sdk",)
    speedups = True

    def __init__(self, url: str, logs: LogCounter) -> None:
        super().__init__(url, logs)
        import cs_sdk

        # Logs are POSTed as gzipped OTLP protobuf to <endpoint>/v1/logs.
        self.client = cs_sdk.Client(service_name="bench", endpoint=url, speedups=self.speedups)
        milestone = self.client.milestone
        self.record = lambda user_id, props: milestone(EVENT, user_id=user_id, properties=props)
        self.send = lambda user_id, name, props: milestone(name, user_id=user_id, properties=props)

    def flush(self, timeout: float) -> None:
        self.client.flush(timeout=timeout)

    def shutdown(self) -> None:
        self.client.shutdown(timeout=1.0)  # the budget the performance issue sets a bound on

    def dropped(self) -> int:
        return int(self.client.stats()["dropped_total"])

    def info(self) -> dict[str, Any]:
        return {"stats": dict(self.client.stats()), "accelerated": self.client._accelerated}


class CsSdkPurePython(CsSdk):
    """cs_sdk without its C accelerator: what an install without a compiler runs."""

    name = "cs_sdk_py"
    speedups = False


class Segment(Adapter):
    name = "segment"
    distributions = ("segment-analytics-python",)

    def __init__(self, url: str, logs: LogCounter) -> None:
        super().__init__(url, logs)
        from segment.analytics import Client

        # Defaults: sync_mode=False, one consumer thread, queue of 10 000, batches of 100
        # every 0.5 s, no gzip, JSON to <host>/v1/batch. A full queue drops the new event.
        self.client = Client("bench-write-key", host=url)
        track = self.client.track
        self.record = lambda user_id, props: track(user_id, EVENT, props)
        self.send = lambda user_id, name, props: track(user_id, name, props)

    def flush(self, timeout: float) -> None:
        self.client.flush()  # queue.join(): no timeout of its own; the caller bounds it

    def shutdown(self) -> None:
        self.client.shutdown()


class PostHog(Adapter):
    name = "posthog"
    distributions = ("posthog",)

    def __init__(self, url: str, logs: LogCounter) -> None:
        super().__init__(url, logs)
        from posthog import Posthog

        # No secret/personal key, so no feature-flag poller or remote config requests;
        # disable_geoip is already True by default. Defaults: queue of 10 000, batches of
        # 100 or every 5 s, no gzip, JSON to <host>/batch/. A full queue drops the new event.
        self.client = Posthog("phc_bench", host=url)
        capture = self.client.capture
        self.record = lambda user_id, props: capture(EVENT, distinct_id=user_id, properties=props)
        self.send = lambda user_id, name, props: capture(
            name, distinct_id=user_id, properties=props
        )

    def flush(self, timeout: float) -> None:
        self.client.flush(timeout_seconds=timeout)

    def shutdown(self) -> None:
        self.client.shutdown()


class Otel(Adapter):
    name = "otel"
    distributions = (
        "opentelemetry-sdk",
        "opentelemetry-exporter-otlp-proto-http",
    )

    def __init__(self, url: str, logs: LogCounter) -> None:
        super().__init__(url, logs)
        from opentelemetry._logs import SeverityNumber
        from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter
        from opentelemetry.sdk._logs import LoggerProvider
        from opentelemetry.sdk._logs.export import BatchLogRecordProcessor
        from opentelemetry.sdk.resources import Resource

        # Defaults: queue of 2048, batches of 512 or every 1 s, no compression, protobuf to
        # the endpoint. A full queue drops the *oldest* record. Not made the global provider.
        self.provider = LoggerProvider(resource=Resource.create({"service.name": "bench"}))
        processor = BatchLogRecordProcessor(OTLPLogExporter(endpoint=f"{url}/v1/logs"))
        self.provider.add_log_record_processor(processor)
        self._dropped = self._count_drops(processor)
        emit = self.provider.get_logger("bench").emit
        info = SeverityNumber.INFO
        # In opentelemetry-sdk 1.45 Logger.emit takes keyword arguments (or a LogRecord);
        # the user id travels as the semantic-convention attribute user.id, as in cs_sdk.
        self.record = lambda user_id, props: emit(
            event_name=EVENT,
            severity_number=info,
            attributes={"user.id": user_id, **props},
        )
        self.send = lambda user_id, name, props: emit(
            event_name=name,
            severity_number=info,
            attributes={"user.id": user_id, **props},
        )

    def _count_drops(self, processor: Any) -> list[int] | None:
        """Count queue-full drops by wrapping the processor's (private) drop metric: the SDK
        logs only the first "Queue full" warning (a DuplicateFilter hides the rest). Runs on
        drops only; None if this SDK version is laid out differently."""
        try:
            metrics = processor._batch_processor._metrics
            original = metrics.drop_items
        except AttributeError:
            return None
        dropped = [0]

        def drop_items(count: int, error_type: str = "queue_full") -> None:
            dropped[0] += count
            original(count, error_type)

        metrics.drop_items = drop_items
        return dropped

    def dropped(self) -> int:
        return self._dropped[0] if self._dropped is not None else super().dropped()

    def flush(self, timeout: float) -> None:
        self.provider.force_flush(timeout_millis=int(timeout * 1000))

    def shutdown(self) -> None:
        self.provider.shutdown()


class Amplitude(Adapter):
    name = "amplitude"
    distributions = ("amplitude-analytics",)

    def __init__(self, url: str, logs: LogCounter) -> None:
        super().__init__(url, logs)
        from amplitude import Amplitude as Client
        from amplitude import BaseEvent, Config

        # Defaults: batches of 200 or every 10 s, posted as JSON (no gzip) to
        # <server_url> by a pool of up to 16 threads, one urllib connection per request.
        # Its buffer has no bound for new events (MAX_BUFFER_CAPACITY, 20,000, only stops
        # retries), so it never drops at record time. server_url is the HTTP V2 API's path.
        self.client = Client("bench-api-key", Config(server_url=f"{url}/2/httpapi"))
        track = self.client.track
        self.record = lambda user_id, props: track(
            BaseEvent(event_type=EVENT, user_id=user_id, event_properties=props)
        )
        self.send = lambda user_id, name, props: track(
            BaseEvent(event_type=name, user_id=user_id, event_properties=props)
        )

    def flush(self, timeout: float) -> None:
        # flush() hands the buffer to the worker pool and returns a future per destination.
        for future in self.client.flush():
            if future is not None:
                future.result(timeout)

    def shutdown(self) -> None:
        self.client.shutdown()


class NoSdk(Adapter):
    """The baseline of the host-impact scenario: no SDK loaded, ``record`` does nothing (the
    caller still builds the property dict, as with every SDK)."""

    name = "none"
    distributions = ()

    def __init__(self, url: str, logs: LogCounter) -> None:
        super().__init__(url, logs)
        self.record = lambda user_id, props: None
        self.send = lambda user_id, name, props: None

    def flush(self, timeout: float) -> None:
        pass

    def shutdown(self) -> None:
        pass


FLOOR_MODULE = "CS_BENCH_FLOOR"  # the path of the built bench/_floor.c (build_floor)


def build_floor(directory: str) -> str:
    """Compiles bench/_floor.c into ``directory`` with the interpreter's own flags (as cs_sdk's
    accelerator is built) and returns the extension's path; raises without a compiler."""
    from pathlib import Path

    from setuptools import Distribution, Extension
    from setuptools.command.build_ext import build_ext

    source = Path(__file__).with_name("_floor.c")
    dist = Distribution(
        {"name": "bench-floor", "ext_modules": [Extension("_floor", [str(source)])]}
    )
    command = build_ext(dist)
    command.build_lib = directory
    command.build_temp = str(Path(directory) / "build")
    command.ensure_finalized()
    command.run()
    return str(command.get_ext_fullpath("_floor"))


class Floor(CsSdk):
    """The floor of a recording call (bench/_floor.c): cs_sdk's four methods, each only
    copying its arguments, reading the clock and appending a tuple to a deque, which a thread
    empties every 100 ms. Shaped as cs_sdk (``calls`` gives it the same calls, typed events
    built by cs_sdk.Event). ``python -m bench`` and ``python -m bench.floor`` build it first
    (build_floor) and name it in the CS_BENCH_FLOOR variable."""

    name = "floor"
    distributions = ()

    def __init__(self, url: str, logs: LogCounter) -> None:
        Adapter.__init__(self, url, logs)
        import collections
        import importlib.util
        import os
        import threading
        import time
        import types

        path = os.environ.get(FLOOR_MODULE, "")
        spec = importlib.util.spec_from_file_location("_floor", path) if path else None
        if spec is None or spec.loader is None:
            raise RuntimeError(f"{FLOOR_MODULE} names no built floor (build_floor)")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        kept: collections.deque[tuple[Any, ...]] = collections.deque()
        module.set_queue(kept.append)
        self._stop = threading.Event()

        def empty() -> None:
            while not self._stop.wait(0.1):
                for _ in range(len(kept)):
                    kept.popleft()

        threading.Thread(target=empty, name="floor", daemon=True).start()
        record = module.record
        self.client = types.SimpleNamespace(
            milestone=record, feedback=record, outcome=record, track=module.track
        )
        self.record = lambda user_id, props: record(EVENT, user_id=user_id, properties=props)
        self.send = lambda user_id, name, props: record(name, user_id=user_id, properties=props)
        self._time = time

    def flush(self, timeout: float) -> None:
        self._time.sleep(0.2)  # two of the thread's rounds

    def shutdown(self) -> None:
        self._stop.set()

    def dropped(self) -> int:
        return 0

    def info(self) -> dict[str, Any]:
        return {}


BASELINE = NoSdk.name
FLOOR = Floor.name
ADAPTERS: dict[str, type[Adapter]] = {
    a.name: a for a in (CsSdk, CsSdkPurePython, Segment, PostHog, Otel, Amplitude, NoSdk, Floor)
}
