"""The optional C accelerators: the client's recording calls (``milestone``, ``outcome``,
``feedback``, ``track``) fitted to a client (``_speedups.c``), and the export worker's protobuf
writer of records and their attribute and body values (``_encoder_speedups.c``).

Built by ``pip install`` where a C compiler is available on CPython; elsewhere, or with
``speedups=False`` / ``CS_SDK_SPEEDUPS=false``, the pure-Python methods run. Both build the
same queued event; the C path hands every input it does not take (invalid ones included) to
the Python method, so behaviour cannot differ, only the cost: ~0.5 µs instead of ~2-10 µs on
the caller's thread. Each hand-over is counted by its reason in
``stats()["debug"]["fallbacks"]``.
"""

from __future__ import annotations

import importlib
import itertools
import time
from collections import deque
from collections.abc import Callable
from types import ModuleType
from typing import Any

from ._attributes import (
    FEEDBACK_COMMENT,
    FEEDBACK_KIND,
    FEEDBACK_SCORE,
    OUTCOME_UNIT,
    OUTCOME_VALUE,
    PRODUCT_AREA,
    PROMPT_ID,
)
from ._context import _current as identity_var
from ._ids import MAX_ID_LENGTH, normalize_id
from ._names import MAX_NAME_LENGTH
from ._spans import current_otel_context, otel_context_var, span_ids_in
from ._validate import (
    ATTRIBUTES_BYTES,
    MAX_DEPTH,
    MAX_LIST_ITEMS,
    MAX_PROPERTIES,
    MAX_STRING_LENGTH,
    RECORD_BYTES,
    TYPED_EVENT_BYTES,
    VALUE_BYTES,
)
from ._values import CONVERTERS
from .events._builtin_rules import FEEDBACK, FEEDBACK_SCORES, MILESTONE, OUTCOME
from .events._schema import EVENT_MODULE


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


# Why the C path hands a call to the Python method: the keys of stats()["debug"]["fallbacks"]
# (named in _speedups.c, intern_recorder_names). Each one is also a case the Python method
# treats as the reference; tests/test_fast_path_coverage.py keeps this table and the C names
# together.
FALLBACK_REASONS: dict[str, str] = {
    "arguments": "positional arguments other than the one expected (Python raises TypeError)",
    "keyword_unknown": "a keyword the C path was not taught (or a misspelt one: TypeError)",
    "invalid": "a name, id, score or value that breaks a rule: refused (strict: raised)",
    "timestamp_datetime": "timestamp= given as a datetime, converted by Python",
    "properties_not_dict": "properties= a Mapping other than a dict",
    "value_to_convert": "an Enum, a set or a subclass of a builtin type as a property value",
    "nested_too_deep": "a property value nested deeper than the validator allows",
    "watched_milestone": "a milestone a feedback prompt waits for (the prompt engine is told)",
    "prompt_answer": "feedback answering a prompt (checked against the configuration)",
    "comment_truncated": "a feedback comment over the length limit, cut and counted",
    "opted_out": "the user opted out: dropped and counted by Python",
    "client_state": "the client's attributes are not what the C path expects",
    "error": "an exception before the event was accepted (out of memory, say)",
}

ACCELERATED_CALLS: tuple[str, ...] = ("milestone", "outcome", "feedback", "track")
"""The recording calls the C path takes over (each only where a subclass keeps the base's)."""


def accelerated_calls(
    client: Any,
    base: type,
    fallbacks: dict[str, int],
    queue_submit: Callable[..., bool] | None = None,
) -> dict[str, Callable[..., str | None]]:
    """The C versions of ``client``'s recording calls, by name, each falling back to the
    unbound Python method of ``base`` and counting why in ``fallbacks``. Empty when the
    accelerator is not built; a call that ``type(client)`` overrides keeps its own method.

    ``queue_submit``: the function ``EventQueue.submit`` (the reference), which the C path
    runs itself when ``client._submit`` is that method of a queue (the default pipeline);
    any other pipeline's ``submit`` is called."""
    if _speedups is None:
        return {}
    # The client's sequence (Stats' "recorded" counter, an itertools.count's __next__): C
    # advances the count itself while `client._next_seq` is still this very method.
    next_seq = client._next_seq
    sequence = getattr(next_seq, "__self__", None)
    if type(sequence) is not itertools.count or next_seq != sequence.__next__:
        sequence = None
    recorder = _speedups.Recorder(
        client=client,
        slow=base.milestone,  # type: ignore[attr-defined]
        slow_outcome=base.outcome,  # type: ignore[attr-defined]
        slow_feedback=base.feedback,  # type: ignore[attr-defined]
        slow_track=base.track,  # type: ignore[attr-defined]
        schema=MILESTONE,
        outcome_schema=OUTCOME,
        feedback_schema=FEEDBACK,
        # The module of cs_sdk.Event, not the class: importing it means pydantic, which
        # init() does not need. C looks the class up at the first track() that finds the
        # module loaded; before that no instance of it can exist.
        event_type=EVENT_MODULE,
        feedback_scores=FEEDBACK_SCORES,
        attribute_names=(
            FEEDBACK_KIND,
            FEEDBACK_SCORE,
            FEEDBACK_COMMENT,
            PROMPT_ID,
            PRODUCT_AREA,
            OUTCOME_VALUE,
            OUTCOME_UNIT,
        ),
        fallbacks=fallbacks,
        identity_var=identity_var,
        otel_context=otel_context_var() or current_otel_context,
        span_ids=span_ids_in,
        time_ns=time.time_ns,
        normalize_id=normalize_id,
        converters=CONVERTERS,
        next_seq=next_seq,
        sequence=sequence,
        queue_submit=queue_submit,
        deque_append=deque.append,
        max_name=MAX_NAME_LENGTH,
        max_id=MAX_ID_LENGTH,
        max_string=MAX_STRING_LENGTH,
        max_properties=MAX_PROPERTIES,
        max_items=MAX_LIST_ITEMS,
        max_depth=MAX_DEPTH,
        record_bytes=RECORD_BYTES,
        value_bytes=VALUE_BYTES,
        typed_bytes=TYPED_EVENT_BYTES,
        attributes_bytes=ATTRIBUTES_BYTES,
    )
    kind = type(client)
    return {
        name: getattr(recorder, name)
        for name in ACCELERATED_CALLS
        if getattr(kind, name) is getattr(base, name)
    }
