"""Sockets for :class:`LocalCollector`: one asyncio loop owns every connection, a small pool
of threads decodes and stores.

Why a loop and not a thread per connection: an idle or trickling sender then costs a few
kilobytes, not a thread, so 1,000 of them leave the collector serving everyone else. The
rules, each a bound a hostile sender cannot stretch:

- a request's head must arrive within ``header_timeout`` of its first byte, its body within
  ``body_timeout``, the next request on a kept-alive connection within ``idle_timeout``;
- at ``max_connections`` the connection waiting longest for its request is closed to make
  room (accepting stops being useful long before the file limit, where ``accept()`` would
  fail with EMFILE: asyncio then pauses accepting for a second rather than spinning);
- bodies held in memory together stay under ``max_buffered`` (503 with Retry-After beyond);
- at most ``max_concurrent`` requests are decoded and stored at once (the pool's size).

Each answer goes out in one write (see ``_wire``): headers and body sent apart meet Nagle's
algorithm and the client's delayed ACK, and each request then stalls ~40 ms.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import struct
import time
from typing import Final

from ._faults import BlackHole, Refuse, Slow
from ._handler import Answer, Collector, Request, admit, export, failure, route
from ._wire import compose

BACKLOG: Final = 1024  # 5 (socketserver's) reset 6% of the requests of 200 senders at once
MAX_HEAD: Final = 64 * 1024
_LINGER_SECONDS: Final = 2.0
_PIECE: Final = 256 * 1024


class _Reject(Exception):
    """A request answered before its body is decoded; the connection is then closed."""

    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.headers = headers


class _Gone(Exception):
    """The client went away or ran out of time: close without answering."""


class Connection:
    """One client connection: its streams and when it started waiting."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer
        self.waiting_since = time.monotonic()
        self.busy = False  # a request of it is being decoded or answered

    def abort(self) -> None:
        self.writer.transport.abort()


