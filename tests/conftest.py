"""Shared fixtures: a clean environment, fresh warnings, no leftover global client."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

import cs_sdk
from cs_sdk import _api, _log


@pytest.fixture(autouse=True)
def clean_environ(monkeypatch: pytest.MonkeyPatch) -> None:
    """No OTEL_* variable from the machine leaks into a test."""
    for name in list(os.environ):
        if name.startswith("OTEL_"):
            monkeypatch.delenv(name)


@pytest.fixture(autouse=True)
def fresh_sdk_state() -> Iterator[None]:
    _log.reset_warnings()
    yield
    _api.shutdown(timeout=1.0)
    _log.reset_warnings()


@pytest.fixture
def client_factory() -> Iterator[object]:
    """Build clients that are shut down after the test, whatever happens."""
    clients: list[cs_sdk.Client] = []

    def make(**options: object) -> cs_sdk.Client:
        options.setdefault("service_name", "test-service")
        client = cs_sdk.Client(**options)  # type: ignore[arg-type]
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.shutdown(timeout=1.0)


@pytest.fixture
def own_registry() -> Iterator[None]:
    """A registry holding only the built-in events for the test, the others put back after.

    Test modules declare events at import time (one a ``report.exported`` 1.0.0 of its own);
    examples and doc samples that declare theirs would conflict with them.
    """
    from cs_sdk.events import registry

    others = [cls for cls in registry if not cls.__module__.startswith("cs_sdk.")]
    for cls in others:
        registry.unregister(cls)
    try:
        yield
    finally:
        for cls in list(registry):
            if not cls.__module__.startswith("cs_sdk."):
                registry.unregister(cls)
        for cls in others:
            registry.register(cls)
