"""``CsMiddleware`` for Starlette, FastAPI and any ASGI application (extra: ``asgi``).

    from cs_sdk.integrations.asgi import CsMiddleware

    def identify(request):
        return {"user_id": request.session.get("user_id"), "account_id": ...}

    app.add_middleware(CsMiddleware, identify=identify)

Every HTTP request runs inside an :func:`cs_sdk.identify` scope built from the resolver's
answer, so ``cs_sdk.milestone("...")`` in a handler carries the user without ``user_id=``.

Decisions:

- A pure ASGI middleware, not Starlette's ``BaseHTTPMiddleware``: the scope is entered around
  the whole ``await app(scope, receive, send)``, which is also where a streaming response
  iterates its body and where background tasks run, so both see the identity. Nothing is
  buffered and the request's task is not changed.
- ``websocket`` and ``lifespan`` scopes are passed to the application untouched.
- The resolver gets a ``starlette.requests.Request`` built on the scope alone (headers,
  cookies, ``request.session`` / ``request.user`` when those middlewares run outside this
  one). It may be a coroutine function. It cannot read the body: that belongs to the app.
- The scope is a ``contextvars`` value reset in a ``finally``: closed on every path,
  exceptions and cancellation included.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from .._context import _current as _identity_var
from .._context import merged
from ._identity import Resolver, resolve_async

__all__ = ["CsMiddleware"]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


_request_class: Any = None


def _starlette_request(scope: Scope) -> Any:
    global _request_class
    if _request_class is None:
        from starlette.requests import Request  # imported when the first request comes

        _request_class = Request
    return _request_class(scope)


class CsMiddleware:
    """Open an identity scope per HTTP request from ``identify(request)``.

    Args:
        app: the ASGI application to wrap (``app.add_middleware`` passes it).
        identify: ``request -> {"user_id": ..., "account_id": ..., "session_id": ...}`` or
            ``None``; a plain function or a coroutine function.
        request_factory: builds what the resolver receives from the ASGI scope; by default a
            ``starlette.requests.Request``. Pass ``lambda scope: scope`` for a raw scope.
    """

    def __init__(
        self,
        app: ASGIApp,
        identify: Resolver,
        request_factory: Callable[[Scope], Any] = _starlette_request,
    ) -> None:
        if not callable(identify):
            raise TypeError("identify must be a callable: request -> mapping or None")
        self.app = app
        self._resolver = identify
        self._request_factory = request_factory

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope.get("type") != "http":
            await self.app(scope, receive, send)
            return
        try:
            request = self._request_factory(scope)
        except Exception:
            request = scope  # a broken factory costs identity, never the request
        identity = await resolve_async(self._resolver, request)
        if identity is None:
            await self.app(scope, receive, send)
            return
        # identify()'s rule (merged), without its generator: this runs on every request.
        token = _identity_var.set(merged(_identity_var.get(), identity))
        try:
            await self.app(scope, receive, send)
        finally:
            _identity_var.reset(token)
