"""The optional C accelerators: ``Client.milestone()`` fitted to a client (``_speedups.c``),
and the export worker's protobuf writer of attribute and body values (``_encoder_speedups.c``).

Built by ``pip install`` where a C compiler is available on CPython; elsewhere, or with
``speedups=False`` / ``CS_SDK_SPEEDUPS=false``, the pure-Python method runs. Both build the
same queued event; the C path hands every input it does not take (invalid ones included) to
the Python method, so behaviour cannot differ, only the cost: ~0.5 µs instead of ~1.6 µs for
an 8-property milestone on the caller's thread.
"""

from __future__ import annotations

import importlib
import time
from collections.abc import Callable
from types import ModuleType
from typing import Any

from ._context import _current as identity_var
from ._context import current_otel_context, otel_context_var, span_ids_in
from ._ids import MAX_ID_LENGTH
from ._names import MAX_NAME_LENGTH
from ._validate import MAX_PROPERTIES, MAX_STRING_LENGTH, RECORD_BYTES, VALUE_BYTES
from .events._builtin import MILESTONE


def _load(name: str) -> ModuleType | None:
    try:
        # By name: a compiled extension has no source for import-linter to read, and
        # "from . import _speedups" would read as an import of the cs_sdk package (the top
        # layer). Neither extension imports anything of ours.
        return importlib.import_module(f"{__package__}.{name}")
    except ImportError:  # not built: no compiler at install time, or not CPython
        return None


_speedups = _load("_speedups")
AVAILABLE = _speedups is not None

_encoder_speedups = _load("_encoder_speedups")
encode_pairs: Callable[[dict[str, Any], bytes, int], bytes | None] | None = (
    _encoder_speedups.encode_pairs if _encoder_speedups is not None else None
)
"""``_Writer.pairs`` in C (None: not built), see _protobuf_values.py: dicts of scalars, and of
lists, tuples and dicts of them; anything else is handed back (None) to the Python writer."""

encode_log_record: Callable[..., bytes | None] | None = (
    _encoder_speedups.encode_log_record if _encoder_speedups is not None else None
)
"""The LogRecord of ``ProtobufEncoder.encode_event`` in one C call (None: not built)."""


def accelerated_milestone(
    client: Any, slow: Callable[..., str | None]
) -> Callable[..., str | None] | None:
    """``client.milestone`` in C, falling back to ``slow`` (the unbound Python method); None
    when the accelerator is not built."""
    if _speedups is None:
        return None
    recorder = _speedups.Recorder(
        client=client,
        slow=slow,
        schema=MILESTONE,
        identity_var=identity_var,
        otel_context=otel_context_var() or current_otel_context,
        span_ids=span_ids_in,
        time_ns=time.time_ns,
        max_name=MAX_NAME_LENGTH,
        max_id=MAX_ID_LENGTH,
        max_string=MAX_STRING_LENGTH,
        max_properties=MAX_PROPERTIES,
        record_bytes=RECORD_BYTES,
        value_bytes=VALUE_BYTES,
    )
    milestone: Callable[..., str | None] = recorder.milestone
    return milestone
