"""What each ``cs_sdk.init()`` option means and which environment variables set it.

The configuration reference of the documentation site (docs/reference/configuration.md) is
rendered from this table and from :class:`~cs_sdk.Config`'s defaults by a mkdocs hook, and
``tests/test_docs_site.py`` checks it against the code: every option of ``Config`` has an
entry, and every variable named here really sets its option (resolved with its example
value). So the reference cannot drift from what ``resolve()`` does.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

from ._config import DEFAULT_ENDPOINT, Config

__all__ = ["OPTIONS", "OptionDoc", "render_reference"]


@dataclass(frozen=True, slots=True)
class OptionDoc:
    """One option: what it does and its variables, most specific first, each with an example
    value and the option value it must give (checked by the test)."""

    description: str
    variables: tuple[tuple[str, str, Any], ...] = ()

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(variable for variable, _, _ in self.variables)


_MS = "milliseconds in the variable, seconds as an argument"

OPTIONS: dict[str, OptionDoc] = {
    "service_name": OptionDoc(
        "Resource `service.name` of every event.", (("OTEL_SERVICE_NAME", "web", "web"),)
    ),
    "resource_attributes": OptionDoc(
        "More resource attributes (`k1=v1,k2=v2` in the variable).",
        (("OTEL_RESOURCE_ATTRIBUTES", "team=reports", {"team": "reports"}),),
    ),
    "environment": OptionDoc(
        "Resource `deployment.environment.name` (or `deployment.environment.name=` in "
        "`OTEL_RESOURCE_ATTRIBUTES`).",
    ),
    "endpoint": OptionDoc(
        "Base URL of the OTLP/HTTP receiver; logs go to `<endpoint>/v1/logs`. The `LOGS` "
        "variable is the full URL.",
        (("OTEL_EXPORTER_OTLP_LOGS_ENDPOINT", "https://otel.example.com/logs",
          "https://otel.example.com/logs"),
         ("OTEL_EXPORTER_OTLP_ENDPOINT", "https://otel.example.com",
          "https://otel.example.com/v1/logs")),
    ),
    "headers": OptionDoc(
        "HTTP headers of every export (API keys): never logged.",
        (("OTEL_EXPORTER_OTLP_LOGS_HEADERS", "api-key=secret", {"api-key": "secret"}),
         ("OTEL_EXPORTER_OTLP_HEADERS", "api-key=secret", {"api-key": "secret"})),
    ),
    "timeout": OptionDoc(
        f"Seconds one export request may take ({_MS}).",
        (("OTEL_EXPORTER_OTLP_LOGS_TIMEOUT", "2500", 2.5),
         ("OTEL_EXPORTER_OTLP_TIMEOUT", "2500", 2.5)),
    ),
    "compression": OptionDoc(
        "`gzip` or `none`.",
        (("OTEL_EXPORTER_OTLP_LOGS_COMPRESSION", "none", "none"),
         ("OTEL_EXPORTER_OTLP_COMPRESSION", "none", "none")),
    ),
    "protocol": OptionDoc(
        "`http/protobuf` or `http/json`.",
        (("OTEL_EXPORTER_OTLP_LOGS_PROTOCOL", "http/json", "http/json"),
         ("OTEL_EXPORTER_OTLP_PROTOCOL", "http/json", "http/json")),
    ),
    "certificate": OptionDoc(
        "CA bundle (PEM file) to verify the receiver's TLS certificate with.",
        (("OTEL_EXPORTER_OTLP_LOGS_CERTIFICATE", "/etc/ssl/ca.pem", "/etc/ssl/ca.pem"),
         ("OTEL_EXPORTER_OTLP_CERTIFICATE", "/etc/ssl/ca.pem", "/etc/ssl/ca.pem")),
    ),
    "verify": OptionDoc("Verify TLS certificates. Leave it on."),
    "max_queue_size": OptionDoc(
        "Events held in memory before new ones are dropped (`queue_full`).",
        (("OTEL_BLRP_MAX_QUEUE_SIZE", "5000", 5000),),
    ),
    "max_queue_bytes": OptionDoc("Bytes held in memory before new events are dropped."),
    "max_export_batch_size": OptionDoc(
        "Events per export request at most.", (("OTEL_BLRP_MAX_EXPORT_BATCH_SIZE", "512", 512),)
    ),
    "max_export_batch_bytes": OptionDoc("Bytes per export request at most (before gzip)."),
    "schedule_delay": OptionDoc(
        f"Longest wait before a partial batch is sent ({_MS}).",
        (("OTEL_BLRP_SCHEDULE_DELAY", "250", 0.25),),
    ),
    "export_timeout": OptionDoc(
        f"Seconds an export may take with its retries ({_MS}).",
        (("OTEL_BLRP_EXPORT_TIMEOUT", "5000", 5.0),),
    ),
    "shutdown_timeout": OptionDoc("Seconds the exit flush may take (`atexit`)."),
    "strict": OptionDoc(
        "Raise `cs_sdk.InvalidEventError` on invalid input instead of counting and dropping."
    ),
    "disabled": OptionDoc(
        "Every call is a cheap no-op.", (("OTEL_SDK_DISABLED", "true", True),)
    ),
    "before_send": OptionDoc(
        "`(event) -> event | None`: redact or drop, before anything leaves the process."
    ),
    "redact_pii": OptionDoc("Mask e-mail addresses, phone and card numbers in comments."),
    "metrics": OptionDoc("Publish `stats()` as OpenTelemetry metrics."),
    "spool_dir": OptionDoc("Directory of the durable on-disk buffer; `None`: memory only."),
    "spool_max_bytes": OptionDoc("Size of the spool at most."),
    "prompts": OptionDoc("Path or http(s) URL of the pilot and prompt document."),
    "state": OptionDoc(
        "Where memberships and prompt history live: `memory`, `sqlite:///path.db`, "
        "`redis://host:port/db`."
    ),
    "speedups": OptionDoc(
        "Use the C accelerator where it was built.", (("CS_SDK_SPEEDUPS", "false", False),)
    ),
    "reuse_otel_resource": OptionDoc(
        "Start from the Resource of the application's OpenTelemetry TracerProvider or "
        "LoggerProvider (see *Beside OpenTelemetry*)."
    ),
    "logger_provider": OptionDoc(
        "Send events through this OpenTelemetry LoggerProvider (or `\"global\"`) instead of "
        "cs_sdk's pipeline (see *Beside OpenTelemetry*)."
    ),
}  # fmt: skip


def _default(name: str) -> str:
    if name == "endpoint":
        return f"`{DEFAULT_ENDPOINT}`"
    value = getattr(Config(), name)
    if value is None or value == {}:
        return "—"
    return f"`{value!r}`" if not isinstance(value, str) else f'`"{value}"`'


def option_names() -> set[str]:
    """The options ``init()`` takes (the Config fields, ``endpoint`` for ``logs_endpoint``)."""
    names = {field.name for field in fields(Config)}
    return names - {"logs_endpoint"} | {"endpoint"}


def render_reference() -> str:
    """The Markdown table of every option, its default and its variables."""
    rows = ["| option | default | environment variables | |", "|:--|:--|:--|:--|"]
    for name, doc in OPTIONS.items():
        variables = "<br>".join(f"`{variable}`" for variable in doc.names) or "—"
        rows.append(f"| `{name}` | {_default(name)} | {variables} | {doc.description} |")
    return "\n".join(rows)
