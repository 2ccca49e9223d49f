"""HTTP request handling for :class:`LocalCollector`: read, route, apply a scripted fault,
decode, hand the records over, answer. Storage and printing live elsewhere.

Routes: ``POST /v1/logs`` only; other paths 404, other methods on it 405. Bodies are read by
Content-Length or chunked, up to 64 MiB (413 beyond). Every answer goes out in one write
(see ``_wire``) on a TCP_NODELAY socket.
"""

from __future__ import annotations

import contextlib
import socket
import struct
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Final, Protocol

from ._decode import DecodeError, ReceivedRecord, UnsupportedMediaType, decode_export_request
from ._faults import BlackHole, Fault, FaultPlan, PartialSuccess, Refuse, ResetMidBody, Slow, Status
from ._wire import compose, error_body, export_response, is_json


class Collector(Protocol):
    """What a handler needs of its collector (``_server.LocalCollector``): this module sits
    below the server and never imports it."""

    faults: FaultPlan | None
    _stopped: threading.Event

    def _track(self, connection: socket.socket, add: bool) -> None: ...

    def _receive(self, records: list[ReceivedRecord]) -> None: ...

    def _log_request(self, handler: _Handler, size: int, status: int) -> None: ...


LOGS_PATH: Final = "/v1/logs"
MAX_BODY: Final = 64 * 1024 * 1024
_LINGER_SECONDS: Final = 2.0


