"""The local OTLP/HTTP logs receiver: request handling only; decoding, storage, printing
and schema validation are separate parts it calls.

    with LocalCollector() as collector:
        cs_sdk.init(endpoint=collector.endpoint)
        ...
        collector.wait_for(3, timeout=5)

Every response is written with a single ``write`` on a TCP_NODELAY socket: a response split
over several sends stalls keep-alive clients ~40 ms per request (Nagle + delayed ACK).
"""

from __future__ import annotations

import contextlib
import json
import socket
import struct
import threading
from dataclasses import dataclass
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, TextIO

from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceResponse

from ._decode import DecodeError, ReceivedRecord, UnsupportedMediaType, decode_export_request
from ._faults import (
    BlackHole,
    Fault,
    FaultPlan,
    PartialSuccess,
    Refuse,
    ResetMidBody,
    Slow,
    Status,
)
from ._printer import Printer
from ._store import SqliteStore

LOGS_PATH = "/v1/logs"
MAX_BODY = 64 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class RequestInfo:
    """What one request looked like and how it was answered."""

    path: str
    headers: dict[str, str]
    content_type: str
    content_encoding: str | None
    size: int
    status: int


def status_message(code: int, message: str) -> bytes:
    """A google.rpc.Status protobuf: field 1 code (varint), field 2 message."""
    text = message.encode("utf-8")
    return b"\x08" + _varint(code) + b"\x12" + _varint(len(text)) + text


