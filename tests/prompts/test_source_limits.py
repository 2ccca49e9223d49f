"""A broken or hostile configuration server, or document, costs the host neither time nor
memory: each fetch has a total deadline, the document a size limit, and a malformed one is a
PromptConfigError (at init) or an ERROR line (as a later version), never another exception."""

from __future__ import annotations

import gzip
import logging
import socket
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

import cs_sdk
from cs_sdk import PromptConfigError
from cs_sdk._pilots import open_source
from cs_sdk._prompts import FileSource, UrlSource
from cs_sdk._prompts._fetch import MAX_DOCUMENT_BYTES

GOOD = b'{"pilots": [{"id": "beta"}]}'
BUDGET = 1.0  # the fetch deadline these tests give; the documented default is 5 s
GUARD = 15.0  # a hang guard, over 10x the budget; without a deadline these never end


class HostileServer:
    """A loopback HTTP server whose every connection is answered by ``answer(conn)``."""

    def __init__(self, answer: Callable[[socket.socket, threading.Event], None]) -> None:
        self._answer = answer
        self.stop = threading.Event()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.1)
        self.url = f"http://127.0.0.1:{self._listener.getsockname()[1]}/pilots.json"
        self._threads: list[threading.Thread] = []
        self._accept = threading.Thread(target=self._serve, daemon=True)
        self._accept.start()

    def _serve(self) -> None:
        while not self.stop.is_set():
            try:
                conn, _ = self._listener.accept()
            except OSError:
                continue
            thread = threading.Thread(target=self._handle, args=(conn,), daemon=True)
            thread.start()
            self._threads.append(thread)

    def _handle(self, conn: socket.socket) -> None:
        with conn:
            conn.settimeout(1.0)
            try:
                conn.recv(65536)  # the request
                self._answer(conn, self.stop)
            except OSError:
                pass  # the client gave up: what these tests want

    def close(self) -> None:
        self.stop.set()
        self._accept.join(GUARD)
        for thread in self._threads:
            thread.join(GUARD)
        self._listener.close()


def drip(data: bytes, every: float) -> Callable[[socket.socket, threading.Event], None]:
    def answer(conn: socket.socket, stop: threading.Event) -> None:
        for byte in data:
            if stop.wait(every):
                return
            conn.sendall(bytes([byte]))

    return answer


def at_once(head: bytes, body: bytes) -> Callable[[socket.socket, threading.Event], None]:
    def answer(conn: socket.socket, stop: threading.Event) -> None:
        conn.sendall(head + body)

    return answer


DRIPPED_HEADERS = b"HTTP/1.1 200 OK\r\n" + b"X-Slow: " + b"a" * 10_000 + b"\r\n\r\n"
DRIPPED_BODY = (
    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n"
    + b" " * 100_000
)


@pytest.fixture
def serve() -> Iterator[Callable[..., HostileServer]]:
    servers: list[HostileServer] = []

    def start(answer: Callable[[socket.socket, threading.Event], None]) -> HostileServer:
        servers.append(HostileServer(answer))
        return servers[-1]

    yield start
    for server in servers:
        server.close()


def _bounded(call: Callable[[], object]) -> float:
    """Run ``call`` on a thread; fail if it is still running after GUARD seconds."""
    done = threading.Event()
    started = time.monotonic()

    def run() -> None:
        try:
            call()
        finally:
            done.set()

    threading.Thread(target=run, daemon=True).start()
    assert done.wait(GUARD), "the fetch was still running after the hang guard"
    return time.monotonic() - started


@pytest.mark.parametrize("answer", [DRIPPED_HEADERS, DRIPPED_BODY], ids=["headers", "body"])
def test_a_server_dripping_one_byte_at_a_time_cannot_hold_the_first_fetch(
    serve: Callable[..., HostileServer], answer: bytes
) -> None:
    # A byte every 0.3 s keeps every read within its timeout: only a total deadline ends it.
    server = serve(drip(answer, 0.3))
    sources: list[object] = []
    _bounded(lambda: sources.append(open_source(server.url, timeout=BUDGET)))
    (source,) = sources
    assert isinstance(source, UrlSource) and source.document is None
    source.close()


def test_init_with_a_dripping_prompts_url_returns(serve: Callable[..., HostileServer]) -> None:
    server = serve(drip(DRIPPED_BODY, 0.3))
    clients: list[cs_sdk.Client] = []
    _bounded(
        lambda: clients.append(
            cs_sdk.Client(environ={}, endpoint="http://127.0.0.1:9", prompts=server.url,
                          timeout=BUDGET)
        )
    )  # fmt: skip
    clients[0].shutdown(0)


def test_reload_does_not_wait_behind_the_pollers_fetch(
    serve: Callable[..., HostileServer],
) -> None:
    server = serve(drip(DRIPPED_BODY, 0.3))
    source = UrlSource(server.url, interval=0.01, timeout=BUDGET)
    source.start()
    time.sleep(0.1)  # the poller is inside a dripping fetch now
    results: list[bool] = []
    _bounded(lambda: results.append(source.reload()))
    assert results == [False]
    source.close()


