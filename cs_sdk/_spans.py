"""The ids of the active OpenTelemetry span, read on the recording path.

Apart from ``_context.py`` (identity scopes) because the OpenTelemetry API costs ~10-20 ms to
import: the client imports this module when it is built, ``import cs_sdk`` and
``identify()`` do not.
"""

from __future__ import annotations

from contextvars import ContextVar
from typing import Any

from opentelemetry import context as otel_context
from opentelemetry import trace

__all__ = ["NO_SPAN", "current_otel_context", "otel_context_var", "span_ids_in"]

current_otel_context = otel_context.get_current
"""The active OpenTelemetry context: empty (falsy) outside any span, the usual case."""


def otel_context_var() -> ContextVar[Any] | None:
    """The ContextVar behind :func:`current_otel_context` when OpenTelemetry runs its default
    runtime context, for the C recorder to read directly (two Python calls less); None with any
    other runtime context, or if the API's private layout changed (then the function is used).
    """
    try:
        from opentelemetry.context import _RUNTIME_CONTEXT
        from opentelemetry.context.contextvars_context import ContextVarsRuntimeContext
    except ImportError:
        return None
    if type(_RUNTIME_CONTEXT) is not ContextVarsRuntimeContext:
        return None
    var = getattr(_RUNTIME_CONTEXT, "_current_context", None)
    return var if type(var) is ContextVar and var.get() is current_otel_context() else None


_get_current_span = trace.get_current_span
_INVALID_SPAN_ID = trace.INVALID_SPAN_ID


NO_SPAN: tuple[int, int, int] = (0, 0, 0)


def span_ids_in(context: Any) -> tuple[int, int, int]:
    """``(trace_id, span_id, trace_flags)`` of the span active in an OpenTelemetry context
    (from :func:`current_otel_context`), or zeros. Callers skip the call for an empty
    context, the usual case: it holds no span."""
    span_context = _get_current_span(context).get_span_context()
    if span_context.span_id == _INVALID_SPAN_ID:
        return NO_SPAN
    return span_context.trace_id, span_context.span_id, int(span_context.trace_flags)
