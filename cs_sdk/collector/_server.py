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

import asyncio
import concurrent.futures
import contextlib
import ipaddress
import logging
import resource
import threading
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Final, TextIO

from ._decode import ReceivedRecord
from ._faults import FaultPlan
from ._handler import LOOPBACK_NAMES, Request
from ._io import Server
from ._limits import Limits
from ._printer import Printer
from ._store import SqliteStore

logger = logging.getLogger("cs_sdk.collector")

KEEP: Final = 100_000  # records (and requests) kept in memory for tests; older ones dropped
DUPLICATE_WINDOW: Final = 100_000  # event ids remembered to count redeliveries
_FD_RESERVE: Final = 64  # descriptors left for the database, the pool and the printer
_STOP_GRACE: Final = 10.0


@dataclass(frozen=True, slots=True)
class RequestInfo:
    """What one request looked like and how it was answered.

    ``status`` is 0 when no complete answer was sent (``Refuse``, ``BlackHole``,
    ``ResetMidBody``); ``size`` is the body as received (before gunzip), -1 if unread.
    ``headers`` show an Authorization value as ``***``.
    """

    path: str
    method: str
    headers: dict[str, str]  # names in lower case
    content_type: str
    content_encoding: str | None
    size: int
    status: int


def is_loopback(host: str) -> bool:
    """Whether ``host`` (an address or ``localhost``) only accepts this machine's traffic."""
    if host.strip("[]").lower() in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _fd_room(wanted: int) -> int:
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY:
        return wanted
    return max(min(wanted, 16), min(wanted, soft - _FD_RESERVE))