class Server:
    """The listening socket and its connections, on a loop run by :class:`LocalCollector`."""

    def __init__(self, collector: Collector) -> None:
        self.collector = collector
        self.limits = collector.limits
        self.connections: set[Connection] = set()
        self.buffered = 0
        self.listener: asyncio.base_events.Server | None = None
        self.stopping = asyncio.Event()

    async def listen(self, host: str, port: int) -> int:
        self.listener = await asyncio.start_server(
            self._serve, host, port, backlog=BACKLOG, limit=MAX_HEAD, reuse_address=True
        )
        return int(self.listener.sockets[0].getsockname()[1])

    async def close_listener(self) -> None:
        """An outage: stop listening (the socket closes at once) and drop every connection,
        so that kept-alive clients see it too."""
        listener, self.listener = self.listener, None
        if listener is not None:
            listener.close()
        for connection in list(self.connections):
            connection.abort()

    async def drain(self, timeout: float) -> None:
        """Stop: no new connections, close idle ones, let requests being stored finish."""
        self.stopping.set()
        listener, self.listener = self.listener, None
        if listener is not None:
            listener.close()
        deadline = time.monotonic() + timeout
        while True:
            for connection in list(self.connections):
                if not connection.busy:
                    connection.abort()
            if not self.connections or time.monotonic() > deadline:
                break
            await asyncio.sleep(0.02)
        for connection in list(self.connections):
            connection.abort()

    # -- one connection -------------------------------------------------------------------

    def _make_room(self) -> None:
        limit = self.collector.max_connections
        while len(self.connections) >= limit:
            waiting = [c for c in self.connections if not c.busy]
            if not waiting:
                return
            oldest = min(waiting, key=lambda c: c.waiting_since)
            oldest.abort()
            self.connections.discard(oldest)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        connection = Connection(reader, writer)
        self._make_room()
        self.connections.add(connection)
        with contextlib.suppress(OSError):
            # Without it a small answer waits for the ACK of the previous one (Nagle).
            writer.get_extra_info("socket").setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        try:
            while not self.stopping.is_set():
                connection.waiting_since = time.monotonic()
                if not await self._one_request(connection):
                    break
        except Exception:  # gone, too slow, or unparseable: the connection ends
            pass
        finally:
            self.connections.discard(connection)
            connection.abort()

    async def _one_request(self, connection: Connection) -> bool:
        """Read, process and answer one request; False when the connection is done."""
        limits = self.limits
        reader = connection.reader
        first = await asyncio.wait_for(reader.read(1), limits.idle_timeout)
        if not first:
            return False
        try:
            head = first + await asyncio.wait_for(
                reader.readuntil(b"\r\n\r\n"), limits.header_timeout
            )
        except asyncio.LimitOverrunError:
            await self._reject(connection, None, 431, "the request head is too large")
            return False
        request = _parse_head(head)
        if request is None:
            await self._reject(connection, None, 400, "malformed request")
            return False
        try:
            refusal = admit(request, self.collector.token, self.collector.allowed_hosts)
            if refusal is not None:
                self.collector._log_request(request, -1, refusal.status)
                await self._write(connection, refusal)
                await self._linger(connection)
                return False
            if request.headers.get("expect", "").lower() == "100-continue":
                connection.writer.write(b"HTTP/1.1 100 Continue\r\n\r\n")
            try:
                held = await asyncio.wait_for(
                    self._read_body(connection, request), limits.body_timeout
                )
            except _Reject as reject:
                await self._reject(connection, request, reject.status, str(reject), reject.headers)
                return False
            # Busy only from here: a connection still sending its body is waiting on its
            # client, and may be closed to make room like an idle one.
            connection.busy = True
            try:
                answer = await self._process(request)
            finally:
                self.buffered -= held
                request.body = b""
            if answer is None:  # Refuse, or BlackHole released by a stop
                return False
            await self._write(connection, answer, head_only=request.method == "HEAD")
            if answer.action == "reset":
                _reset(connection)
                return False
            return not answer.close and _keep_alive(request)
        finally:
            connection.busy = False

    async def _process(self, request: Request) -> Answer | None:
        collector = self.collector
        answer = route(request)
        if answer is not None:
            collector._log_request(request, request.size, answer.status)
            return answer
        fault = collector.faults.next() if collector.faults is not None else None
        if isinstance(fault, Refuse | BlackHole):
            collector._log_request(request, request.size, 0)
            if isinstance(fault, BlackHole):
                await self.stopping.wait()
            return None
        if isinstance(fault, Slow):
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self.stopping.wait(), fault.seconds)
        loop = asyncio.get_running_loop()
        answer = await loop.run_in_executor(collector._pool, export, collector, request, fault)
        # Noted before the answer is written, so a client that has its answer also finds its
        # request in ``collector.requests``.
        status = 0 if answer.action == "reset" else answer.status
        collector._log_request(request, request.size, status)
        return answer

    async def _read_body(self, connection: Connection, request: Request) -> int:
        """Read the body into ``request``; returns the bytes reserved in ``buffered``."""
        reader = connection.reader
        headers = request.headers
        pieces: list[bytes] = []
        held = 0
        try:
            if "chunked" in headers.get("transfer-encoding", "").lower():
                while True:
                    line = await reader.readuntil(b"\n")
                    try:
                        size = int(line.split(b";", 1)[0].strip(), 16)
                    except ValueError:
                        raise _Reject(400, "invalid chunk size") from None
                    if size == 0:
                        break
                    held += await self._take(reader, size, pieces, held)
                    await reader.readuntil(b"\n")
                while (await reader.readuntil(b"\n")).strip():
                    pass  # trailers: nothing here needs them
            else:
                raw = headers.get("content-length") or "0"
                if not raw.isdigit():
                    raise _Reject(400, f"invalid Content-Length {raw!r}")
                held += await self._take(reader, int(raw), pieces, held)
        except BaseException:
            self.buffered -= held
            raise
        request.body = b"".join(pieces)
        request.size = len(request.body)
        return held

    async def _take(
        self, reader: asyncio.StreamReader, size: int, pieces: list[bytes], held: int
    ) -> int:
        """Read ``size`` bytes into ``pieces``, counted in ``buffered`` as they arrive."""
        limits = self.limits
        if held + size > limits.max_body:
            raise _Reject(413, f"body of {held + size} bytes is over {limits.max_body}")
        taken = 0
        try:
            while taken < size:
                piece = await reader.read(min(_PIECE, size - taken))
                if not piece:
                    raise _Gone
                if self.buffered + len(piece) > limits.max_buffered:
                    raise _Reject(503, "too many bodies in flight", {"Retry-After": "1"})
                self.buffered += len(piece)
                taken += len(piece)
                pieces.append(piece)
        except BaseException:  # a timeout cancels us here too: give back what we held
            self.buffered -= taken
            raise
        return taken

    async def _reject(
        self,
        connection: Connection,
        request: Request | None,
        status: int,
        message: str,
        headers: dict[str, str] | None = None,
    ) -> None:
        probe = request or Request("", "", {})
        answer = failure(probe, status, message, headers=headers, close=True)
        if request is not None:
            self.collector._log_request(request, -1, status)
        await self._write(connection, answer)
        await self._linger(connection)

    async def _write(
        self, connection: Connection, answer: Answer, *, head_only: bool = False
    ) -> None:
        writer = connection.writer
        if answer.action == "reset":
            writer.write(_cut(answer))
        else:
            writer.write(
                compose(
                    answer.status,
                    answer.body,
                    answer.content_type,
                    answer.headers,
                    close=answer.close,
                    head_only=head_only,
                )
            )
        await asyncio.wait_for(writer.drain(), self.limits.write_timeout)

    async def _linger(self, connection: Connection) -> None:
        """Half-close, then drain what the client still sends, for a bounded time.

        Closing a socket with unread request bytes makes the kernel send a RST, which can
        destroy the answer before the client reads it.
        """
        with contextlib.suppress(OSError, RuntimeError):
            connection.writer.write_eof()
        deadline = time.monotonic() + _LINGER_SECONDS
        with contextlib.suppress(OSError, asyncio.TimeoutError):
            while (left := deadline - time.monotonic()) > 0:
                if not await asyncio.wait_for(connection.reader.read(65536), left):
                    break


