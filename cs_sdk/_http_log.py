"""The SDK's own HTTP requests stay out of the application's INFO logs.

httpx logs one INFO line per request on the ``httpx`` logger ("HTTP Request: POST ...").
An application that logs at INFO would get one for every export batch and every poll of the
prompt document: noise it did not ask for. Requests the SDK makes run inside
:func:`sdk_request`; a filter on the ``httpx`` logger demotes their records to DEBUG and
lets them through only when the ``httpx`` or the ``cs_sdk`` logger is enabled for DEBUG (the
user asked for them). The application's own httpx requests are not touched: they are logged
outside the scope, as before.

    with sdk_request():
        response = client.post(url, content=body)
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

__all__ = ["sdk_request"]

_inside: ContextVar[bool] = ContextVar("cs_sdk.http_request", default=False)
_httpx_logger = logging.getLogger("httpx")
_sdk_logger = logging.getLogger("cs_sdk")


class _DemoteSdkRequests(logging.Filter):
    """On the ``httpx`` logger: the SDK's requests are DEBUG records."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno <= logging.DEBUG or not _inside.get():
            return True
        record.levelno = logging.DEBUG
        record.levelname = logging.getLevelName(logging.DEBUG)
        # The logger let the record through at INFO; at DEBUG it is wanted only if asked for.
        return _httpx_logger.isEnabledFor(logging.DEBUG) or _sdk_logger.isEnabledFor(logging.DEBUG)


_FILTER = _DemoteSdkRequests()


def install() -> None:
    """Put the filter on the ``httpx`` logger (once; idempotent)."""
    if _FILTER not in _httpx_logger.filters:
        _httpx_logger.addFilter(_FILTER)


@contextmanager
def sdk_request() -> Iterator[None]:
    """Mark the HTTP requests made inside the block as the SDK's own."""
    install()
    token = _inside.set(True)
    try:
        yield
    finally:
        _inside.reset(token)
