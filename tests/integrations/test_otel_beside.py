"""Living beside an application's own OpenTelemetry setup: its Resource is reused, and events
can go through its LoggerProvider. (Trace ids of requests: tests/integrations/test_asgi.py,
test_wsgi.py and the browser test.)"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest
from opentelemetry import trace
from opentelemetry.sdk._logs import LoggerProvider
from opentelemetry.sdk._logs.export import InMemoryLogRecordExporter, SimpleLogRecordProcessor
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider

import cs_sdk
from cs_sdk.collector import LocalCollector

APP = """
import sys
from opentelemetry import trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
import cs_sdk

# The application's OpenTelemetry setup, done before cs_sdk.init().
trace.set_tracer_provider(TracerProvider(resource=Resource.create({
    "service.name": "checkout", "service.version": "2.1.0",
    "deployment.environment.name": "prod"})))
cs_sdk.init(endpoint=sys.argv[1], **eval(sys.argv[2]))
cs_sdk.milestone("first_report_created", user_id="u1")
assert cs_sdk.flush(timeout=30)
"""


def run_app(endpoint: str, options: str = "{}") -> None:
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(APP), endpoint, options],
        env={k: v for k, v in os.environ.items() if not k.startswith("OTEL_")},
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr


def test_the_applications_resource_is_reused_by_default() -> None:
    with LocalCollector() as collector:
        run_app(collector.endpoint)
        run_app(collector.endpoint, "{'service_name': 'cs-web', 'environment': 'staging'}")
        run_app(collector.endpoint, "{'reuse_otel_resource': False}")
        assert collector.wait_for(3, timeout=30)
    reused, explicit, separate = (record.resource for record in collector.records)
    assert reused["service.name"] == "checkout"
    assert reused["service.version"] == "2.1.0"
    assert reused["deployment.environment.name"] == "prod"
    assert reused["telemetry.sdk.name"] == "cs_sdk"  # who produced it stays true
    # What is given to cs_sdk explicitly wins; the rest still comes from the application.
    assert explicit["service.name"] == "cs-web"
    assert explicit["deployment.environment.name"] == "staging"
    assert explicit["service.version"] == "2.1.0"
    assert separate["service.name"] == "unknown_service" and "service.version" not in separate


def test_events_can_go_through_the_applications_logger_provider() -> None:
    exported = InMemoryLogRecordExporter()
    provider = LoggerProvider(resource=Resource.create({"service.name": "checkout"}))
    provider.add_log_record_processor(SimpleLogRecordProcessor(exported))
    tracer = TracerProvider().get_tracer("app")
    client = cs_sdk.Client(logger_provider=provider, environ={})
    try:
        with tracer.start_as_current_span("request") as span, cs_sdk.identify(user_id="u1"):
            event_id = client.feedback("nps", score=9, comment="mail me at a@b.example")
            trace_id = span.get_span_context().trace_id
        assert client.flush(timeout=10)
        [log] = exported.get_finished_logs()
        record = log.log_record
        assert record.event_name == "cs.feedback"
        assert record.attributes is not None
        assert record.attributes["cs.event.id"] == event_id
        assert record.attributes["user.id"] == "u1"
        assert record.attributes["cs.feedback.score"] == 9
        assert "a@b.example" not in str(record.attributes["cs.feedback.comment"])  # redacted
        assert record.trace_id == trace_id
        assert log.resource.attributes["service.name"] == "checkout"
        assert client.stats()["sent"] == 1
    finally:
        client.shutdown(timeout=5)
    provider.shutdown()


def test_a_logger_provider_that_is_not_one_is_a_config_error() -> None:
    with pytest.raises(cs_sdk.ConfigError, match="logger_provider"):
        cs_sdk.Client(logger_provider=object(), environ={})


def test_without_an_sdk_provider_nothing_is_borrowed() -> None:
    from cs_sdk._otel_resource import existing_resource_attributes

    assert not isinstance(trace.get_tracer_provider(), TracerProvider)  # no global set here
    assert existing_resource_attributes() == {}
