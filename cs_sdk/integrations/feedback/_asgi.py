"""The feedback route as an ASGI application (mount it in Starlette / FastAPI)."""

from __future__ import annotations

import asyncio
from typing import Any

from ..._context import current_identity
from ..asgi import ASGIApp, CsMiddleware, Receive, Scope, Send
from ._identity_arg import IdentifyArg
from ._service import FeedbackService, Reply

__all__ = ["FeedbackAsgiApp", "feedback_asgi_app"]


class FeedbackAsgiApp:
    """The ASGI app :func:`feedback_asgi_app` returns; ``.service.stats()`` has its books."""

    def __init__(self, service: FeedbackService, identify: IdentifyArg = None) -> None:
        self.service = service
        self._entry: ASGIApp = self._handle
        if identify is not None:
            self._entry = CsMiddleware(self._handle, identify=identify)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self._entry(scope, receive, send)

    async def _handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope.get("type") != "http":
            if scope.get("type") == "lifespan":
                await _lifespan(receive, send)
            return  # websockets are not spoken here: closing the connection refuses them
        path = str(scope.get("path", ""))
        root = str(scope.get("root_path", ""))
        if root and path.startswith(root):
            path = path[len(root) :]  # Starlette's Mount keeps the full path, sets root_path
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        identity = current_identity()
        method = str(scope.get("method", "GET"))
        service = self.service
        # Prompt reads and answers touch the state store (SQLite, Redis): off the event loop.
        # to_thread copies the context, so the OpenTelemetry span goes along.
        reply = await asyncio.to_thread(service.before_body, method, path, headers, identity)
        if reply is None:
            body = await _read_body(receive, service.max_body_bytes)
            if body is None:
                reply = service.too_large()
            else:
                reply = await asyncio.to_thread(service.handle_body, path, body, identity)
        await _send(send, reply, head=method == "HEAD")


async def _read_body(receive: Receive, limit: int) -> bytes | None:
    """The request body, or ``None`` as soon as it grows past ``limit`` bytes."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return b""
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


async def _send(send: Send, reply: Reply, *, head: bool = False) -> None:
    headers = [(b"content-type", reply.content_type.encode())]
    headers += [(k.encode(), v.encode()) for k, v in reply.headers]
    headers.append((b"content-length", str(len(reply.body)).encode()))
    await send({"type": "http.response.start", "status": reply.status, "headers": headers})
    await send({"type": "http.response.body", "body": b"" if head else reply.body})


async def _lifespan(receive: Receive, send: Send) -> None:
    # Mounted on its own (as the whole app) it must still answer the server's lifespan.
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return


def feedback_asgi_app(*, identify: IdentifyArg = None, **options: Any) -> FeedbackAsgiApp:
    """The feedback route and widget as an ASGI app, to mount e.g. at ``/cs/feedback``.

        app.add_middleware(CsMiddleware, identify=identify)        # the whole app
        app.mount("/cs/feedback", feedback_asgi_app())

    The user is the one of the request's ``identify()`` scope (the middleware's). Pass
    ``identify=`` to resolve it here instead, when the app has no middleware.
    ``options`` go to :class:`~cs_sdk.integrations.feedback.FeedbackService` (limits, client).
    """
    return FeedbackAsgiApp(FeedbackService(**options), identify)
