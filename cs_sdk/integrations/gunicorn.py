"""gunicorn (and other pre-forking servers): what to put in ``gunicorn.conf.py``.

    # gunicorn.conf.py
    from cs_sdk.integrations.gunicorn import worker_exit   # noqa: F401  (a gunicorn hook)

    def post_fork(server, worker):        # one client per worker process
        import cs_sdk
        cs_sdk.init(service_name="web")

Why each part:

- **Where to call** ``cs_sdk.init()``: in each worker (``post_fork``, or at import of the
  application module without ``--preload``). Initialising in the master with ``--preload``
  works too: the client re-seeds its event ids and restarts its worker thread in each child
  (``os.register_at_fork``), so two workers never mint the same id. What it cannot do is
  hand over events the master recorded but had not sent before the fork: record nothing in
  the master.
- **Graceful shutdown** (``SIGTERM``, ``SIGHUP`` reloads, ``max_requests`` recycling): each
  worker runs the ``worker_exit`` hook, which flushes and shuts the client down within
  ``WORKER_EXIT_TIMEOUT`` seconds (bounded even when the collector is unreachable; what is
  left goes to the spool when ``spool_dir`` is set, else it is counted as dropped). Keep
  gunicorn's ``graceful_timeout`` above it. gunicorn's workers leave through ``sys.exit``,
  so the client's own exit flush would run without the hook too, but only for
  ``shutdown_timeout`` (2 s by default) and after every other ``atexit`` handler; the hook
  makes the budget explicit and runs while the worker is still whole.
- uWSGI: the same rules; call ``cs_sdk.init()`` in a ``@postfork`` function (or run with
  ``lazy-apps``) and ``cs_sdk.shutdown()`` from ``uwsgi.atexit``.
"""

from __future__ import annotations

from typing import Any

from .. import _api

__all__ = ["WORKER_EXIT_TIMEOUT", "worker_exit"]

WORKER_EXIT_TIMEOUT = 5.0
"""Seconds a worker may spend delivering its last events (gunicorn's default
``graceful_timeout`` is 30)."""


def worker_exit(server: Any, worker: Any) -> None:
    """gunicorn hook: flush and shut down this worker's global client before it exits."""
    _api.shutdown(timeout=WORKER_EXIT_TIMEOUT)
