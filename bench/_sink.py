"""A loopback HTTP/1.1 sink that speaks just enough of Segment, PostHog, Amplitude and OTLP/HTTP.

It counts events (not requests) and the raw bytes each client puts on the wire, and answers
each client with what it expects, so every SDK runs its success path. It is written on raw
sockets rather than ``http.server`` for two reasons: the byte count must be the bytes as
received (headers included), and ``BaseHTTPRequestHandler`` answers in several writes, which
together with Nagle and delayed ACKs stalls keep-alive clients ~40 ms per request.

Counting is exact: every body is decompressed and parsed (JSON ``batch`` arrays, OTLP protobuf
``log_records``). ``GET /__sink__/stats`` returns the counters as JSON and is not counted.
"""

from __future__ import annotations

import atexit
import contextlib
import gzip
import json
import socket
import socketserver
import threading
import time
import zlib
from typing import Any

from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest

STATS_PATH = "/__sink__/stats"
IDLE_TIMEOUT = 60.0  # seconds a keep-alive connection may sit idle before the sink closes it
MAX_HEADER_BYTES = 64 * 1024
MAX_BODY_BYTES = 64 * 1024 * 1024
RECV_SIZE = 256 * 1024

_SEGMENT_OK = b'{"success":true}'
_POSTHOG_OK = b'{"status":1}'
_AMPLITUDE_OK = b'{"code":200}'
_REASONS = {200: b"OK", 400: b"Bad Request", 404: b"Not Found", 413: b"Payload Too Large"}


class _BadRequest(Exception):
    pass


class UnknownPath(Exception):
    """A path no SDK under test should use (reported, answered 404)."""


def count_events(path: str, content_type: str, body: bytes) -> tuple[int, str, bytes]:
    """(events in the request, response content type, response body) for one decoded body.

    Raises UnknownPath for a path no SDK under test should use, so it shows up in the report.
    """
    if path.startswith("/v1/logs"):
        if content_type.startswith("application/json"):
            document = json.loads(body) if body else {}
            count = sum(
                len(scope.get("logRecords", ()))
                for resource in document.get("resourceLogs", ())
                for scope in resource.get("scopeLogs", ())
            )
            return count, "application/json", b"{}"
        request = ExportLogsServiceRequest.FromString(body)
        count = sum(
            len(scope.log_records)
            for resource in request.resource_logs
            for scope in resource.scope_logs
        )
        # An empty ExportLogsServiceResponse serialises to zero bytes: full success.
        return count, "application/x-protobuf", b""
    if path.startswith("/v1/batch"):  # Segment
        return len(json.loads(body)["batch"]), "application/json", _SEGMENT_OK
    if path.startswith(("/batch", "/capture", "/e/", "/i/v0/e", "/i/v1/analytics")):  # PostHog
        document = json.loads(body)
        if isinstance(document, list):
            count = len(document)
        elif isinstance(document.get("batch"), list):
            count = len(document["batch"])
        else:
            count = 1  # a single-event capture
        return count, "application/json", _POSTHOG_OK
    if path.startswith("/2/httpapi"):  # Amplitude's HTTP V2 API
        return len(json.loads(body)["events"]), "application/json", _AMPLITUDE_OK
    raise UnknownPath(path)


