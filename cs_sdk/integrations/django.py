"""``CsMiddleware`` for Django, configured in settings (extra: ``django``).

    # settings.py
    MIDDLEWARE = [
        ...,
        "django.contrib.auth.middleware.AuthenticationMiddleware",
        "cs_sdk.integrations.django.CsMiddleware",   # after the auth middleware
    ]
    CS_SDK_IDENTIFY = "myproject.analytics.identify"   # dotted path (or the function itself)

    # myproject/analytics.py
    def identify(request):
        if not request.user.is_authenticated:
            return None
        return {"user_id": request.user.pk, "account_id": request.user.account_id}

Decisions:

- Sync and async (ASGI Django) both, without a thread hop: Django calls the middleware the way
  its neighbours are called.
- The view and the whole response, including a ``StreamingHttpResponse`` body that the server
  iterates after the middleware returned, run in the request's own copy of the context, as in
  the WSGI middleware: closed on every path, never leaking into the thread's next request.
- The resolver is looked up in settings once, at the first request. A missing or broken
  setting is logged once and requests go on without identity: the middleware never fails one.
"""

from __future__ import annotations

import contextvars
import inspect
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

from .._context import _current as _identity_var
from .._context import merged
from .._log import warn_once
from ._identity import Resolver, resolve, resolve_async

__all__ = ["SETTING", "CsMiddleware", "feedback_urls"]

SETTING = "CS_SDK_IDENTIFY"


def _anonymous(request: Any) -> None:
    return None


def _load_resolver() -> Resolver:
    from django.conf import settings
    from django.utils.module_loading import import_string

    configured = getattr(settings, SETTING, None)
    try:
        if callable(configured):
            return configured  # type: ignore[no-any-return]
        if isinstance(configured, str):
            loaded = import_string(configured)
            if callable(loaded):
                return loaded  # type: ignore[no-any-return]
        raise ValueError(f"{SETTING} must be a dotted path to a function, got {configured!r}")
    except Exception as error:
        warn_once(
            "integrations:django:setting",
            "cs_sdk: settings.%s cannot be used (%s); requests go on without identity",
            SETTING,
            error,
        )
        return _anonymous


def _request_context(identity: Any) -> contextvars.Context:
    context = contextvars.copy_context()
    context.run(_identity_var.set, merged(context.run(_identity_var.get), identity))
    return context


def _scoped_sync(iterator: Iterator[Any], context: contextvars.Context) -> Iterator[Any]:
    while True:
        try:
            chunk = context.run(next, iterator)
        except StopIteration:
            return
        yield chunk


async def _scoped_async(iterator: AsyncIterator[Any], identity: Any) -> AsyncIterator[Any]:
    # An async body is iterated by the server's task: enter the scope around each chunk's
    # await (a contextvars token cannot cross the yield back to the server).
    while True:
        token = _identity_var.set(merged(_identity_var.get(), identity))
        try:
            chunk = await iterator.__anext__()
        except StopAsyncIteration:
            return
        finally:
            _identity_var.reset(token)
        yield chunk


class CsMiddleware:
    """Django middleware: an identity scope per request from ``settings.CS_SDK_IDENTIFY``."""

    sync_capable = True
    async_capable = True

    def __init__(self, get_response: Callable[[Any], Any]) -> None:
        self.get_response = get_response
        self._resolver: Resolver | None = None
        self._async = inspect.iscoroutinefunction(get_response)
        if self._async:
            from asgiref.sync import markcoroutinefunction

            markcoroutinefunction(self)

    def _resolver_from_settings(self) -> Resolver:
        if self._resolver is None:
            self._resolver = _load_resolver()
        return self._resolver

    def __call__(self, request: Any) -> Any:
        if self._async:
            return self.__acall__(request)
        identity = resolve(self._resolver_from_settings(), request)
        if identity is None:
            return self.get_response(request)
        context = _request_context(identity)
        response = context.run(self.get_response, request)
        if getattr(response, "streaming", False) and not getattr(response, "is_async", False):
            response.streaming_content = _scoped_sync(iter(response.streaming_content), context)
        return response

    async def __acall__(self, request: Any) -> Any:
        identity = await resolve_async(self._resolver_from_settings(), request)
        if identity is None:
            return await self.get_response(request)
        token = _identity_var.set(merged(_identity_var.get(), identity))
        try:
            response = await self.get_response(request)
        finally:
            _identity_var.reset(token)
        if getattr(response, "streaming", False) and getattr(response, "is_async", False):
            response.streaming_content = _scoped_async(aiter(response.streaming_content), identity)
        return response


def feedback_urls(**options: Any) -> list[Any]:
    """URL patterns serving the feedback route and widget from Django itself.

        # urls.py
        urlpatterns = [..., path("cs/feedback/", include(feedback_urls()))]

    The views run behind :class:`CsMiddleware` (the user is the request's scope) and are
    exempt from Django's CSRF middleware: the route applies its own rule (a custom header,
    JSON only, same origin; see ``cs_sdk.integrations.feedback``), which the widget follows
    without a Django token. ``options`` go to ``FeedbackService`` (limits, client).
    """
    from django.http import HttpResponse
    from django.urls import re_path
    from django.views.decorators.csrf import csrf_exempt

    from .._context import current_identity
    from .feedback import FeedbackService

    service = FeedbackService(**options)

    def feedback_view(request: Any, subpath: str = "") -> Any:
        headers = {name.lower(): value for name, value in request.headers.items()}
        identity = current_identity()
        path = "/" + subpath
        reply = service.before_body(request.method, path, headers, identity)
        if reply is None:
            # Read at most one byte past the limit, whatever Content-Length said.
            body = request.read(service.max_body_bytes + 1)
            if len(body) > service.max_body_bytes:
                reply = service.too_large()
            else:
                reply = service.handle_body(path, body, identity)
        response = HttpResponse(reply.body, status=reply.status, content_type=reply.content_type)
        for name, value in reply.headers:
            response[name] = value
        return response

    view = csrf_exempt(feedback_view)
    view.service = service  # its books: .service.stats()
    return [re_path(r"^(?P<subpath>[\w.\-]*)$", view, name="cs-feedback")]
