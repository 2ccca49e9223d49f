"""``bounded_get``: fetch a configuration document within a size limit and a total deadline.

A configuration server is outside the application: a broken or hostile one must cost it
neither memory nor time. httpx's timeouts bound each read, not the whole request, so a server
that sends one byte every two seconds (headers or body) would hold a fetch for ever. Here:

- a watchdog timer shuts the connection's socket down when the total deadline passes, which
  wakes a read blocked in the kernel (headers included); the body loop checks it as well;
- the body is read raw and inflated here, never past ``max_bytes`` (a 1 KiB gzip body can
  inflate to gigabytes), and a ``Content-Length`` over the limit is refused before reading;
- only ``gzip``/``deflate``/``identity`` encodings are asked for and accepted.

Failures are values: :class:`FetchFailed` carries the reason, worded for a log line.

    >>> fetched = bounded_get(client, url, {}, timeout=5.0, max_bytes=1 << 20)  # doctest: +SKIP
    >>> fetched.status, len(fetched.content)  # doctest: +SKIP
    (200, 2048)
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
import zlib
from dataclasses import dataclass
from typing import Any

import httpx

from ._document import MAX_DOCUMENT_BYTES

__all__ = ["MAX_DOCUMENT_BYTES", "FetchFailed", "Fetched", "bounded_get"]

_INFLATE_ANY = 47  # zlib: a gzip or a zlib header, detected


class FetchFailed(Exception):
    """The document could not be fetched; ``str()`` says why (no URL, no secrets)."""

    def __init__(self, reason: str, *, rejected: bool = False) -> None:
        super().__init__(reason)
        # True: the server sent something we refuse (too large): an error, like an invalid
        # document. False: it could not be fetched in time (network, deadline): a warning.
        self.rejected = rejected


@dataclass(frozen=True, slots=True)
class Fetched:
    status: int
    content: bytes
    etag: str | None
    content_type: str | None


class _Watchdog:
    """Shuts down the sockets of one request when its deadline passes."""

    def __init__(self, seconds: float) -> None:
        self.deadline = time.monotonic() + seconds
        self.expired = False
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()
        self._timer = threading.Timer(seconds, self._expire)
        self._timer.daemon = True
        self._timer.start()

    def trace(self, event: str, info: dict[str, Any]) -> None:
        # httpcore reports each new connection; a reused one is covered by the body loop.
        if event not in ("connection.connect_tcp.complete", "connection.start_tls.complete"):
            return
        stream = info.get("return_value")
        sock = stream.get_extra_info("socket") if stream is not None else None
        if isinstance(sock, socket.socket):
            with self._lock:
                self._sockets.append(sock)
                if self.expired:
                    _shut(sock)

    def _expire(self) -> None:
        with self._lock:
            self.expired = True
            for sock in self._sockets:
                _shut(sock)

    def check(self) -> None:
        if self.expired or time.monotonic() >= self.deadline:
            self.expired = True
            raise FetchFailed("no complete answer within the deadline")

    def cancel(self) -> None:
        self._timer.cancel()


def _shut(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)


def bounded_get(
    http: httpx.Client,
    url: str,
    headers: dict[str, str],
    *,
    timeout: float,
    max_bytes: int = MAX_DOCUMENT_BYTES,
) -> Fetched:
    """GET ``url``: the whole exchange within ``timeout`` seconds, the body within
    ``max_bytes`` after decompression.

    Raises:
        FetchFailed: network error, deadline passed, body too large or badly encoded.
    """
    watchdog = _Watchdog(timeout)
    try:
        with http.stream(
            "GET",
            url,
            headers={**headers, "Accept-Encoding": "gzip, deflate, identity"},
            timeout=timeout,
            extensions={"trace": watchdog.trace},
        ) as response:
            watchdog.check()
            etag = response.headers.get("ETag")
            content_type = response.headers.get("Content-Type")
            if response.status_code != 200:
                return Fetched(response.status_code, b"", etag, content_type)
            return Fetched(200, _read(response, watchdog, max_bytes), etag, content_type)
    except httpx.HTTPError as error:
        if watchdog.expired or time.monotonic() >= watchdog.deadline:
            raise FetchFailed("no complete answer within the deadline") from None
        raise FetchFailed(type(error).__name__) from None
    finally:
        watchdog.cancel()


def _read(response: httpx.Response, watchdog: _Watchdog, max_bytes: int) -> bytes:
    too_large = FetchFailed(f"the document is larger than {max_bytes} bytes", rejected=True)
    declared = response.headers.get("Content-Length", "")
    if declared.isdigit() and int(declared) > max_bytes:
        raise too_large
    if response.is_stream_consumed:
        # Built in memory by a transport (httpx.MockTransport in tests): already read and
        # decoded, so only its size is left to check.
        if len(response.content) > max_bytes:
            raise too_large
        return response.content
    encoding = response.headers.get("Content-Encoding", "identity").strip().lower()
    if encoding not in ("identity", "", "gzip", "x-gzip", "deflate"):
        raise FetchFailed(f"unsupported Content-Encoding {encoding[:32]!r}", rejected=True)
    inflater = zlib.decompressobj(_INFLATE_ANY) if encoding not in ("identity", "") else None
    body = bytearray()
    try:
        for raw in response.iter_raw():
            watchdog.check()
            if inflater is None:
                body += raw
            else:
                # Never more than the limit (plus one byte, to know it was passed).
                body += inflater.decompress(raw, max_bytes + 1 - len(body))
                if inflater.unconsumed_tail:
                    raise too_large
            if len(body) > max_bytes:
                raise too_large
        if inflater is not None:
            body += inflater.flush(max_bytes + 1 - len(body))
            if len(body) > max_bytes:
                raise too_large
    except zlib.error:
        raise FetchFailed(f"the {encoding} body is corrupt", rejected=True) from None
    watchdog.check()
    return bytes(body)
