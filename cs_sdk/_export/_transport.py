"""HTTP transport: one POST of an encoded batch through an ``httpx.Client``.

The transport only moves bytes and reports what happened; retry decisions live in
``_retry.py`` and accounting in the exporter. It never raises.

Two bounds hold whatever the collector does (a broken or hostile one included):

* **Size.** The answer is streamed raw (no automatic inflation) and reading stops at
  ``MAX_ANSWER_BYTES``; a compressed answer is inflated by us, to the same limit. An OTLP
  answer is a few bytes: one larger than the limit is treated as having no body.
* **Time.** Each attempt has a wall-clock deadline. httpx's timeouts bound each socket read,
  not the whole answer, so a collector dripping a byte a second would hold the only slot for
  ever; a watchdog closes the attempt's socket when its deadline passes. ``abort()`` does the
  same at once (shutdown): closing an httpx client does not wake a read that is blocked.
  With an ``http_client=`` of the application's, the SDK cannot reach its sockets: an attempt
  is then bounded by httpx's per-read timeout only, and at shutdown the pipeline gives the
  batch up (spooled or counted) without cutting the request.

httpx is imported here, and the client built, by ``init()`` on the caller's thread, never by
``import cs_sdk`` and never on the worker or sender thread: an import on a background thread
can break the application's own import of the same package when the two interleave (Python's
per-module locks then hand one of them a partially initialised module;
tests/test_cold_start.py races them).
"""

from __future__ import annotations

import contextlib
import email.utils

# The codec a host name goes through on connecting (socket.getaddrinfo): Python loads it at
# the first connection, which is the sender thread's; loaded here by init() instead.
import encodings.idna  # noqa: F401
import socket
import threading
import time
import weakref
import zlib
from dataclasses import dataclass
from typing import Any, Final

import httpx

from .._config import Config, shown_url
from .._http_log import sdk_request

# An ExportLogsServiceResponse or a google.rpc.Status is tens of bytes; this is plenty.
MAX_ANSWER_BYTES: Final = 64 * 1024


@dataclass(frozen=True, slots=True)
class TransportResult:
    """What one POST returned: a status and body, or the connection error."""

    status_code: int | None
    body: bytes = b""
    content_type: str = ""
    retry_after: float | None = None
    error: str | None = None
    url: str = ""  # the URL that answered, credentials removed (for messages)

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header: delta-seconds or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when is None:
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


class _TrackingBackend:
    """httpcore's network backend, remembering each socket it opens so it can be cut."""

    def __init__(self, backend: Any) -> None:
        self._backend = backend
        self.sockets: weakref.WeakSet[socket.socket] = weakref.WeakSet()

    def connect_tcp(self, *args: Any, **kwargs: Any) -> Any:
        stream = self._backend.connect_tcp(*args, **kwargs)
        sock = stream.get_extra_info("socket")
        if isinstance(sock, socket.socket):
            self.sockets.add(sock)
        return stream

    def __getattr__(self, name: str) -> Any:  # connect_unix_socket, sleep
        return getattr(self._backend, name)

    def cut(self) -> None:
        """Shut every open socket down: a read blocked on one returns at once."""
        for sock in list(self.sockets):
            with contextlib.suppress(OSError):  # already closed
                sock.shutdown(socket.SHUT_RDWR)


class _Watchdog:
    """Calls ``cut`` when the armed deadline passes; one thread, started on first use."""

    def __init__(self, cut: Any) -> None:
        self._cut = cut
        self._deadline: float | None = None
        self._condition = threading.Condition()
        self._thread: threading.Thread | None = None
        self._closed = False

    def arm(self, deadline: float) -> None:
        with self._condition:
            self._deadline = deadline
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="cs_sdk.deadline")
                self._thread.daemon = True
                self._thread.start()
            self._condition.notify()

    def disarm(self) -> None:
        with self._condition:
            self._deadline = None

    def close(self) -> None:
        with self._condition:
            self._closed = True
            self._condition.notify()

    def _run(self) -> None:
        with self._condition:
            while not self._closed:
                deadline = self._deadline
                if deadline is None:
                    self._condition.wait()
                    continue
                remaining = deadline - time.monotonic()
                if remaining > 0:
                    self._condition.wait(remaining)
                    continue
                self._deadline = None
                self._cut()


