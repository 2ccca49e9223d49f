"""The feedback route as a WSGI application (mount it with werkzeug's DispatcherMiddleware,
Django's urls, or any WSGI router)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from http import HTTPStatus
from typing import Any

from ..._context import current_identity
from ..wsgi import CsMiddleware, WSGIApp
from ._identity_arg import IdentifyArg
from ._service import FeedbackService

__all__ = ["FeedbackWsgiApp", "feedback_wsgi_app"]


class FeedbackWsgiApp:
    """The WSGI app :func:`feedback_wsgi_app` returns; ``.service.stats()`` has its books."""

    def __init__(self, service: FeedbackService, identify: IdentifyArg = None) -> None:
        self.service = service
        self._entry: WSGIApp = self._handle
        if identify is not None:
            self._entry = CsMiddleware(self._handle, identify=identify)

    def __call__(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        return self._entry(environ, start_response)

    def _handle(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        headers = {
            key[5:].replace("_", "-").lower(): str(value)
            for key, value in environ.items()
            if key.startswith("HTTP_")
        }
        for key in ("CONTENT_TYPE", "CONTENT_LENGTH"):
            if environ.get(key):
                headers[key.replace("_", "-").lower()] = str(environ[key])
        method = str(environ.get("REQUEST_METHOD", "GET"))
        path = str(environ.get("PATH_INFO", ""))
        identity = current_identity()
        service = self.service
        reply = service.before_body(method, path, headers, identity)
        if reply is None:
            body = _read_body(environ, service.max_body_bytes)
            reply = (
                service.too_large() if body is None else service.handle_body(path, body, identity)
            )
        status = f"{reply.status} {HTTPStatus(reply.status).phrase}"
        start_response(
            status,
            [("Content-Type", reply.content_type), *reply.headers,
             ("Content-Length", str(len(reply.body)))],
        )  # fmt: skip
        return [b"" if method == "HEAD" else reply.body]


def _read_body(environ: dict[str, Any], limit: int) -> bytes | None:
    stream = environ.get("wsgi.input")
    if stream is None:
        return b""
    length = environ.get("CONTENT_LENGTH")
    if length:
        # before_body already refused a declared length over the limit.
        return bytes(stream.read(int(length)))
    # No length (chunked): read one byte past the limit to know it was passed.
    data = bytes(stream.read(limit + 1))
    return None if len(data) > limit else data


def feedback_wsgi_app(*, identify: IdentifyArg = None, **options: Any) -> FeedbackWsgiApp:
    """The feedback route and widget as a WSGI app, to mount e.g. at ``/cs/feedback``.

        from werkzeug.middleware.dispatcher import DispatcherMiddleware
        app.wsgi_app = CsMiddleware(
            DispatcherMiddleware(app.wsgi_app, {"/cs/feedback": feedback_wsgi_app()}),
            identify=identify,
        )

    As with :func:`feedback_asgi_app`, the user is the request's ``identify()`` scope, or the
    one ``identify=`` resolves here.
    """
    return FeedbackWsgiApp(FeedbackService(**options), identify)
