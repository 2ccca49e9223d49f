"""Resolved, immutable configuration: the only reader of ``os.environ``.

Precedence for every option: explicit argument > signal-specific ``OTEL_*_LOGS_*`` variable >
generic ``OTEL_*`` variable > default. Durations given as arguments are seconds (as in httpx);
durations read from ``OTEL_*`` variables are milliseconds, as the OpenTelemetry specification
defines them. A malformed environment variable is logged and ignored (the specification's rule);
a malformed argument raises :class:`ConfigError`.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

# Re-exported where their users have always found them.
from ._env import DEFAULT_ENDPOINT as DEFAULT_ENDPOINT
from ._env import (
    Env,
    check_url,
    choice,
    from_env,
    parse_key_values,
    positive,
)
from ._env import shown_url as shown_url
from ._errors import ConfigError
from ._headers import check_headers
from ._log import warn_once
from ._options import ClientOptions, Compression, Protocol

LOGS_PATH = "/v1/logs"
_PROTOCOLS: frozenset[str] = frozenset(("http/protobuf", "http/json"))
_COMPRESSIONS: frozenset[str] = frozenset(("gzip", "none"))
_LOOPBACK_HOSTS: frozenset[str] = frozenset(("localhost", "127.0.0.1", "::1", "[::1]"))


@dataclass(frozen=True, slots=True)
class Config:
    """Every option of a :class:`cs_sdk.Client`, validated once."""

    service_name: str = "unknown_service"
    resource_attributes: Mapping[str, str] = field(default_factory=dict)
    environment: str | None = None
    logs_endpoint: str = DEFAULT_ENDPOINT + LOGS_PATH
    headers: Mapping[str, str] = field(default_factory=dict)
    timeout: float = 10.0
    compression: Compression = "gzip"
    protocol: Protocol = "http/protobuf"
    certificate: str | None = None
    verify: bool = True
    max_queue_size: int = 100_000
    # Room for max_queue_size events of every typical shape (a typed event is estimated at
    # ~1.9 KB on Python 3.10, _validate.py; 128 MiB held only ~70,000): the count binds first,
    # the bytes only for events larger than usual. `python -m bench.queued_memory`.
    max_queue_bytes: int = 192 * 1024 * 1024
    max_export_batch_size: int = 2048
    max_export_batch_bytes: int = 2 * 1024 * 1024
    schedule_delay: float = 1.0
    export_timeout: float = 30.0
    shutdown_timeout: float = 2.0
    strict: bool = False
    disabled: bool = False
    before_send: Callable[[Any], Any] | None = None
    redact_pii: bool = True
    metrics: bool = False
    spool_dir: str | None = None
    spool_max_bytes: int = 256 * 1024 * 1024
    prompts: str | None = None
    state: str = "memory"
    speedups: bool = True
    # Living beside an OpenTelemetry setup (docs/otel.md): the application's Resource is the
    # base of ours; events can go through its LoggerProvider ("global" or the provider).
    reuse_otel_resource: bool = True
    logger_provider: Any = None

    def __repr__(self) -> str:
        # Header values are credentials (API keys, bearer tokens): never print them.
        headers = {k: "***" for k in self.headers}
        return (
            f"Config(service_name={self.service_name!r}, "
            f"logs_endpoint={shown_url(self.logs_endpoint)!r}, "
            f"protocol={self.protocol!r}, compression={self.compression!r}, headers={headers!r}, "
            f"strict={self.strict!r}, disabled={self.disabled!r})"
        )

    @property
    def is_plaintext_remote(self) -> bool:
        """True when events would cross a network unencrypted."""
        parts = urlsplit(self.logs_endpoint)
        return parts.scheme == "http" and (parts.hostname or "") not in _LOOPBACK_HOSTS


def _base_to_logs_url(base: str) -> str:
    """``<base>/v1/logs``; a base that already ends in ``/v1/logs`` is taken as the full URL.

    ``cs-sdk collector`` and most collector guides show the full logs URL, and passing it
    as ``endpoint=`` used to send to ``/v1/logs/v1/logs`` (404, every batch dropped). No base
    URL ends in ``/v1/logs`` on purpose, so the forgiving reading cannot be the wrong one.
    """
    trimmed = base.rstrip("/")
    return trimmed if trimmed.endswith(LOGS_PATH) else trimmed + LOGS_PATH


# Strict mode for every client that does not say, and for calls made before init(), when
# there is no client to ask: a test suite or a CI job sets it once for the whole process.
STRICT_VARIABLE = "CS_SDK_STRICT"


def strict_from_environ(environ: Mapping[str, str] | None = None) -> bool:
    """Whether ``CS_SDK_STRICT=true`` asks for strict mode where no client decides."""
    return bool(Env(os.environ if environ is None else environ).flag(STRICT_VARIABLE))


def resolve(environ: Mapping[str, str] | None = None, **options: Any) -> Config:
    """Build a :class:`Config` from keyword options and the environment.

    >>> resolve({}, service_name="web").service_name
    'web'
    """
    env = Env(os.environ if environ is None else environ)
    known = ClientOptions.__optional_keys__
    unknown = sorted(set(options) - known)
    if unknown:
        raise ConfigError(f"unknown option(s): {', '.join(unknown)}")
    opts = {k: v for k, v in options.items() if v is not None}
    values: dict[str, Any] = {}

    # Resource: OTEL_RESOURCE_ATTRIBUTES, then the explicit service name/environment on top.
    resource = parse_key_values(
        env.text("OTEL_RESOURCE_ATTRIBUTES") or "", "OTEL_RESOURCE_ATTRIBUTES"
    )
    explicit_resource = opts.get("resource_attributes")
    if explicit_resource is not None:
        if not isinstance(explicit_resource, Mapping):
            raise ConfigError("resource_attributes must be a mapping of str to str")
        resource.update({str(k): str(v) for k, v in explicit_resource.items()})
    service_name = opts.get("service_name") or env.text("OTEL_SERVICE_NAME")
    service_name = service_name or resource.get("service.name") or "unknown_service"
    if not isinstance(service_name, str):
        raise ConfigError(f"service_name must be a string, got {service_name!r}")
    resource["service.name"] = service_name
    environment = opts.get("environment") or resource.get("deployment.environment.name")
    if environment is not None:
        resource["deployment.environment.name"] = str(environment)
    values.update(service_name=service_name, resource_attributes=resource, environment=environment)

    # Endpoint: `endpoint=` and OTEL_EXPORTER_OTLP_ENDPOINT are bases; the LOGS variable is full.
    logs_endpoint: str | None = None
    if "logs_endpoint" in opts:
        # The specification's per-signal endpoint (OTEL_EXPORTER_OTLP_LOGS_ENDPOINT, and the
        # `endpoint=` of OpenTelemetry Python's OTLPLogExporter): the full URL, used as-is. It
        # wins over `endpoint=` as the LOGS variable wins over the generic one.
        logs_endpoint = check_url("logs_endpoint", str(opts["logs_endpoint"]))
        if urlsplit(logs_endpoint).path in ("", "/"):
            warn_once(
                "config:logs_endpoint:path",
                "cs_sdk: logs_endpoint=%r is used as-is (the full URL, usually ending in "
                "/v1/logs); for a base URL pass endpoint= instead",
                shown_url(logs_endpoint),
            )
    elif "endpoint" in opts:
        logs_endpoint = _base_to_logs_url(check_url("endpoint", str(opts["endpoint"])))
    if logs_endpoint is None and (full := env.text("OTEL_EXPORTER_OTLP_LOGS_ENDPOINT")):
        variable = "OTEL_EXPORTER_OTLP_LOGS_ENDPOINT"
        logs_endpoint = from_env(variable, check_url, full)
    if logs_endpoint is None and (base := env.text("OTEL_EXPORTER_OTLP_ENDPOINT")):
        variable = "OTEL_EXPORTER_OTLP_ENDPOINT"
        checked = from_env(variable, check_url, base)
        logs_endpoint = None if checked is None else _base_to_logs_url(checked)
    values["logs_endpoint"] = logs_endpoint or DEFAULT_ENDPOINT + LOGS_PATH

    headers, source = opts.get("headers"), "headers"
    if headers is None:
        raw = env.text("OTEL_EXPORTER_OTLP_LOGS_HEADERS", "OTEL_EXPORTER_OTLP_HEADERS")
        headers = parse_key_values(raw or "", "OTEL_EXPORTER_OTLP_HEADERS")
        source = "OTEL_EXPORTER_OTLP_HEADERS"
    elif not isinstance(headers, Mapping):
        raise ConfigError("headers must be a mapping of str to str")
    values["headers"] = check_headers(headers, source)  # never a value in a message

    timeout = opts.get("timeout")
    if timeout is not None:
        values["timeout"] = positive("timeout", timeout)
    else:
        variables = ("OTEL_EXPORTER_OTLP_LOGS_TIMEOUT", "OTEL_EXPORTER_OTLP_TIMEOUT")
        env_timeout = env.milliseconds(*variables)
        if env_timeout is not None:
            env_timeout = from_env(variables[1], positive, env_timeout)
        if env_timeout is not None:
            values["timeout"] = env_timeout

    for name, choices in (("compression", _COMPRESSIONS), ("protocol", _PROTOCOLS)):
        if opts.get(name):
            values[name] = choice(name, str(opts[name]), choices)
            continue
        generic = f"OTEL_EXPORTER_OTLP_{name.upper()}"
        raw = env.text(f"OTEL_EXPORTER_OTLP_LOGS_{name.upper()}", generic)
        if raw is not None:
            chosen = from_env(generic, choice, raw, choices)
            if chosen is not None:
                values[name] = chosen
    certificate = opts.get("certificate") or env.text(
        "OTEL_EXPORTER_OTLP_LOGS_CERTIFICATE", "OTEL_EXPORTER_OTLP_CERTIFICATE"
    )
    if certificate is not None:
        values["certificate"] = str(certificate)

    for name, variable, integer in (
        ("max_queue_size", "OTEL_BLRP_MAX_QUEUE_SIZE", True),
        ("max_export_batch_size", "OTEL_BLRP_MAX_EXPORT_BATCH_SIZE", True),
    ):
        value = opts.get(name)
        if value is not None:
            values[name] = positive(name, value, integer=integer)
        elif (env_value := env.number(variable, integer=True)) is not None:
            checked = from_env(variable, positive, int(env_value), integer=True)
            if checked is not None:
                values[name] = checked
    for name, variable in (
        ("schedule_delay", "OTEL_BLRP_SCHEDULE_DELAY"),
        ("export_timeout", "OTEL_BLRP_EXPORT_TIMEOUT"),
    ):
        value = opts.get(name)
        if value is not None:
            values[name] = positive(name, value)
        elif (env_seconds := env.milliseconds(variable)) is not None:
            checked = from_env(variable, positive, env_seconds)
            if checked is not None:
                values[name] = checked
    for name in ("max_queue_bytes", "max_export_batch_bytes", "spool_max_bytes"):
        if name in opts:
            values[name] = positive(name, opts[name], integer=True)
    if "shutdown_timeout" in opts:
        values["shutdown_timeout"] = positive(
            "shutdown_timeout", opts["shutdown_timeout"], allow_zero=True
        )

    disabled = opts.get("disabled")
    if disabled is None:
        disabled = env.flag("OTEL_SDK_DISABLED")
    values["disabled"] = bool(disabled)
    speedups = env.flag("CS_SDK_SPEEDUPS")
    if speedups is not None:
        values["speedups"] = speedups
    strict = env.flag(STRICT_VARIABLE)
    if strict is not None:
        values["strict"] = strict
    for name in ("strict", "verify", "redact_pii", "metrics", "speedups", "reuse_otel_resource"):
        if name in opts:
            if not isinstance(opts[name], bool):
                raise ConfigError(f"{name} must be True or False, got {opts[name]!r}")
            values[name] = opts[name]
    before_send = opts.get("before_send")
    if before_send is not None and not callable(before_send):
        raise ConfigError("before_send must be a callable (event) -> event | None")
    values["before_send"] = before_send
    provider = opts.get("logger_provider")
    if provider is not None:
        if provider != "global" and not callable(getattr(provider, "get_logger", None)):
            raise ConfigError("logger_provider must be an OpenTelemetry LoggerProvider or 'global'")
        values["logger_provider"] = provider
    for name in ("spool_dir", "prompts"):
        if name in opts:
            values[name] = os.fspath(opts[name])
    if "state" in opts:
        values["state"] = str(opts["state"])

    config = Config(**values)
    if config.max_export_batch_size > config.max_queue_size:
        # The specification's rule: a batch can never be larger than the queue.
        config = _replace(config, max_export_batch_size=config.max_queue_size)
    return config


def _replace(config: Config, **changes: Any) -> Config:
    fields = {name: getattr(config, name) for name in Config.__dataclass_fields__}
    fields.update(changes)
    return Config(**fields)