def _parse_head(head: bytes) -> Request | None:
    """The request line and headers, or None when they are not HTTP/1.x."""
    try:
        text = head.decode("latin-1")
    except UnicodeDecodeError:  # pragma: no cover - latin-1 decodes any byte
        return None
    lines = text.split("\r\n")
    parts = lines[0].split(" ")
    if len(parts) != 3 or not parts[2].startswith("HTTP/1."):
        return None
    method, target, version = parts
    headers: dict[str, str] = {"http-version": version}
    for line in lines[1:]:
        if not line:
            continue
        name, sep, value = line.partition(":")
        if not sep or not name or name != name.strip():
            return None
        key = name.lower()
        value = value.strip()
        if key == "content-length" and key in headers and headers[key] != value:
            return None  # two different lengths: request smuggling
        headers[key] = (
            f"{headers[key]}, {value}" if key in headers and key != "content-length" else value
        )
    return Request(method, target, headers)


def _keep_alive(request: Request) -> bool:
    connection = request.headers.get("connection", "").lower()
    if request.headers.get("http-version") == "HTTP/1.0":
        return "keep-alive" in connection
    return "close" not in connection


def _cut(answer: Answer) -> bytes:
    """The headers and half the body of ``answer``, promising more bytes than will come, so
    the client is mid-body when the reset lands."""
    promised = answer.body + b"\0" * 100
    whole = compose(200, promised, answer.content_type)
    return whole[: len(whole) - len(promised) + len(answer.body) // 2]


def _reset(connection: Connection) -> None:
    # SO_LINGER (on, 0): closing sends a RST instead of a FIN.
    sock = connection.writer.get_extra_info("socket")
    with contextlib.suppress(OSError):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    connection.abort()
