"""The client's lifecycle: flush, shutdown, stats, the context manager, and the process
hooks (after a fork, at exit) that reach every live client."""

from __future__ import annotations

import atexit
import os
import time
import weakref
from collections.abc import Callable
from typing import TYPE_CHECKING, TypeVar

from . import _log
from ._client_assembly import Pipeline
from ._config import Config
from ._log import logger, warn_once
from ._stats import Stats, StatsSnapshot

__all__ = ["ClientLifecycle", "live_clients"]

_Self = TypeVar("_Self", bound="ClientLifecycle")

# Longest wait flush()/shutdown() accept: threading waits overflow on larger values.
_MAX_WAIT = 7 * 24 * 3600.0


def _wait_seconds(timeout: object) -> float | None:
    """A flush/shutdown budget in seconds, or None (logged) when it is not a number."""
    if type(timeout) not in (int, float):
        warn_once("timeout-type", "cs_sdk: a timeout must be a number of seconds, got %r", timeout)
        return None
    seconds = float(timeout)  # type: ignore[arg-type]
    if seconds != seconds or seconds < 0:  # NaN, negative: do not wait
        return 0.0
    return min(seconds, _MAX_WAIT)


class ClientLifecycle:
    """Mixed into :class:`cs_sdk.Client`: flushing, shutting down, counting, forking."""

    config: Config
    _disabled: bool
    _closed: bool
    _pipeline: Pipeline
    _stats: Stats
    _shutdown_hooks: list[Callable[[], None]]

    if TYPE_CHECKING:  # defined on the client, where the C path reads the ids

        def _reseed_ids(self) -> None: ...

    def flush(self, timeout: float = 5.0) -> bool:
        """Block until everything recorded before the call is delivered; True on success."""
        if self._disabled:
            return True
        seconds = _wait_seconds(timeout)
        if seconds is None:
            return False
        try:
            return self._pipeline.flush(seconds)
        except Exception:
            logger.debug("flush failed", exc_info=True)
            return False

    def add_shutdown_hook(self, hook: Callable[[], None]) -> None:
        """Run ``hook`` after the pipeline stopped (close stores, stop pollers)."""
        self._shutdown_hooks.append(hook)

    def shutdown(self, timeout: float = 5.0) -> bool:
        """Flush within ``timeout`` seconds, stop the worker, release resources. Idempotent."""
        if self._closed:
            return True
        self._closed = True
        live_clients.discard(self)
        delivered = True
        seconds = _wait_seconds(timeout)
        if not self._disabled:
            try:
                delivered = self._pipeline.shutdown(
                    self.config.shutdown_timeout if seconds is None else seconds
                )
            except Exception:
                logger.debug("shutdown failed", exc_info=True)
                delivered = False
        for hook in self._shutdown_hooks:
            try:
                hook()
            except Exception:
                logger.debug("shutdown hook failed", exc_info=True)
        return delivered

    async def aflush(self, timeout: float = 5.0) -> bool:
        """:meth:`flush` without blocking the event loop."""
        import asyncio  # loaded already by the loop that awaits this; not by `import cs_sdk`

        return await asyncio.to_thread(self.flush, timeout)

    async def ashutdown(self, timeout: float = 5.0) -> bool:
        """:meth:`shutdown` without blocking the event loop."""
        import asyncio

        return await asyncio.to_thread(self.shutdown, timeout)

    def stats(self) -> StatsSnapshot:
        """Counters: recorded, queued, sent, retried, spooled, replayed, dropped by reason."""
        return self._stats.snapshot(self._pipeline.queued())

    def __enter__(self: _Self) -> _Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.shutdown()

    def _after_fork_in_child(self) -> None:
        # Parent and child must never mint the same event id; counters carry on from the fork.
        self._reseed_ids()
        if not self._closed and not self._disabled:
            self._pipeline.reinit_after_fork()


live_clients: weakref.WeakSet[ClientLifecycle] = weakref.WeakSet()


def _after_fork_in_child() -> None:
    _log.reset_lock_after_fork()
    for client in list(live_clients):
        try:
            client._after_fork_in_child()
        except Exception:
            logger.debug("re-initialising a client after fork failed", exc_info=True)


def _shutdown_live_clients_at_exit() -> None:
    clients = list(live_clients)
    if not clients:
        return
    budget = max(client.config.shutdown_timeout for client in clients)
    deadline = time.monotonic() + budget
    for client in clients:
        client.shutdown(max(deadline - time.monotonic(), 0.0))


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)
atexit.register(_shutdown_live_clients_at_exit)
