"""The ``cs_sdk`` logger, and each distinct problem logged once.

The SDK runs inside someone else's application. A collector outage must not turn into a
log line per batch, so warnings go through :func:`warn_once`, keyed by the reason.

No NullHandler: in an application that configured no logging at all, Python's last-resort
handler prints WARNING and above to stderr, so a newcomer's mistake (no ``init()``, a wrong
endpoint) is seen, as with PostHog, Segment and the OpenTelemetry SDK. An application that
configures logging decides as usual; ``logging.getLogger("cs_sdk").setLevel(logging.ERROR)``
quiets it.
"""

from __future__ import annotations

import logging
import threading
import time

logger = logging.getLogger("cs_sdk")

_lock = threading.Lock()
_last_logged: dict[str, float] = {}
_MAX_KEYS = 1024
# A reason is logged again after this long, so a problem that lasts stays visible.
REPEAT_AFTER_SECONDS = 300.0


def warn_once(key: str, message: str, *args: object, level: int = logging.WARNING) -> None:
    """Log ``message`` unless the same ``key`` was logged in the last five minutes."""
    now = time.monotonic()
    # Lock-free first look: a reason logged recently (the usual case, e.g. every drop while a
    # queue is full) returns without the lock, so the caller's thread never waits on it.
    last = _last_logged.get(key)
    if last is not None and now - last < REPEAT_AFTER_SECONDS:
        return
    with _lock:
        last = _last_logged.get(key)
        if last is not None and now - last < REPEAT_AFTER_SECONDS:
            return
        if len(_last_logged) >= _MAX_KEYS:
            _last_logged.clear()
        _last_logged[key] = now
    logger.log(level, message, *args)


def reset_warnings() -> None:
    """Forget what was logged (for tests)."""
    with _lock:
        _last_logged.clear()


def reset_lock_after_fork() -> None:
    """A fork can copy the lock while another thread holds it: give the child a new one."""
    global _lock
    _lock = threading.Lock()