def _tracking_transport(verify: bool | str) -> tuple[httpx.HTTPTransport, _TrackingBackend | None]:
    transport = httpx.HTTPTransport(
        verify=verify, limits=httpx.Limits(max_connections=2, max_keepalive_connections=1)
    )
    # httpx offers no public way to reach its sockets; the pool's backend is the narrowest
    # seam (tests/export/test_http.py fails if a new httpx moves it: nothing else breaks).
    pool = getattr(transport, "_pool", None)
    backend = getattr(pool, "_network_backend", None)
    if backend is None:
        return transport, None
    tracking = _TrackingBackend(backend)
    pool._network_backend = tracking  # type: ignore[union-attr]
    return transport, tracking


def _inflate(data: bytes, encoding: str) -> bytes | None:
    """A compressed answer inflated to at most MAX_ANSWER_BYTES; None if it is larger/bad."""
    if encoding in ("", "identity"):
        return data
    if encoding not in ("gzip", "deflate", "x-gzip"):
        return None
    inflater = zlib.decompressobj(47)  # 32 + 15: gzip or zlib header, detected
    try:
        out = inflater.decompress(data, MAX_ANSWER_BYTES + 1)
    except zlib.error:
        return None
    return out if len(out) <= MAX_ANSWER_BYTES else None


class HttpTransport:
    """POSTs bodies to the logs endpoint with the configured headers and TLS settings."""

    def __init__(self, config: Config, client: httpx.Client | None = None) -> None:
        self.url = config.logs_endpoint
        self.shown_url = shown_url(self.url)  # for logs: no credentials
        self._timeout = config.timeout
        verify: bool | str = config.certificate if config.certificate else config.verify
        self._owns_client = client is None
        self._tracking: _TrackingBackend | None = None
        if client is None:
            transport, self._tracking = _tracking_transport(verify)
            client = httpx.Client(transport=transport, timeout=config.timeout)
        self._client = client
        self._watchdog = _Watchdog(self.abort)
        self._headers = {
            "User-Agent": "cs-sdk-python",
            **config.headers,
        }
        # Values that must never appear in a message (tokens), longest first.
        self._secrets = sorted((v for v in config.headers.values() if v), key=len, reverse=True)

    def send(
        self, body: bytes, *, content_type: str, gzip: bool, timeout: float
    ) -> TransportResult:
        """One attempt, over within ``timeout`` seconds of wall-clock time whatever happens."""
        headers = {**self._headers, "Content-Type": content_type}
        if gzip:
            headers["Content-Encoding"] = "gzip"
        timeout = max(timeout, 0.001)
        self._watchdog.arm(time.monotonic() + timeout)
        try:
            # sdk_request(): httpx's INFO line per batch becomes DEBUG (_http_log.py)
            with (
                sdk_request(),
                self._client.stream(
                    "POST", self.url, content=body, headers=headers, timeout=timeout
                ) as response,
            ):
                raw, encoding = bytearray(), response.headers.get("content-encoding", "")
                try:
                    for chunk in response.iter_raw():
                        raw += chunk
                        if len(raw) > MAX_ANSWER_BYTES:
                            break  # leaving the block closes the connection: no more is read
                except httpx.StreamConsumed:
                    # Read already by an in-memory transport (httpx.MockTransport, respx):
                    # nothing came from a network, and it is inflated already.
                    raw, encoding = bytearray(response.content[: MAX_ANSWER_BYTES + 1]), ""
                status = response.status_code
                answer_headers = response.headers
        except httpx.TimeoutException as error:
            message = f"timeout: {type(error).__name__}"
            return TransportResult(None, error=message, url=self.shown_url)
        except Exception as error:  # connection errors, a closed client, an SSL oddity
            return TransportResult(None, error=self._scrub(error), url=self.shown_url)
        finally:
            self._watchdog.disarm()
        answer = None
        if len(raw) <= MAX_ANSWER_BYTES:
            answer = _inflate(bytes(raw), encoding.lower())
        return TransportResult(
            status,
            body=answer or b"",
            content_type=answer_headers.get("content-type", "") if answer else "",
            retry_after=parse_retry_after(answer_headers.get("retry-after")),
            url=self.shown_url,
        )

    def _scrub(self, error: BaseException) -> str:
        """The error's text without any configured header value, in any of its spellings."""
        text = f"{type(error).__name__}: {error}"
        for secret in self._secrets:
            for form in (secret, repr(secret), repr(secret.encode("utf-8", "replace"))):
                text = text.replace(form, "[redacted]")
            text = text.replace(secret.strip(), "[redacted]") if secret.strip() else text
        return text[:500]

    def abort(self) -> None:
        """Cut the attempt in flight (its read returns an error at once)."""
        if self._tracking is not None:
            self._tracking.cut()

    def close(self) -> None:
        self.abort()
        self._watchdog.close()
        if self._owns_client:
            self._client.close()
