"""The SDK against a broken or hostile collector (issue 13): bounded answers, a wall-clock
deadline per attempt, and header values that never reach a log line.

The memory bounds are measured as the peak RSS of a child process that runs the SDK against
a hostile server in this process, with generous limits; the time bounds are hang guards
(at least ten times the budget)."""

from __future__ import annotations

import functools
import json
import logging
import socket
import subprocess
import sys
import textwrap
import threading
import time
import zlib
from collections.abc import Callable, Iterator

import httpx
import pytest
from _books import assert_balanced
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceResponse

import cs_sdk

Behaviour = Callable[[socket.socket, threading.Event], None]
# Caps on what the hostile server sends, so that a failing (old) SDK ends too.
_MAX_SENT = 1 << 30
_MAX_SECONDS = 60.0


class HostileServer:
    """Loopback HTTP server that reads each request, then runs ``behaviour`` on the socket."""

    def __init__(self, behaviour: Behaviour) -> None:
        self._behaviour = behaviour
        self._stop = threading.Event()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.2)
        self.port = self._listener.getsockname()[1]
        self.connections = 0
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                connection, _ = self._listener.accept()
            except OSError:
                continue
            self.connections += 1
            threading.Thread(target=self._handle, args=(connection,), daemon=True).start()

    def _handle(self, connection: socket.socket) -> None:
        with connection:
            connection.settimeout(_MAX_SECONDS)
            try:
                data = b""
                while b"\r\n\r\n" not in data:
                    chunk = connection.recv(65536)
                    if not chunk:
                        return
                    data += chunk
                head, _, body = data.partition(b"\r\n\r\n")
                length = 0
                for line in head.split(b"\r\n"):
                    if line.lower().startswith(b"content-length:"):
                        length = int(line.split(b":")[1])
                while len(body) < length:
                    body += connection.recv(65536)
                self._behaviour(connection, self._stop)
            except OSError:
                return  # the client closed it: what the SDK should do

    def close(self) -> None:
        self._stop.set()
        self._listener.close()
        self._thread.join(timeout=5)


@pytest.fixture
def hostile() -> Iterator[Callable[[Behaviour], HostileServer]]:
    servers: list[HostileServer] = []

    def start(behaviour: Behaviour) -> HostileServer:
        servers.append(HostileServer(behaviour))
        return servers[-1]

    yield start
    for server in servers:
        server.close()


def _stream(connection: socket.socket, stop: threading.Event, head: bytes, chunk: bytes) -> None:
    connection.sendall(head)
    sent, started = 0, time.monotonic()
    while sent < _MAX_SENT and time.monotonic() - started < _MAX_SECONDS and not stop.is_set():
        connection.sendall(chunk)
        sent += len(chunk)


@functools.cache
def _gzip_bomb() -> bytes:
    """About 1 MiB of gzip that inflates to 256 MiB of zeros."""
    compressor = zlib.compressobj(1, zlib.DEFLATED, 31)
    block = bytes(1 << 20)
    return b"".join(compressor.compress(block) for _ in range(256)) + compressor.flush()


def gzip_bomb(connection: socket.socket, stop: threading.Event) -> None:
    bomb = _gzip_bomb()  # made before the server starts (see the test)
    head = (
        b"HTTP/1.1 200 OK\r\nContent-Type: application/x-protobuf\r\n"
        b"Content-Encoding: gzip\r\nContent-Length: %d\r\n\r\n" % len(bomb)
    )
    connection.sendall(head + bomb)


def huge_content_length(connection: socket.socket, stop: threading.Event) -> None:
    head = (
        b"HTTP/1.1 200 OK\r\nContent-Type: application/x-protobuf\r\n"
        b"Content-Length: 8589934592\r\n\r\n"
    )
    _stream(connection, stop, head, bytes(65536))


def endless_chunks(connection: socket.socket, stop: threading.Event) -> None:
    head = (
        b"HTTP/1.1 200 OK\r\nContent-Type: application/x-protobuf\r\n"
        b"Transfer-Encoding: chunked\r\n\r\n"
    )
    _stream(connection, stop, head, b"10000\r\n" + bytes(65536) + b"\r\n")


def drip(connection: socket.socket, stop: threading.Event) -> None:
    """One byte of a valid answer every 0.3 s: each read gets a byte well within the read
    timeout, but the whole answer takes about 25 s."""
    answer = b"HTTP/1.1 200 OK\r\nContent-Type: application/x-protobuf\r\nContent-Length: 0\r\n\r\n"
    for byte in answer:
        if stop.wait(0.3):
            return
        connection.sendall(bytes([byte]))


