"""The local OTLP/HTTP logs receiver: lifecycle and what arrived. Request handling
(``_handler``), decoding, storage, printing and schema validation are separate parts.

    with LocalCollector() as collector:
        client = cs_sdk.Client(endpoint=collector.endpoint)
        client.milestone("first_report_created", user_id="u1")
        client.flush()
        assert collector.wait_for(1, timeout=5)
        assert collector.records[0].name == "first_report_created"

An outage, on the same port::

    with collector.down():
        ...   # connections are refused here
    # listening again (or: collector.down(); ...; collector.up())
"""

from __future__ import annotations

import contextlib
import socket
import threading
from dataclasses import dataclass
from typing import Any, TextIO

from ._decode import ReceivedRecord
from ._faults import FaultPlan
from ._handler import _Handler, _Server
from ._printer import Printer
from ._store import SqliteStore


@dataclass(frozen=True, slots=True)
class RequestInfo:
    """What one request looked like and how it was answered.

    ``status`` is 0 when no complete answer was sent (``Refuse``, ``BlackHole``,
    ``ResetMidBody``); ``size`` is the body as received (before gunzip), -1 if unread.
    """

    path: str
    method: str
    headers: dict[str, str]  # names in lower case
    content_type: str
    content_encoding: str | None
    size: int
    status: int


class LocalCollector:
    """An in-process OTLP/HTTP logs receiver on loopback, for tests, demos and development.

    Args:
        host: address to listen on.
        port: 0 picks a free port; :attr:`port` then holds the one bound.
        db: SQLite file to store every record in (see :class:`SqliteStore`).
        printer: a text stream (or a :class:`Printer`) to print one line per event to.
        faults: a :class:`FaultPlan` scripting how the next requests fail.
        schemas: a ``cs_sdk.events`` SchemaValidator that observes each record.
    """

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
        self.schemas = schemas
        self.store = SqliteStore(db) if db else None
        self.printer = (
            printer if isinstance(printer, Printer) or printer is None else Printer(printer)
        )
        self._records: list[ReceivedRecord] = []
        self._requests: list[RequestInfo] = []
        self._changed = threading.Condition()
        self._stopped = threading.Event()  # also releases Slow and BlackHole requests
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()
        self._lifecycle = threading.Lock()
        self._server: _Server | None = None

    # -- lifecycle ------------------------------------------------------------------------

    def start(self) -> LocalCollector:
        """Bind and serve on a daemon thread; returns ``self``."""
        with self._lifecycle:
            self._stopped.clear()
            if self._server is None:
                self._listen()
        return self

    def stop(self) -> None:
        """Stop serving, drop open connections, close the store. Idempotent."""
        with self._lifecycle:
            self._stopped.set()
            self._close_listener()
            if self.store is not None:
                self.store.close()

    def down(self) -> contextlib.AbstractContextManager[LocalCollector]:
        """Simulate an outage: stop listening and drop open connections, keeping the port.

        Takes effect at once. Call :meth:`up` later, or use the result as a context that
        ends the outage on exit::

            with collector.down():
                ...   # connections are refused here
        """
        with self._lifecycle:
            self._close_listener()
        return _Outage(self)

    def up(self) -> None:
        """End an outage: listen again on the same port. A no-op when listening."""
        with self._lifecycle:
            if self._server is None and not self._stopped.is_set():
                self._listen()

    def __enter__(self) -> LocalCollector:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def endpoint(self) -> str:
        """Base URL for ``cs_sdk.init(endpoint=...)``, e.g. ``http://127.0.0.1:4318``."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def _listen(self) -> None:
        server = _Server((self.host, self.port), _Handler)
        server.collector = self
        self.port = server.server_address[1]
        self._server = server
        threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": 0.05},  # how soon shutdown() is noticed
            name=f"cs_sdk.collector:{self.port}",
            daemon=True,
        ).start()

    def _close_listener(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            server.shutdown()
            server.server_close()
        with self._connections_lock:
            connections = list(self._connections)
        # A collector that is down keeps no connection open: keep-alive clients must see it.
        for connection in connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)

    # -- what arrived ---------------------------------------------------------------------

    @property
    def records(self) -> list[ReceivedRecord]:
        """Every record received (and not rejected), in arrival order; a snapshot."""
        with self._changed:
            return list(self._records)

    @property
    def requests(self) -> list[RequestInfo]:
        """Every request, in the order they were answered; a snapshot."""
        with self._changed:
            return list(self._requests)

    def wait_for(self, count: int, timeout: float) -> bool:
        """Wait until at least ``count`` records arrived; False on timeout."""
        with self._changed:
            return self._changed.wait_for(lambda: len(self._records) >= count, timeout)

    def wait_for_requests(self, count: int, timeout: float) -> bool:
        """Wait until at least ``count`` requests were seen (answered or not); False on
        timeout."""
        with self._changed:
            return self._changed.wait_for(lambda: len(self._requests) >= count, timeout)

    def clear(self) -> None:
        """Forget the records and requests received so far (the store keeps its rows)."""
        with self._changed:
            self._records.clear()
            self._requests.clear()

    # -- called by the handler ------------------------------------------------------------

    def _receive(self, records: list[ReceivedRecord]) -> None:
        violations: list[list[str]] | None = None
        if self.schemas is not None:
            violations = [
                list(
                    self.schemas.observe(
                        record.event_name,
                        record.schema_version or "",
                        record.attributes,
                        record.body,
                    )
                    or ()
                )
                for record in records
            ]
        if self.store is not None:
            self.store.add(records)
        with self._changed:
            self._records.extend(records)
            self._changed.notify_all()
        if self.printer is not None:
            # A closed or broken terminal (``cs-sdk collector | head``) must not fail exports.
            with contextlib.suppress(OSError, ValueError):
                self.printer.print_records(records, violations)

    def _log_request(self, handler: _Handler, size: int, status: int) -> None:
        headers = handler.headers
        info = RequestInfo(
            path=handler.path,
            method=handler.command,
            headers={key.lower(): value for key, value in headers.items()},
            content_type=headers.get("Content-Type", ""),
            content_encoding=headers.get("Content-Encoding"),
            size=size,
            status=status,
        )
        with self._changed:
            self._requests.append(info)
            self._changed.notify_all()

    def _track(self, connection: socket.socket, add: bool) -> None:
        with self._connections_lock:
            if add:
                self._connections.add(connection)
            else:
                self._connections.discard(connection)


class _Outage(contextlib.AbstractContextManager["LocalCollector"]):
    def __init__(self, collector: LocalCollector) -> None:
        self._collector = collector

    def __enter__(self) -> LocalCollector:
        return self._collector

    def __exit__(self, *exc: object) -> None:
        self._collector.up()