class Counters:
    """What the sink has seen since the last reset. Guarded by one lock: updates are rare
    (one per request) compared with the work of parsing a body."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        with self._lock:
            self.events = 0
            self.requests = 0
            self.request_bytes = 0  # request line + headers + body, as received
            self.response_bytes = 0
            self.connections = 0
            self.errors = 0
            self.unexpected: dict[str, int] = {}  # path -> requests the sink could not place
            self.by_path: dict[str, int] = {}  # path -> events
            self.first_ns = 0  # time.monotonic_ns() of the first / last counted delivery
            self.last_ns = 0

    def add(self, path: str, events: int, wire_in: int, wire_out: int) -> None:
        now = time.monotonic_ns()
        with self._lock:
            self.events += events
            self.requests += 1
            self.request_bytes += wire_in
            self.response_bytes += wire_out
            self.by_path[path] = self.by_path.get(path, 0) + events
            if not self.first_ns:
                self.first_ns = now
            self.last_ns = now

    def add_failure(self, path: str | None, wire_in: int) -> None:
        with self._lock:
            self.errors += 1
            self.request_bytes += wire_in
            if path is not None:
                self.unexpected[path] = self.unexpected.get(path, 0) + 1

    def add_connection(self) -> None:
        with self._lock:
            self.connections += 1

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            return {
                "events": self.events,
                "requests": self.requests,
                "request_bytes": self.request_bytes,
                "response_bytes": self.response_bytes,
                "connections": self.connections,
                "errors": self.errors,
                "unexpected": dict(self.unexpected),
                "by_path": dict(self.by_path),
                "first_ns": self.first_ns,
                "last_ns": self.last_ns,
            }


class _Connection:
    """Reads pipelined/keep-alive HTTP/1.1 requests off one socket."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.buf = bytearray()
        self.closed = False

    def _fill(self, need: int) -> None:
        """Receive until the buffer holds at least ``need`` bytes (bounded by the caller)."""
        while len(self.buf) < need:
            chunk = self.sock.recv(max(RECV_SIZE, need - len(self.buf)))
            if not chunk:
                self.closed = True
                raise EOFError
            self.buf += chunk

    def _take(self, n: int) -> bytes:
        self._fill(n)
        data = bytes(self.buf[:n])
        del self.buf[:n]
        return data

    def _line(self) -> bytes:
        """One CRLF-terminated line (for chunk sizes), CRLF included."""
        while True:
            end = self.buf.find(b"\r\n")
            if end >= 0:
                return self._take(end + 2)
            if len(self.buf) > MAX_HEADER_BYTES:
                raise _BadRequest("line too long")
            self._fill(len(self.buf) + 1)

    def read_request(self) -> tuple[str, str, dict[str, str], bytes, int]:
        """(method, path, lower-cased headers, raw body, bytes on the wire)."""
        while True:
            end = self.buf.find(b"\r\n\r\n")
            if end >= 0:
                break
            if len(self.buf) > MAX_HEADER_BYTES:
                raise _BadRequest("headers too long")
            self._fill(len(self.buf) + 1)
        head = self._take(end + 4)
        wire = len(head)
        lines = head.decode("latin-1").split("\r\n")
        method, path, _version = lines[0].split(" ", 2)
        headers: dict[str, str] = {}
        for line in lines[1:]:
            if line:
                name, _, value = line.partition(":")
                headers[name.strip().lower()] = value.strip()
        if headers.get("expect", "").lower() == "100-continue":
            self.sock.sendall(b"HTTP/1.1 100 Continue\r\n\r\n")
        if "chunked" in headers.get("transfer-encoding", "").lower():
            parts = []
            size = 0
            while True:  # bounded: MAX_BODY_BYTES below
                line = self._line()
                wire += len(line)
                chunk_size = int(line.split(b";", 1)[0].strip(), 16)
                if chunk_size == 0:
                    while True:  # trailers end with an empty line
                        trailer = self._line()
                        wire += len(trailer)
                        if trailer == b"\r\n":
                            break
                    break
                size += chunk_size
                if size > MAX_BODY_BYTES:
                    raise _BadRequest("body too large")
                parts.append(self._take(chunk_size))
                wire += chunk_size + len(self._take(2))
            body = b"".join(parts)
        else:
            length = int(headers.get("content-length", "0"))
            if length > MAX_BODY_BYTES:
                raise _BadRequest("body too large")
            body = self._take(length)
            wire += length
        return method, path, headers, body, wire


def _response(status: int, content_type: str, body: bytes, keep_alive: bool) -> bytes:
    head = b"HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %d\r\n" % (
        status,
        _REASONS.get(status, b"Unknown"),
        content_type.encode(),
        len(body),
    )
    if not keep_alive:
        head += b"Connection: close\r\n"
    return head + b"\r\n" + body