def _varint(value: int) -> bytes:
    out = bytearray()
    while value > 0x7F:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def setup(self) -> None:
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.server.collector._track(self.connection, True)

    def finish(self) -> None:
        self.server.collector._track(self.connection, False)
        with contextlib.suppress(OSError):
            super().finish()

    def log_message(self, format: str, *args: Any) -> None:  # quiet by default
        pass

    def _answer(
        self, status: int, body: bytes = b"", content_type: str = "text/plain", extra: str = ""
    ) -> None:
        reason = HTTPStatus(status).phrase
        head = (
            f"HTTP/1.1 {status} {reason}\r\nContent-Type: {content_type}\r\n"
            f"Content-Length: {len(body)}\r\n{extra}\r\n"
        ).encode("latin-1")
        self.wfile.write(head + body)  # one write: see the module docstring

    def do_GET(self) -> None:
        self._answer(405 if self.path == LOGS_PATH else 404, extra="Connection: close\r\n")
        self.close_connection = True

    do_PUT = do_DELETE = do_PATCH = do_GET

    def do_POST(self) -> None:
        collector = self.server.collector
        content_type = self.headers.get("Content-Type", "")
        encoding = self.headers.get("Content-Encoding")
        length = int(self.headers.get("Content-Length") or 0)
        if self.path.split("?", 1)[0] != LOGS_PATH:
            self.rfile.read(min(length, MAX_BODY))
            return self._finish(404, b"not found", "text/plain", content_type, encoding, length)
        if length > MAX_BODY:
            self.close_connection = True
            return self._finish(
                413, b"body too large", "text/plain", content_type, encoding, length
            )
        body = self.rfile.read(length)
        fault = collector.faults.next() if collector.faults else None
        if fault is not None and self._fault_before(fault, content_type, encoding, length):
            return None
        json_answer = content_type.split(";")[0].strip() == "application/json"
        try:
            records = decode_export_request(
                body, content_type=content_type, content_encoding=encoding
            )
        except UnsupportedMediaType as error:
            return self._finish(
                415, str(error).encode(), "text/plain", content_type, encoding, length
            )
        except DecodeError as error:
            answer, kind = self._status_body(json_answer, 3, str(error))
            return self._finish(400, answer, kind, content_type, encoding, length)
        rejected, message = 0, ""
        if isinstance(fault, PartialSuccess):
            rejected = min(fault.rejected, len(records))
            message = fault.message
            records = records[: len(records) - rejected]
        collector._receive(records)
        response = ExportLogsServiceResponse()
        if rejected:
            response.partial_success.rejected_log_records = rejected
            response.partial_success.error_message = message
        if json_answer:
            partial = (
                {"partialSuccess": {"rejectedLogRecords": str(rejected), "errorMessage": message}}
                if rejected
                else {}
            )
            answer, kind = json.dumps(partial).encode(), "application/json"
        else:
            answer, kind = response.SerializeToString(), "application/x-protobuf"
        if isinstance(fault, ResetMidBody):
            return self._reset(answer, kind, content_type, encoding, length)
        return self._finish(200, answer, kind, content_type, encoding, length)

    def _fault_before(
        self, fault: Fault, content_type: str, encoding: str | None, length: int
    ) -> bool:
        """Apply a fault that replaces normal handling; True when the request is done."""
        collector = self.server.collector
        if isinstance(fault, Refuse):
            collector._log_request(self, content_type, encoding, length, 0)
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
            return True
        if isinstance(fault, Status):
            json_answer = content_type.startswith("application/json")
            answer, kind = self._status_body(
                json_answer, 14, fault.message or HTTPStatus(fault.code).phrase
            )
            extra = f"Retry-After: {fault.retry_after}\r\n" if fault.retry_after else ""
            self._finish(fault.code, answer, kind, content_type, encoding, length, extra)
            return True
        if isinstance(fault, Slow):
            collector._stopped.wait(fault.seconds)
            return False
        if isinstance(fault, BlackHole):
            collector._log_request(self, content_type, encoding, length, 0)
            collector._stopped.wait()
            self.close_connection = True
            return True
        return False

    @staticmethod
    def _status_body(json_answer: bool, code: int, message: str) -> tuple[bytes, str]:
        if json_answer:
            return json.dumps({"code": code, "message": message}).encode(), "application/json"
        return status_message(code, message), "application/x-protobuf"

    def _finish(
        self,
        status: int,
        answer: bytes,
        kind: str,
        content_type: str,
        encoding: str | None,
        length: int,
        extra: str = "",
    ) -> None:
        self.server.collector._log_request(self, content_type, encoding, length, status)
        self._answer(status, answer, kind, extra)

    def _reset(
        self, answer: bytes, kind: str, content_type: str, encoding: str | None, length: int
    ) -> None:
        self.server.collector._log_request(self, content_type, encoding, length, 0)
        # Promise more bytes than will come, so the client is mid-body when the reset lands.
        promised = len(answer) + 100
        head = f"HTTP/1.1 200 OK\r\nContent-Type: {kind}\r\nContent-Length: {promised}\r\n\r\n"
        self.wfile.write(head.encode() + answer[: len(answer) // 2])
        # SO_LINGER (on, 0): close() sends a RST instead of a FIN.
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.close_connection = True


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    collector: LocalCollector


class LocalCollector:
    """An in-process OTLP/HTTP logs receiver on loopback, for tests, demos and development."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        db: str | None = None,
        printer: TextIO | Printer | None = None,
        faults: FaultPlan | None = None,
        schemas: Any = None,
    ) -> None:
        self.host = host
        self.port = port
        self.faults = faults
        self.schemas = schemas  # a cs_sdk.events SchemaValidator, or None
        self.store = SqliteStore(db) if db else None
        self.printer = (
            printer if isinstance(printer, Printer) or printer is None else Printer(printer)
        )
        self._records: list[ReceivedRecord] = []
        self._requests: list[RequestInfo] = []
        self._changed = threading.Condition()
        self._stopped = threading.Event()
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle ------------------------------------------------------------------------

    def start(self) -> LocalCollector:
        self._stopped.clear()
        self._listen()
        return self

    def _listen(self) -> None:
        server = _Server((self.host, self.port), _Handler)
        server.collector = self
        self.port = server.server_address[1]
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="cs_sdk.collector",
            daemon=True,
        )
        self._thread.start()

    def _close_listener(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            server.shutdown()
            server.server_close()
        with self._connections_lock:
            connections = list(self._connections)
        for connection in connections:  # a "down" collector keeps no connection open
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)

    def stop(self) -> None:
        self._stopped.set()  # releases black-holed and slowed requests
        self._close_listener()
        if self.store is not None:
            self.store.close()

    def down(self) -> None:
        """Simulate an outage: stop listening and drop open connections (port kept)."""
        self._close_listener()

    def up(self) -> None:
        """End the outage: listen again on the same port."""
        if self._server is None:
            self._listen()

    def __enter__(self) -> LocalCollector:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def endpoint(self) -> str:
        """Base URL for ``cs_sdk.init(endpoint=...)``."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    # -- what arrived ---------------------------------------------------------------------

    @property
    def records(self) -> list[ReceivedRecord]:
        with self._changed:
            return list(self._records)

    @property
    def requests(self) -> list[RequestInfo]:
        with self._changed:
            return list(self._requests)

    def wait_for(self, count: int, timeout: float) -> bool:
        """Wait until at least ``count`` records arrived; False on timeout."""
        with self._changed:
            return self._changed.wait_for(lambda: len(self._records) >= count, timeout)

    def clear(self) -> None:
        with self._changed:
            self._records.clear()
            self._requests.clear()

    # -- called by the handler ------------------------------------------------------------

    def _receive(self, records: list[ReceivedRecord]) -> None:
        if self.schemas is not None:
            for record in records:
                self.schemas.observe(
                    record.event_name, record.schema_version or "", record.attributes, record.body
                )
        if self.store is not None:
            self.store.add(records)
        if self.printer is not None:
            self.printer.print_records(records)
        with self._changed:
            self._records.extend(records)
            self._changed.notify_all()

    def _log_request(
        self, handler: _Handler, content_type: str, encoding: str | None, size: int, status: int
    ) -> None:
        info = RequestInfo(
            path=handler.path,
            headers={key.lower(): value for key, value in handler.headers.items()},
            content_type=content_type,
            content_encoding=encoding,
            size=size,
            status=status,
        )
        with self._changed:
            self._requests.append(info)

    def _track(self, connection: socket.socket, add: bool) -> None:
        with self._connections_lock:
            if add:
                self._connections.add(connection)
            else:
                self._connections.discard(connection)
