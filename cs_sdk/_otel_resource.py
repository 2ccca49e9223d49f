"""Reuse the OpenTelemetry Resource the application already configured.

An application that runs the OpenTelemetry SDK has described itself once, in the Resource of
its TracerProvider or LoggerProvider (``service.name``, ``service.version``,
``deployment.environment.name``, the host, the container...). cs_sdk's events should describe
the same service, or a backend shows two services where there is one. So, by default, that
Resource is the base of cs_sdk's, and only what was given to cs_sdk explicitly is laid on top.

Read once, when the client is built: configure OpenTelemetry before ``cs_sdk.init()``.
This is the one module that looks at the SDK providers' ``resource`` (the logs API is
still ``opentelemetry._logs``): if their layout changes, reuse stops, nothing breaks.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["DEFAULT_SERVICE_NAME", "existing_resource_attributes", "merge_resource"]

DEFAULT_SERVICE_NAME = "unknown_service"
# Who produced the telemetry: cs_sdk's own values (build_scope), never the OTel SDK's.
_OURS_PREFIX = "telemetry.sdk."


def _attributes_of(provider: Any) -> dict[str, str]:
    resource = getattr(provider, "resource", None)
    if resource is None:
        resource = getattr(provider, "_resource", None)  # LoggerProvider keeps it private
    attributes = getattr(resource, "attributes", None)
    if not isinstance(attributes, Mapping):
        return {}
    return {
        str(key): value if isinstance(value, str) else str(value)
        for key, value in attributes.items()
        if not str(key).startswith(_OURS_PREFIX)
    }


def existing_resource_attributes() -> dict[str, str]:
    """The attributes of the application's TracerProvider's Resource, else of its
    LoggerProvider's; ``{}`` when neither is an SDK provider (the API's no-op default)."""
    try:
        from opentelemetry import trace
        from opentelemetry._logs import get_logger_provider
    except ImportError:
        return {}
    for provider in (trace.get_tracer_provider(), get_logger_provider()):
        attributes = _attributes_of(provider)
        if attributes:
            return attributes
    return {}


def merge_resource(
    existing: Mapping[str, str], configured: Mapping[str, str], explicit_service: bool
) -> dict[str, str]:
    """``existing`` (the application's) with cs_sdk's configured attributes on top; cs_sdk's
    default service name never replaces the application's real one.

    >>> merge_resource({"service.name": "checkout", "host.name": "web-1"},
    ...                {"service.name": "unknown_service"}, explicit_service=False)
    {'service.name': 'checkout', 'host.name': 'web-1'}
    """
    merged = dict(existing)
    for key, value in configured.items():
        if key == "service.name" and not explicit_service and key in merged:
            continue
        merged[key] = value
    return merged