class _Handler(socketserver.BaseRequestHandler):
    server: _Server

    def handle(self) -> None:
        sock: socket.socket = self.request
        # Each response goes out in one write with Nagle off: a response split over writes
        # (as http.server does it) holds its tail until the client's delayed ACK, ~40 ms per
        # request on a keep-alive connection.
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.settimeout(IDLE_TIMEOUT)
        counters = self.server.counters
        conn = _Connection(sock)
        counted = False  # connections that only read the stats are not the SDK's
        while not self.server.stopping:
            try:
                method, path, headers, body, wire_in = conn.read_request()
            except (EOFError, OSError):
                return
            except (_BadRequest, ValueError, UnicodeDecodeError):
                counters.add_failure(None, len(conn.buf))
                with contextlib.suppress(OSError):
                    sock.sendall(_response(400, "text/plain", b"bad request", keep_alive=False))
                return
            keep_alive = headers.get("connection", "").lower() != "close"
            if path == STATS_PATH:
                payload = json.dumps(counters.snapshot()).encode()
                out = _response(200, "application/json", payload, keep_alive)
            else:
                out = self._ingest(method, path, headers, body, wire_in, keep_alive)
                if not counted:
                    counted = True
                    counters.add_connection()
            try:
                sock.sendall(out)  # one write per response, see TCP_NODELAY above
            except OSError:
                return
            if not keep_alive:
                return

    def _ingest(
        self,
        method: str,
        path: str,
        headers: dict[str, str],
        body: bytes,
        wire: int,
        keep_alive: bool,
    ) -> bytes:
        counters = self.server.counters
        try:
            encoding = headers.get("content-encoding", "").lower()
            if encoding == "gzip":
                body = gzip.decompress(body)
            elif encoding == "deflate":
                body = zlib.decompress(body)
            events, content_type, payload = count_events(
                path, headers.get("content-type", ""), body
            )
        except UnknownPath:
            counters.add_failure(f"{method} {path}", wire)
            return _response(404, "text/plain", b"not found", keep_alive)
        except Exception:  # a body the sink cannot parse is a finding, not a crash
            counters.add_failure(f"{method} {path} (unparseable)", wire)
            return _response(400, "text/plain", b"bad body", keep_alive)
        out = _response(200, content_type, payload, keep_alive)
        counters.add(path.split("?", 1)[0], events, wire, len(out))
        return out


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True  # keep-alive handler threads must not block interpreter exit
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self) -> None:
        self.counters = Counters()
        self.stopping = False
        super().__init__(("127.0.0.1", 0), _Handler)


class Sink:
    """The sink, served from a background thread of the calling process."""

    def __init__(self) -> None:
        self._server = _Server()
        self.port: int = self._server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.2}, daemon=True
        )

    def __enter__(self) -> Sink:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def reset(self) -> None:
        self._server.counters.reset()

    def snapshot(self) -> dict[str, Any]:
        return self._server.counters.snapshot()

    def close(self) -> None:
        self._server.stopping = True
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5.0)


class BlackHole:
    """An endpoint that accepts connections and never answers (nor reads past the kernel's
    buffers): a collector stuck behind a hung load balancer. Sends hang until the SDK's own
    timeouts or shutdown cut them."""

    def __init__(self) -> None:
        self._listener = socket.create_server(("127.0.0.1", 0), backlog=128)
        self.url = f"http://127.0.0.1:{self._listener.getsockname()[1]}"
        self._held: list[socket.socket] = []
        self._thread = threading.Thread(target=self._accept, name="bench-black-hole", daemon=True)

    def _accept(self) -> None:
        with contextlib.suppress(OSError):  # closed by close()
            while True:
                connection, _ = self._listener.accept()
                self._held.append(connection)

    def __enter__(self) -> BlackHole:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._listener.close()
        for connection in self._held:
            connection.close()


_RESERVED: list[socket.socket] = []  # bound, never listening: see closed_port_url()


@atexit.register  # closed at exit, not left to the finalizer's ResourceWarning
def _release_reserved() -> None:
    while _RESERVED:
        _RESERVED.pop().close()


def closed_port_url() -> str:
    """A loopback URL with nothing listening: connects fail at once with ECONNREFUSED.

    The port stays bound (never listening) for as long as this process lives, so no other
    server, in this process or another, can take it meanwhile and turn the "down" figures
    into "up" ones (a test run starts many servers on ephemeral ports).
    """
    probe = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    probe.bind(("127.0.0.1", 0))
    _RESERVED.append(probe)
    return f"http://127.0.0.1:{probe.getsockname()[1]}"


def fetch_stats(url: str, timeout: float = 5.0) -> dict[str, Any]:
    """The sink's counters, read over HTTP (used by the measuring subprocess)."""
    import http.client  # only the measuring side needs it

    host, port = url.removeprefix("http://").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=timeout)
    try:
        conn.request("GET", STATS_PATH)
        result: dict[str, Any] = json.loads(conn.getresponse().read())
        return result
    finally:
        conn.close()
