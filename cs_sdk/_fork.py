"""Fork safety for the locks and connections of stats, stores, caches and prompt sources.

``os.fork()`` copies every lock in the state it is in. A lock that another thread of the
parent held at that moment (the worker tagging an event, a request thread enrolling a user)
stays held forever in the child, whose copy of that thread does not exist: the child's next
call hangs. gunicorn, celery prefork and multiprocessing's ``fork`` start method all fork
processes that may already run such threads.

Each object that owns a lock or a connection registers itself once; after a fork, the
child calls its ``_reinit_after_fork()`` before any of its own code runs::

    class TtlCache:
        def __init__(self) -> None:
            self._lock = threading.Lock()
            register_for_fork(self)

        def _reinit_after_fork(self) -> None:
            self._lock = threading.Lock()

The registry holds weak references, so registering keeps nothing alive. Hooks registered
with ``os.register_at_fork`` run in registration order: this module is imported (by the
stats, the stores and the caches) before ``_client`` registers its own hook, so all of them
are usable again by the time the client restarts its worker in the child.
"""

from __future__ import annotations

import os
import weakref
from typing import Protocol

from ._log import logger

__all__ = ["ForkAware", "register_for_fork"]


class ForkAware(Protocol):
    def _reinit_after_fork(self) -> None:
        """In the child: replace locks, forget connections. Runs single-threaded; cheap."""
        ...


_live: weakref.WeakSet[ForkAware] = weakref.WeakSet()


def register_for_fork(obj: ForkAware) -> None:
    """Call ``obj._reinit_after_fork()`` in the child of every later ``os.fork()``."""
    _live.add(obj)


def _after_fork_in_child() -> None:
    for obj in list(_live):
        try:
            obj._reinit_after_fork()
        except Exception:  # one broken object must not leave the others locked
            logger.debug("re-initialising %r after fork failed", obj, exc_info=True)


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)