class LocalCollector:
    """An in-process OTLP/HTTP logs receiver on loopback, for tests, demos and development.

    Args:
        host: address to listen on. Anything but loopback is logged as a warning: events
            carry user ids and comments.
        port: 0 picks a free port; :attr:`port` then holds the one bound.
        db: SQLite file to store every record in (see :class:`SqliteStore`).
        printer: a text stream (or a :class:`Printer`) to print one line per event to.
        faults: a :class:`FaultPlan` scripting how the next requests fail.
        schemas: a ``cs_sdk.events`` SchemaValidator that observes each record.
        limits: bounds on what a sender can make the collector do (:class:`Limits`).
        token: when set, exports need ``Authorization: Bearer <token>`` (401 otherwise).
        allowed_hosts: Host header names accepted (port ignored), against DNS rebinding.
            Default: the loopback names when bound to loopback, any name otherwise.
        keep: how many recent records and requests :attr:`records` and :attr:`requests`
            hold; counters (:attr:`received`, :attr:`duplicates`) cover everything. 0 keeps
            none, for a long-running collector.
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
        limits: Limits | None = None,
        token: str | None = None,
        allowed_hosts: Iterable[str] | None = None,
        keep: int = KEEP,
    ) -> None:
        self.host = host
        self.port = port
        self.faults = faults
        self.schemas = schemas
        self.limits = limits or Limits()
        self.token = token or None
        if allowed_hosts is not None:
            self.allowed_hosts: frozenset[str] | None = frozenset(h.lower() for h in allowed_hosts)
        elif is_loopback(host):
            self.allowed_hosts = LOOPBACK_NAMES | {host.lower()}
        else:
            self.allowed_hosts = None
        self.max_connections = _fd_room(self.limits.max_connections)
        self.store = (
            SqliteStore(db, chunk=self.limits.insert_chunk, max_id=self.limits.max_id_length)
            if db
            else None
        )
        self.printer = (
            printer if isinstance(printer, Printer) or printer is None else Printer(printer)
        )
        self._records: deque[ReceivedRecord] = deque(maxlen=keep)
        self._requests: deque[RequestInfo] = deque(maxlen=keep)
        self._received = 0  # since the last clear(), for wait_for()
        self._requested = 0
        self.received_total = 0
        self._recent_ids: deque[str] = deque()
        self._recent_set: set[str] = set()
        self.duplicates = 0
        self._changed = threading.Condition()
        self._stopped = threading.Event()
        self._lifecycle = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._server: Server | None = None
        self._pool: concurrent.futures.ThreadPoolExecutor | None = None
        self._listening = False

    # -- lifecycle ------------------------------------------------------------------------

    def start(self) -> LocalCollector:
        """Bind and serve on a daemon thread; returns ``self``. Raises OSError when the
        address cannot be bound."""
        if not is_loopback(self.host):
            logger.warning(
                "cs-sdk collector listens on %s, reachable from other machines; events carry "
                "user ids and comments (use a token, or 127.0.0.1)",
                self.host,
            )
        with self._lifecycle:
            self._stopped.clear()
            if self._loop is None:
                self._start_loop()
            if not self._listening:
                self._listen()
        return self

    def stop(self) -> None:
        """Stop: no new connections, let requests being stored finish (bounded), close
        the rest and the store. Nothing answered 200 is left unstored. Idempotent."""
        with self._lifecycle:
            self._stopped.set()
            loop, server = self._loop, self._server
            if loop is not None and server is not None:
                with contextlib.suppress(Exception):
                    self._call(server.drain(_STOP_GRACE), _STOP_GRACE + 5)
                self._stop_loop()
            self._listening = False
            if self._pool is not None:
                self._pool.shutdown(wait=True)  # a store in progress completes
                self._pool = None
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
            if self._server is not None and self._listening:
                self._call(self._server.close_listener(), 10)
                self._listening = False
        return _Outage(self)

    def up(self) -> None:
        """End an outage: listen again on the same port. A no-op when listening."""
        with self._lifecycle:
            if self._loop is not None and not self._listening and not self._stopped.is_set():
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

    def _start_loop(self) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        self._pool = concurrent.futures.ThreadPoolExecutor(
            self.limits.max_concurrent, thread_name_prefix="cs_sdk.collector.worker"
        )
        self._thread = threading.Thread(
            target=loop.run_forever, name="cs_sdk.collector", daemon=True
        )
        self._thread.start()
        self._server = self._call(_make(Server, self), 10)

    def _stop_loop(self) -> None:
        loop, thread = self._loop, self._thread
        self._loop = self._thread = self._server = None
        if loop is None:
            return

        async def cancel_all() -> None:
            tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

        with contextlib.suppress(Exception):
            asyncio.run_coroutine_threadsafe(cancel_all(), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)
        if thread is not None:
            thread.join(10)
        if not loop.is_running():
            loop.close()

    def _listen(self) -> None:
        assert self._server is not None
        self.port = self._call(self._server.listen(self.host, self.port), 10)
        self._listening = True

    def _call(self, coroutine: Any, timeout: float) -> Any:
        assert self._loop is not None
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(timeout)

    # -- what arrived ---------------------------------------------------------------------

    @property
    def records(self) -> list[ReceivedRecord]:
        """The last ``keep`` records received (and not rejected), in arrival order."""
        with self._changed:
            return list(self._records)

    @property
    def requests(self) -> list[RequestInfo]:
        """The last ``keep`` requests, in the order they were answered; a snapshot."""
        with self._changed:
            return list(self._requests)

    @property
    def received(self) -> int:
        """Records received since the start or the last :meth:`clear`."""
        with self._changed:
            return self._received

    def wait_for(self, count: int, timeout: float) -> bool:
        """Wait until at least ``count`` records arrived; False on timeout."""
        with self._changed:
            return self._changed.wait_for(lambda: self._received >= count, timeout)

    def wait_for_requests(self, count: int, timeout: float) -> bool:
        """Wait until at least ``count`` requests were seen (answered or not); False on
        timeout."""
        with self._changed:
            return self._changed.wait_for(lambda: self._requested >= count, timeout)

    def clear(self) -> None:
        """Forget the records and requests received so far (the store keeps its rows)."""
        with self._changed:
            self._records.clear()
            self._requests.clear()
            self._received = self._requested = 0

    # -- called by the request handling ---------------------------------------------------

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
            self._received += len(records)
            self.received_total += len(records)
            self._count_duplicates(records)
            self._changed.notify_all()
        if self.printer is not None:
            # A closed or broken terminal (``cs-sdk collector | head``) must not fail exports.
            with contextlib.suppress(OSError, ValueError):
                self.printer.print_records(records, violations)

    def _count_duplicates(self, records: list[ReceivedRecord]) -> None:
        # A window of recent ids, not all of them: redeliveries come within seconds, and a
        # collector that runs for days must not grow with every event.
        seen, order = self._recent_set, self._recent_ids
        for record in records:
            event_id = record.event_id
            if event_id is None:
                continue
            if event_id in seen:
                self.duplicates += 1
                continue
            seen.add(event_id)
            order.append(event_id)
            if len(order) > DUPLICATE_WINDOW:
                seen.discard(order.popleft())

    def _log_request(self, request: Request, size: int, status: int) -> None:
        headers = {
            key: "***" if key in ("authorization", "proxy-authorization") else value
            for key, value in request.headers.items()
            if key != "http-version"
        }
        info = RequestInfo(
            path=request.target,
            method=request.method,
            headers=headers,
            content_type=headers.get("content-type", ""),
            content_encoding=headers.get("content-encoding"),
            size=size,
            status=status,
        )
        with self._changed:
            self._requests.append(info)
            self._requested += 1
            self._changed.notify_all()


async def _make(factory: Any, collector: LocalCollector) -> Any:
    return factory(collector)  # built on the loop: its asyncio.Event belongs there


class _Outage(contextlib.AbstractContextManager["LocalCollector"]):
    def __init__(self, collector: LocalCollector) -> None:
        self._collector = collector

    def __enter__(self) -> LocalCollector:
        return self._collector

    def __exit__(self, *exc: object) -> None:
        self._collector.up()
