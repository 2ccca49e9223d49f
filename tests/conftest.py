"""Shared fixtures: a clean environment, fresh warnings, no leftover global client, and no
test that sends to the default collector address (a developer's own collector listens there)."""

from __future__ import annotations

import ipaddress
import os
import socket
from collections.abc import Iterator

import pytest

import cs_sdk
from cs_sdk import _api, _log

DEFAULT_PORT = 4318  # cs_sdk's (and OpenTelemetry's) default OTLP/HTTP port


def _is_default_collector(address: object) -> bool:
    if not isinstance(address, tuple) or len(address) < 2 or address[1] != DEFAULT_PORT:
        return False
    host = str(address[0])
    if host == "localhost":
        return True
    try:
        ip = ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        return False
    return ip.is_loopback or ip.is_unspecified


@pytest.fixture(autouse=True)
def stays_in_its_sandbox(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Fail the test that connects to localhost:4318 (the default endpoint), on any thread.

    Defined first, so it is set up before and torn down after the other autouse fixtures:
    the clients they shut down are still watched while they flush. The connection is refused
    (nothing reaches a developer's collector) and the test fails at teardown, because the
    SDK's sender thread would swallow an exception raised there.
    """
    attempts: list[object] = []
    real_connect = socket.socket.connect
    real_connect_ex = socket.socket.connect_ex

    def connect(self: socket.socket, address: object) -> None:
        if _is_default_collector(address):
            attempts.append(address)
            raise ConnectionRefusedError("tests must not send to localhost:4318")
        real_connect(self, address)  # type: ignore[arg-type]

    def connect_ex(self: socket.socket, address: object) -> int:
        if _is_default_collector(address):
            attempts.append(address)
            return 111  # ECONNREFUSED
        return real_connect_ex(self, address)  # type: ignore[arg-type]

    monkeypatch.setattr(socket.socket, "connect", connect)
    monkeypatch.setattr(socket.socket, "connect_ex", connect_ex)
    yield
    assert not attempts, (
        f"this test connected to the default collector address {attempts[0]!r}: give its "
        "client an endpoint of its own (a LocalCollector, http://127.0.0.1:9) or a null pipeline"
    )


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