class _Reject(Exception):
    """A request answered before it is decoded (body too large, unreadable framing)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


class _Server(ThreadingHTTPServer):
    daemon_threads = True  # a black-holed or idle keep-alive handler never blocks stop()
    allow_reuse_address = True  # up() re-binds the port that down() released
    collector: Collector

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Quiet: a client that goes away mid-request is normal here, not worth a traceback."""


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive
    server: _Server

    def setup(self) -> None:
        super().setup()
        # Without it a small answer waits for the ACK of the previous one (Nagle), which a
        # keep-alive client delays by ~40 ms.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.server.collector._track(self.connection, True)

    def finish(self) -> None:
        self.server.collector._track(self.connection, False)
        with contextlib.suppress(OSError):
            super().finish()

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet by default: the printer, not the access log, is what a developer reads."""

    # -- routing --------------------------------------------------------------------------

    def do_POST(self) -> None:
        self._handle()

    def do_GET(self) -> None:
        self._handle()

    do_HEAD = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = do_GET

    def _handle(self) -> None:
        content_type = self.headers.get("Content-Type", "")
        try:
            body = self._read_body()
        except _Reject as reject:
            answer, kind = error_body(reject.status, str(reject), as_json=is_json(content_type))
            self._send(reject.status, -1, answer, kind, close=True)
            self._linger()
            return
        if body is None:  # the client went away mid-body
            self.close_connection = True
            return
        if self.path.split("?", 1)[0] != LOGS_PATH:
            self._send(404, len(body))
        elif self.command != "POST":
            self._send(405, len(body), headers={"Allow": "POST"})
        else:
            try:
                self._export(body, content_type)
            except OSError:  # the client went away while we answered
                self.close_connection = True
            except Exception as error:  # storage or printing failed: tell the client, go on
                answer, kind = error_body(500, repr(error), as_json=is_json(content_type))
                self._send(500, len(body), answer, kind, close=True)

    def _read_body(self) -> bytes | None:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            return self._read_chunked()
        raw = self.headers.get("Content-Length") or "0"
        try:
            length = int(raw)
        except ValueError:
            raise _Reject(400, f"invalid Content-Length {raw!r}") from None
        if length < 0:
            raise _Reject(400, f"invalid Content-Length {raw!r}")
        if length > MAX_BODY:
            raise _Reject(413, f"body of {length} bytes is over {MAX_BODY}")
        body = self.rfile.read(length)
        return body if len(body) == length else None

    def _read_chunked(self) -> bytes | None:
        chunks: list[bytes] = []
        total = 0
        while True:
            line = self.rfile.readline(1024)
            if not line:
                return None
            try:
                size = int(line.split(b";", 1)[0].strip(), 16)
            except ValueError:
                raise _Reject(400, "invalid chunk size") from None
            if size == 0:
                break
            total += size
            if total > MAX_BODY:
                raise _Reject(413, f"body is over {MAX_BODY} bytes")
            chunk = self.rfile.read(size)
            if len(chunk) < size or not self.rfile.readline(3):
                return None
            chunks.append(chunk)
        while self.rfile.readline(65537) not in (b"\r\n", b"\n", b""):
            pass  # trailers: nothing here needs them
        return b"".join(chunks)

    # -- the export request ---------------------------------------------------------------

    def _export(self, body: bytes, content_type: str) -> None:
        collector = self.server.collector
        encoding = self.headers.get("Content-Encoding")
        as_json = is_json(content_type)
        fault = collector.faults.next() if collector.faults is not None else None
        if fault is not None and self._fault_instead(fault, len(body), as_json):
            return
        try:
            records = decode_export_request(
                body, content_type=content_type, content_encoding=encoding
            )
        except UnsupportedMediaType as error:
            self._send(415, len(body), *error_body(415, str(error), as_json=as_json))
            return
        except DecodeError as error:
            self._send(400, len(body), *error_body(400, str(error), as_json=as_json))
            return
        rejected, message = 0, ""
        if isinstance(fault, PartialSuccess):
            rejected = min(fault.rejected, len(records))
            message = fault.message
            records = records[: len(records) - rejected]
        collector._receive(records)
        answer, kind = export_response(rejected, message, as_json=as_json)
        if isinstance(fault, ResetMidBody):
            self._reset(len(body), answer, kind)
        else:
            self._send(200, len(body), answer, kind)

    def _fault_instead(self, fault: Fault, size: int, as_json: bool) -> bool:
        """Apply a fault that replaces or delays normal handling; True when it answered."""
        stopped = self.server.collector._stopped
        if isinstance(fault, Refuse):
            self._note(size, 0)
            self.close_connection = True
            with contextlib.suppress(OSError):
                self.connection.shutdown(socket.SHUT_RDWR)
            return True
        if isinstance(fault, Status):
            message = fault.message or f"scripted status {fault.code}"
            headers = {"Retry-After": fault.retry_after} if fault.retry_after else None
            answer, kind = error_body(fault.code, message, as_json=as_json)
            self._send(fault.code, size, answer, kind, headers=headers)
            return True
        if isinstance(fault, Slow):
            stopped.wait(fault.seconds)  # stop() cuts it short
            return False
        if isinstance(fault, BlackHole):
            self._note(size, 0)
            stopped.wait()
            self.close_connection = True
            return True
        return False

    # -- answering ------------------------------------------------------------------------

    def _note(self, size: int, status: int) -> None:
        # Noted before the answer is written, so a client that has its answer also finds
        # its request in ``collector.requests``.
        self.server.collector._log_request(self, size, status)

    def _send(
        self,
        status: int,
        size: int,
        body: bytes = b"",
        content_type: str = "text/plain",
        *,
        headers: dict[str, str] | None = None,
        close: bool = False,
    ) -> None:
        self._note(size, status)
        if close:
            self.close_connection = True
        self.wfile.write(compose(status, body, content_type, headers, close=close))

    def _reset(self, size: int, answer: bytes, kind: str) -> None:
        self._note(size, 0)
        # Promise more bytes than will come, so the client is mid-body when the reset lands.
        promised = answer + b"\0" * 100
        whole = compose(200, promised, kind)
        self.wfile.write(whole[: len(whole) - len(promised) + len(answer) // 2])
        # SO_LINGER (on, 0): closing sends a RST instead of a FIN. The close happens when the
        # last file object on the socket is closed, in finish(); shutdown() would send a FIN.
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.connection.close()
        self.close_connection = True

    def _linger(self) -> None:
        """Half-close, then drain what the client still sends, for a bounded time.

        Closing a socket with unread request bytes makes the kernel send a RST, which can
        destroy the 413 before the client reads it.
        """
        with contextlib.suppress(OSError):
            self.connection.shutdown(socket.SHUT_WR)
            deadline = time.monotonic() + _LINGER_SECONDS
            while (left := deadline - time.monotonic()) > 0:
                self.connection.settimeout(left)
                if not self.connection.recv(65536):
                    break
