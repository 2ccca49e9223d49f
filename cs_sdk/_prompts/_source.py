"""Where the configuration document comes from, and how a new version replaces the old.

- :class:`FileSource` re-reads the file when its mtime, size or inode changes, checked at most
  every ``check_interval`` seconds from :meth:`~cs_sdk._prompts.Prompts.next_for` (a ``stat``
  call; no thread).
- :class:`UrlSource` polls an http(s) URL from one daemon thread with ``If-None-Match``; a
  ``304`` keeps the current document. Each fetch has a total deadline and the document a
  size limit (1 MiB after decompression; see ``_fetch.py``).
- :class:`StaticSource` holds a document given in code (tests, generated configurations).

In every case a new version that fails validation is rejected with one error on the
``cs_sdk`` logger, and the last good document stays in force.

    >>> source = FileSource("pilots.toml")   # doctest: +SKIP
    >>> source.load()                        # raises PromptConfigError if invalid  # doctest: +SKIP
    >>> source.document.prompts[0].id        # doctest: +SKIP
    'nps-after-first-report'
"""

from __future__ import annotations

import hashlib
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Protocol
from urllib.parse import urlsplit

from .._config import shown_url
from .._errors import PromptConfigError
from .._fork import register_for_fork
from .._http_log import sdk_request
from .._log import logger, warn_once

if TYPE_CHECKING:
    import httpx

    from ._config import PromptConfig

# The document's models (pydantic) and the URL fetcher (httpx) are imported by the sources
# that need them, when they are built or first load: not by `import cs_sdk` or init().

__all__ = ["ConfigSource", "FileSource", "StaticSource", "UrlSource"]

_REJECTED = (
    "cs_sdk: rejected a new version of the prompt configuration; the last good one stays "
    "in force:\n%s"
)


class ConfigSource(Protocol):
    """What the prompt engine reads its document from."""

    @property
    def document(self) -> PromptConfig | None:
        """The document in force, or ``None`` before a good one was loaded."""
        ...

    def poll(self) -> None:
        """Cheap; called on every evaluation. Checks for a new version when it is time."""
        ...

    def reload(self) -> bool:
        """Check for a new version now. True when a different document came into force."""
        ...

    def close(self) -> None: ...


class StaticSource:
    """A document given in code; it never changes."""

    def __init__(self, document: PromptConfig | None) -> None:
        self._document = document

    @property
    def document(self) -> PromptConfig | None:
        return self._document

    def poll(self) -> None:
        pass

    def reload(self) -> bool:
        return False

    def close(self) -> None:
        pass


class FileSource:
    """A document in a local file, reloaded when the file changes."""

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        check_interval: float = 2.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.path = Path(path)
        self._check_interval = check_interval
        self._monotonic = monotonic
        self._document: PromptConfig | None = None
        self._signature: tuple[int, int, int] | None = None
        self._next_check = 0.0
        self._lock = threading.Lock()
        register_for_fork(self)

    def _reinit_after_fork(self) -> None:
        # A parent thread may have been re-reading the file at the fork.
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"FileSource({str(self.path)!r})"

    @property
    def document(self) -> PromptConfig | None:
        return self._document

    def load(self) -> PromptConfig:
        """The first load: unlike later reloads, a bad file raises.

        Raises:
            PromptConfigError: the file is missing or invalid.
        """
        from ._config import load_config

        with self._lock:
            signature = self._stat()
            document = load_config(self.path)
            self._signature, self._document = signature, document
            self._next_check = self._monotonic() + self._check_interval
            return document

    def poll(self) -> None:
        now = self._monotonic()
        if now < self._next_check:
            return
        # One thread checks; the others carry on with the current document.
        if not self._lock.acquire(blocking=False):
            return
        try:
            self._next_check = now + self._check_interval
            self._check()
        finally:
            self._lock.release()

    def reload(self) -> bool:
        with self._lock:
            self._next_check = self._monotonic() + self._check_interval
            return self._check()

    def _stat(self) -> tuple[int, int, int]:
        try:
            stat = os.stat(self.path)
        except OSError as error:
            raise PromptConfigError(
                f"{self.path}: cannot read the configuration: {error}"
            ) from None
        return stat.st_mtime_ns, stat.st_size, stat.st_ino

    def _check(self) -> bool:
        try:
            signature = self._stat()
        except PromptConfigError as error:
            warn_once(f"prompts:file:{self.path}", "cs_sdk: %s; the last good one stays", error)
            return False
        if signature == self._signature:
            return False
        # Remembered even when the new version is bad, so it is parsed and logged once.
        self._signature = signature
        from ._config import load_config

        try:
            document = load_config(self.path)
        except PromptConfigError as error:
            logger.error(_REJECTED, error)
            return False
        changed = document != self._document
        self._document = document
        if changed:
            logger.info("cs_sdk: loaded a new prompt configuration from %s", self.path)
        return changed

    def close(self) -> None:
        pass