_CHILD = textwrap.dedent(
    """
    import json, resource, sys, time, cs_sdk
    client = cs_sdk.Client(environ={}, endpoint=sys.argv[1], schedule_delay=60, timeout=10,
                           export_timeout=float(sys.argv[2]))
    for i in range(10):
        client.milestone("m", properties={"i": i})
    started = time.monotonic()
    flushed = client.flush(timeout=120)
    elapsed = time.monotonic() - started
    client.shutdown(timeout=1)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    print(json.dumps({"flushed": flushed, "elapsed": elapsed, "peak": peak,
                      "stats": client.stats()}))
    """
)


def run_child(endpoint: str, export_timeout: float = 10.0) -> dict[str, object]:
    child = subprocess.run(
        [sys.executable, "-c", _CHILD, endpoint, str(export_timeout)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert child.returncode == 0, child.stderr[-2000:]
    result: dict[str, object] = json.loads(child.stdout.splitlines()[-1])
    return result


@pytest.mark.parametrize(
    "behaviour", [gzip_bomb, huge_content_length, endless_chunks], ids=lambda b: b.__name__
)
def test_a_huge_or_endless_answer_costs_no_memory(
    hostile: Callable[[Behaviour], HostileServer], behaviour: Behaviour
) -> None:
    _gzip_bomb()  # ready before the SDK asks
    server = hostile(behaviour)
    result = run_child(server.endpoint)
    peak = int(result["peak"])  # type: ignore[call-overload]
    print(f"{behaviour.__name__}: peak RSS {peak / 2**20:.0f} MiB, flush {result['elapsed']:.2f} s")
    assert peak < 300 * 2**20  # generous: the SDK and Python take ~60 MiB; unbounded is GiBs
    assert result["flushed"] is True  # a 2xx answer; its body is not worth reading
    stats = result["stats"]
    assert stats["sent"] == 10  # type: ignore[index]
    assert_balanced(stats)


def test_a_dripping_collector_holds_the_slot_no_longer_than_the_budget(
    hostile: Callable[[Behaviour], HostileServer],
) -> None:
    server = hostile(drip)
    result = run_child(server.endpoint, export_timeout=1.0)
    print(f"drip: flush gave up after {result['elapsed']:.2f} s")
    assert float(result["elapsed"]) < 10  # type: ignore[arg-type]  # hang guard: budget 1 s
    assert result["flushed"] is False
    stats = result["stats"]
    assert stats["dropped"]["retry_exhausted"] == 10  # type: ignore[index]
    assert_balanced(stats)


def test_partial_success_is_read_only_from_an_answer_of_its_content_type() -> None:
    looks_partial = ExportLogsServiceResponse()
    looks_partial.partial_success.rejected_log_records = 5

    def html(request: httpx.Request) -> httpx.Response:
        body = looks_partial.SerializeToString()
        return httpx.Response(200, content=body, headers={"content-type": "text/html"})

    http_client = httpx.Client(transport=httpx.MockTransport(html))
    client = cs_sdk.Client(environ={}, http_client=http_client, schedule_delay=60)
    for index in range(10):
        client.milestone("m", properties={"i": index})
    assert client.flush(timeout=10) is True
    client.shutdown(timeout=1)
    assert client.stats()["sent"] == 10


@pytest.mark.parametrize(
    "headers", [{"authorization": "Bearer s3cr3t-t0ken\n"}, {"x-api-key": " s3cr3t-t0ken"}]
)
def test_a_header_value_http_cannot_carry_is_refused_at_build_without_showing_it(
    headers: dict[str, str],
) -> None:
    with pytest.raises(cs_sdk.ConfigError) as raised:
        cs_sdk.Client(environ={}, headers=headers)
    assert next(iter(headers)) in str(raised.value)
    assert "s3cr3t" not in str(raised.value)


def test_the_same_from_the_environment() -> None:
    with pytest.raises(cs_sdk.ConfigError) as raised:
        cs_sdk.Client(environ={"OTEL_EXPORTER_OTLP_HEADERS": "api-key=s3cr3t%0A"})
    assert "api-key" in str(raised.value) and "s3cr3t" not in str(raised.value)


def test_transport_error_texts_never_show_a_header_value(caplog: pytest.LogCaptureFixture) -> None:
    secret = "s3cr3t-t0ken-value"

    def leaky(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError(f"proxy refused {request.headers['authorization']!r}")

    http_client = httpx.Client(transport=httpx.MockTransport(leaky))
    with caplog.at_level(logging.DEBUG, logger="cs_sdk"):
        client = cs_sdk.Client(
            environ={},
            http_client=http_client,
            headers={"authorization": f"Bearer {secret}"},
            schedule_delay=60,
            export_timeout=0.5,
        )
        client.milestone("m")
        assert client.flush(timeout=10) is False
        client.shutdown(timeout=1)
    text = "\n".join(record.getMessage() for record in caplog.records)
    assert "proxy refused" in text  # the error is told...
    assert secret not in text  # ...without the secret
