"""Celery: the sender's identity travels with each task (extra: ``celery``).

    from celery import Celery
    from cs_sdk.integrations.celery import instrument_celery

    app = Celery("billing", broker="redis://localhost:6379/0")
    instrument_celery(app)

    # in a web request, inside the middleware's identify() scope:
    send_invoice.delay(invoice_id)           # carries user / account / session
    # in the worker, the task body records events with that identity:
    @app.task
    def send_invoice(invoice_id):
        cs_sdk.outcome("invoice_sent", value=120.0, unit="USD")

What it connects (Celery signals, once per process whatever the number of apps):

- ``before_task_publish``: the identity of the sending code goes into the message headers
  (``cs_identity``: the three ids, nothing else). Nothing is added outside a scope.
- ``task_prerun`` / ``task_postrun``: the worker restores that identity around the task body,
  and resets it after, on every path (``task_postrun`` is sent from Celery's ``finally``).
- After each task the worker flushes (bounded by ``flush_timeout``): a prefork child can be
  recycled (``max_tasks_per_child``) or killed at any moment, and a solo worker may sit idle
  for long, so an outcome is delivered when its task finishes, not at the next batch.
  Eager tasks (``task.apply()``, ``task_always_eager``) run in the caller's request and
  are not flushed: that would add a network round trip to the request.
- ``worker_process_shutdown`` (prefork children) and ``worker_shutdown`` (the main process,
  ``--pool=solo``): the client is flushed and shut down within ``shutdown_timeout``.

Headers from a task message are the sender's word, like its arguments: a worker trusts its
broker. Invalid ids in them are ignored (logged once), never raised into the task.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable
from contextvars import Token
from typing import Any

from .. import _api
from .._client import Client
from .._context import Identity, current_identity, merged
from .._context import _current as _identity_var
from .._log import logger, warn_once
from ._identity import ResolverError, clean_identity

__all__ = ["HEADER", "instrument_celery"]

HEADER = "cs_identity"

_lock = threading.Lock()
_settings: dict[str, Any] = {}
_tokens: dict[str, Token[Identity]] = {}


def instrument_celery(
    app: Any,
    *,
    client: Client | None = None,
    flush_after_task: bool = True,
    flush_timeout: float = 2.0,
    shutdown_timeout: float = 5.0,
) -> None:
    """Carry identity scopes through ``app``'s tasks and flush the worker at the right times.

    Args:
        app: the ``celery.Celery`` application. Celery's signals are process-wide, so this
            instruments every app of the process; calling it again updates the settings.
        client: the client to flush and shut down; by default the global client
            (``cs_sdk.init()``), whichever it is at that moment.
        flush_after_task: flush after each task that ran in a worker.
        flush_timeout: seconds a flush after a task may take at most.
        shutdown_timeout: seconds the flush at worker shutdown may take at most.
    """
    from celery import signals

    with _lock:
        _settings.update(
            client=client,
            flush_after_task=flush_after_task,
            flush_timeout=flush_timeout,
            shutdown_timeout=shutdown_timeout,
        )
        # dispatch_uid: connecting twice (two apps, a reloaded module) keeps one receiver.
        signals.before_task_publish.connect(_on_publish, weak=False, dispatch_uid=HEADER)
        signals.task_prerun.connect(_on_prerun, weak=False, dispatch_uid=HEADER)
        signals.task_postrun.connect(_on_postrun, weak=False, dispatch_uid=HEADER)
        signals.worker_process_shutdown.connect(_on_shutdown, weak=False, dispatch_uid=HEADER)
        signals.worker_shutdown.connect(_on_shutdown, weak=False, dispatch_uid=HEADER)


def _guarded(handler: Callable[..., None]) -> Callable[..., None]:
    """Celery logs a raising receiver as an error; ours never raise at all."""

    def receiver(*args: Any, **kwargs: Any) -> None:
        try:
            handler(*args, **kwargs)
        except Exception:
            warn_once(f"celery:{handler.__name__}", "cs_sdk: the Celery integration failed")
            logger.debug("celery signal handler failed", exc_info=True)

    receiver.__name__ = handler.__name__
    return receiver


@_guarded
def _on_publish(sender: Any = None, headers: dict[str, Any] | None = None, **_: Any) -> None:
    identity = current_identity()
    if headers is not None and identity != Identity():
        headers[HEADER] = {k: v for k, v in identity._asdict().items() if v is not None}


def _sent_identity(task: Any) -> Identity | None:
    request = task.request
    carried = getattr(request, HEADER, None)
    if carried is None:
        carried = (getattr(request, "headers", None) or {}).get(HEADER)
    if carried is None:
        return None
    try:
        return clean_identity(carried)
    except ResolverError as error:
        warn_once("celery:header", "cs_sdk: ignored an invalid identity in a task: %s", error)
        return None


@_guarded
def _on_prerun(task_id: str | None = None, task: Any = None, **_: Any) -> None:
    if task is None or task_id is None:
        return
    identity = _sent_identity(task)
    if identity is None:
        return
    token = _identity_var.set(merged(_identity_var.get(), identity))
    with _lock:
        _tokens[task_id] = token


@_guarded
def _on_postrun(task_id: str | None = None, task: Any = None, **_: Any) -> None:
    with _lock:
        token = _tokens.pop(task_id, None) if task_id is not None else None
    if token is not None:
        # ValueError: set in another context (a pool that switched): nothing to undo there.
        with contextlib.suppress(ValueError):
            _identity_var.reset(token)
    if not _settings.get("flush_after_task") or task is None:
        return
    if getattr(task.request, "is_eager", False):
        return
    client = _settings.get("client") or _api.get_client()
    if client is not None:
        client.flush(_settings.get("flush_timeout", 2.0))


@_guarded
def _on_shutdown(**_: Any) -> None:
    # A prefork child leaves with os._exit(): no atexit flush runs there, only this.
    timeout = _settings.get("shutdown_timeout", 5.0)
    client = _settings.get("client")
    if client is not None:
        client.shutdown(timeout)
    else:
        _api.shutdown(timeout)  # the global client, which then falls back to the no-op one