@pytest.mark.parametrize(
    ("head", "body"),
    [
        # Announced: refused before a byte of the body is read.
        (b"HTTP/1.1 200 OK\r\nContent-Length: 8589934592\r\n\r\n", b"{"),
        # Not announced: read up to the limit, then refused.
        (
            b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n",
            b'{"pilots": [' + b" " * (MAX_DOCUMENT_BYTES + 10) + b"]}",
        ),
        # A gzip bomb: 64 MiB of spaces in about 64 KiB, inflated only up to the limit.
        (
            b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nConnection: close\r\n\r\n",
            gzip.compress(b"{" + b" " * (64 << 20) + b"}", compresslevel=9),
        ),
    ],
    ids=["content-length", "body", "gzip-bomb"],
)
def test_a_document_over_the_size_limit_is_rejected_with_an_error(
    serve: Callable[..., HostileServer],
    head: bytes,
    body: bytes,
    caplog: pytest.LogCaptureFixture,
) -> None:
    server = serve(at_once(head, body))
    source = UrlSource(server.url, timeout=GUARD)
    with caplog.at_level(logging.DEBUG, logger="cs_sdk"):
        assert not source.reload()
    assert source.document is None
    errors = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert len(errors) == 1 and "larger than" in errors[0].getMessage()
    source.close()


def test_a_large_local_file_is_refused_without_reading_it_whole(tmp_path: Path) -> None:
    path = tmp_path / "pilots.json"
    path.write_bytes(b'{"pilots": [' + b" " * (MAX_DOCUMENT_BYTES + 1) + b"]}")
    with pytest.raises(PromptConfigError, match="larger than"):
        FileSource(path).load()


def test_long_lists_are_refused(tmp_path: Path) -> None:
    pilots = ", ".join(f'{{"id": "p{i}"}}' for i in range(1001))
    path = tmp_path / "pilots.json"
    path.write_text(f'{{"pilots": [{pilots}]}}')
    with pytest.raises(PromptConfigError, match=r"pilots: .*at most 1000"):
        FileSource(path).load()


MALFORMED = {
    "invalid UTF-8 (json)": ("pilots.json", b'{"pilots": [{"id": "b\xff\xfe"}]}', "UTF-8"),
    "invalid UTF-8 (toml)": ("pilots.toml", b'[[pilots]]\nid = "\xc3\x28"\n', "UTF-8"),
    "nested 10^5 deep (json)": ("pilots.json", b'{"a": ' + b"[" * 100_000, "nested"),
    "nested 10^5 deep (toml)": ("pilots.toml", b"a = " + b"[" * 100_000, "nested"),
    "nested 10^5 deep (yaml)": ("pilots.yaml", b"a: " + b"[" * 100_000, "nested"),
}


@pytest.mark.parametrize(("name", "data", "problem"), MALFORMED.values(), ids=MALFORMED)
def test_a_malformed_document_at_init_is_a_prompt_config_error(
    tmp_path: Path, name: str, data: bytes, problem: str
) -> None:
    path = tmp_path / name
    path.write_bytes(data)
    with pytest.raises(PromptConfigError, match=problem):
        cs_sdk.Client(environ={}, endpoint="http://127.0.0.1:9", prompts=str(path))


@pytest.mark.parametrize(("name", "data", "problem"), MALFORMED.values(), ids=MALFORMED)
def test_a_malformed_later_version_is_dropped_with_an_error_line(
    tmp_path: Path, name: str, data: bytes, problem: str, caplog: pytest.LogCaptureFixture
) -> None:
    good = {"json": GOOD, "toml": b'[[pilots]]\nid = "beta"\n', "yaml": b"pilots:\n- id: beta\n"}
    path = tmp_path / name
    path.write_bytes(good[name.rsplit(".", 1)[1]])
    source = FileSource(path, check_interval=0)
    first = source.load()
    path.write_bytes(data)
    with caplog.at_level(logging.DEBUG, logger="cs_sdk"):
        assert not source.reload()
    assert source.document is first
    errors = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert len(errors) == 1 and problem in errors[0].getMessage()


def test_a_malformed_later_version_from_a_url_is_dropped_with_an_error_line(
    serve: Callable[..., HostileServer], caplog: pytest.LogCaptureFixture
) -> None:
    head = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n"
    server = serve(at_once(head, b'{"pilots": [{"id": "\xff"}]}'))
    source = UrlSource(server.url, timeout=GUARD)
    with caplog.at_level(logging.DEBUG, logger="cs_sdk"):
        assert not source.reload()
    errors = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert len(errors) == 1 and "UTF-8" in errors[0].getMessage()
    source.close()