class UrlSource:
    """A document at an http(s) URL, polled with ETag/If-None-Match from a daemon thread.

    Args:
        url: where the document is served; its format comes from the path suffix or the
            ``Content-Type`` (JSON when neither says).
        interval: seconds between polls.
        timeout: seconds for one whole request (connection, headers and body): a server
            that answers slowly, byte by byte, is cut off then.
        http_client: an ``httpx.Client`` to use (tests); otherwise one is created and owned.
    """

    def __init__(
        self,
        url: str,
        *,
        interval: float = 30.0,
        timeout: float = 5.0,
        http_client: httpx.Client | None = None,
    ) -> None:
        # Imported here, on the caller's thread: the poller thread then finds them loaded (an
        # import on a background thread can wait on the application's own imports).
        from . import _config, _fetch  # noqa: F401

        self.url = url
        self._shown_url = shown_url(url)  # credentials may sit in user info or query
        self._interval = interval
        self._timeout = timeout
        self._given_client = http_client
        self._http = http_client or _new_client(timeout)
        self._document: PromptConfig | None = None
        self._etag: str | None = None
        self._rejected_digest: bytes | None = None
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._pid = os.getpid()
        register_for_fork(self)

    def _reinit_after_fork(self) -> None:
        # The poller holds the lock for a whole request: a fork during one would leave the
        # child's reload() waiting for ever. The child has no poller thread; poll() starts one.
        self._lock = threading.Lock()
        stopped = self._stop.is_set()
        self._stop = threading.Event()
        if stopped:
            self._stop.set()
        self._thread = None
        # The HTTP client is replaced on first use (_forked), not here: most children of a
        # fork never reload, and building one costs a TLS context.

    def _forked(self) -> None:
        if self._pid == os.getpid():
            return
        self._pid = os.getpid()
        if self._given_client is None:
            # A connection pool must not be shared with the parent process.
            self._http = _new_client(self._timeout)

    def __repr__(self) -> str:
        return f"UrlSource({self._shown_url!r})"

    @property
    def document(self) -> PromptConfig | None:
        return self._document

    def start(self) -> None:
        """Start the poller thread (again after a fork; the child has no threads)."""
        self._forked()
        if self._stop.is_set() or (self._thread is not None and self._thread.is_alive()):
            return
        self._thread = threading.Thread(target=self._run, name="cs_sdk-prompts-poller", daemon=True)
        self._thread.start()

    def poll(self) -> None:
        thread = self._thread
        if self._pid != os.getpid() or thread is None or not thread.is_alive():
            self.start()

    def _run(self) -> None:
        while not self._stop.wait(self._interval):
            try:
                self.reload()
            except Exception:  # the poller must outlive any surprise
                logger.debug("prompt configuration poll failed", exc_info=True)

    def reload(self) -> bool:
        """Fetch now; False without waiting longer than one fetch's deadline.

        A fetch already under way (the poller's) has the same deadline: past it, this call
        gives up rather than queue behind it.
        """
        self._forked()
        if not self._lock.acquire(timeout=self._timeout):
            logger.debug("prompt configuration reload skipped: a fetch is still under way")
            return False
        try:
            return self._fetch()
        finally:
            self._lock.release()

    def _fetch(self) -> bool:
        from ._config import format_of, parse_config  # loaded by __init__
        from ._fetch import FetchFailed, bounded_get

        headers = {"Accept": "application/json, application/toml, application/yaml;q=0.9"}
        if self._etag is not None:
            headers["If-None-Match"] = self._etag
        try:
            with sdk_request():  # not an INFO line in the application's log per poll
                response = bounded_get(self._http, self.url, headers, timeout=self._timeout)
        except FetchFailed as failure:
            if failure.rejected:  # the server sent what we refuse: like an invalid version
                logger.error(_REJECTED, f"{self._shown_url}: {failure}")
                return False
            warn_once(
                f"prompts:url:{self._shown_url}",
                "cs_sdk: cannot fetch the prompt configuration from %s (%s); the current one "
                "stays in force",
                self._shown_url,
                failure,
            )
            return False
        if response.status == 304:
            return False
        if response.status != 200:
            warn_once(
                f"prompts:url:{self._shown_url}:{response.status}",
                "cs_sdk: the prompt configuration at %s answered HTTP %d; the current one "
                "stays in force",
                self._shown_url,
                response.status,
            )
            return False
        content = response.content
        etag = response.etag
        digest = hashlib.blake2b(content, digest_size=16).digest()
        fmt = format_of(urlsplit(self.url).path, response.content_type) or "json"
        try:
            document = parse_config(content, source=self._shown_url, fmt=fmt)
        except PromptConfigError as error:
            # Log a bad version once, whether or not the server sends an ETag for it.
            if digest != self._rejected_digest:
                logger.error(_REJECTED, error)
            self._rejected_digest = digest
            self._etag = etag or self._etag
            return False
        self._etag = etag
        self._rejected_digest = None
        changed = document != self._document
        self._document = document
        if changed:
            logger.info("cs_sdk: loaded a new prompt configuration from %s", self._shown_url)
        return changed

    def close(self) -> None:
        self._stop.set()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            # Daemon thread: do not hold shutdown hostage to an in-flight request.
            thread.join(timeout=1.0)
        if self._given_client is None:
            self._http.close()


def _new_client(timeout: float) -> httpx.Client:
    import httpx

    # No kept-alive connections: each poll (every 30 s) connects afresh, so the deadline's
    # watchdog always holds the socket it may have to shut down (see _fetch.py).
    return httpx.Client(
        timeout=timeout,
        follow_redirects=True,
        limits=httpx.Limits(max_keepalive_connections=0),
    )
