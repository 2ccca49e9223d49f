"""``CsMiddleware`` for Flask and any WSGI application (extra: ``wsgi``; no dependency).

    from cs_sdk.integrations.wsgi import CsMiddleware

    app.wsgi_app = CsMiddleware(app.wsgi_app, identify=lambda environ: {...})

Decisions:

- WSGI sends the body after the application returns: the server iterates the returned
  iterable, then calls ``close()``. The identity must cover that iteration (streaming
  responses, ``stream_with_context``), yet never leak into the next request served by the
  same thread. So the request runs in its own copy of the context
  (``contextvars.copy_context()``): the call, every ``next()`` of the body and ``close()``
  each run inside it. The server thread's context is never changed, whatever the path.
- The resolver gets the WSGI ``environ`` (cookies, headers, ``REMOTE_USER``, what an outer
  auth middleware stored). It must be a plain function.
"""

from __future__ import annotations

import contextvars
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from .._context import _current as _identity_var
from .._context import merged
from ._identity import Resolver, resolve

__all__ = ["CsMiddleware"]

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


class _ScopedBody:
    """The application's body iterable, iterated and closed inside the request's context."""

    __slots__ = ("_context", "_iterable", "_iterator")

    def __init__(self, iterable: Iterable[bytes], context: contextvars.Context) -> None:
        self._iterable = iterable
        self._context = context
        self._iterator: Iterator[bytes] | None = None

    def __iter__(self) -> _ScopedBody:
        return self

    def __next__(self) -> bytes:
        if self._iterator is None:
            self._iterator = self._context.run(iter, self._iterable)
        return self._context.run(next, self._iterator)

    def close(self) -> None:
        close = getattr(self._iterable, "close", None)
        if close is not None:
            self._context.run(close)


def _run_in_identity(
    context: contextvars.Context,
    app: WSGIApp,
    environ: dict[str, Any],
    start_response: Callable[..., Any],
) -> Iterable[bytes]:
    """Call ``app`` inside ``context`` and return a body that is iterated there too."""
    result = context.run(app, environ, start_response)
    # A list (most frameworks' buffered responses) needs no wrapping: nothing runs later.
    if type(result) is list:
        return result
    return _ScopedBody(result, context)


class CsMiddleware:
    """Open an identity scope per request from ``identify(environ)``.

    Args:
        app: the WSGI application (for Flask: ``app.wsgi_app``).
        identify: ``environ -> {"user_id": ..., "account_id": ..., "session_id": ...}`` or
            ``None``.
    """

    def __init__(self, app: WSGIApp, identify: Resolver) -> None:
        if not callable(identify):
            raise TypeError("identify must be a callable: environ -> mapping or None")
        self.app = app
        self._resolver = identify

    def __call__(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        identity = resolve(self._resolver, environ)
        if identity is None:
            return self.app(environ, start_response)
        context = contextvars.copy_context()
        if identity is not None:
            # Set in the request's own context, which is dropped with the request: there is
            # nothing to reset afterwards, on any path.
            context.run(_identity_var.set, merged(context.run(_identity_var.get), identity))
        return _run_in_identity(context, self.app, environ, start_response)
