"""Run the C accelerator and the pure-Python reference side by side (tests/test_speedups*.py).

A ``Pair`` holds two clients over the same options, one with ``speedups=True`` and one
without, each with its own list of queued events; the helpers reduce what each returned,
raised, queued and would put on the wire to values that must be equal.
"""

from __future__ import annotations

import gc
import re
import threading
from collections.abc import Callable
from typing import Any

import cs_sdk
from cs_sdk import InvalidEventError
from cs_sdk._client import NullPipeline
from cs_sdk._export._encoding import make_encoder
from cs_sdk._export._mapping import build_scope
from cs_sdk._record import QUEUED_FIELDS, QUEUED_SIZE, EventRecord, QueuedEvent, record_of


class ListPipeline(NullPipeline):
    """Keeps every queued event; ``accept`` decides what ``submit`` answers."""

    def __init__(self) -> None:
        self.events: list[QueuedEvent] = []
        self.accept: Callable[[QueuedEvent], bool] = lambda queued: True

    def submit(self, queued: QueuedEvent) -> bool:
        self.events.append(queued)
        return self.accept(queued)


class Pair:
    """A C client and a Python client, each with its own list of queued events."""

    def __init__(self, **options: Any) -> None:
        self.pipelines: list[ListPipeline] = []
        self.fast = self._client(speedups=True, **options)
        self.slow = self._client(speedups=False, **options)
        assert self.fast._accelerated and not self.slow._accelerated

    def _client(self, **options: Any) -> cs_sdk.Client:
        pipeline = ListPipeline()
        self.pipelines.append(pipeline)
        return cs_sdk.Client(
            service_name="test", environ={}, _pipeline_factory=lambda *a: pipeline, **options
        )

    def close(self) -> None:
        self.fast.shutdown(0)
        self.slow.shutdown(0)


def outcome(call: Callable[[], str | None]) -> tuple[Any, ...]:
    """What a recording call did: returned an id, returned None, or raised (which error)."""
    try:
        result = call()
    except InvalidEventError as error:
        return ("raised", type(error), error.field, error.rule)
    except TypeError as error:
        return ("raised", TypeError, str(error))
    if result is None:
        return ("none",)
    assert re.fullmatch(r"[0-9a-f]{32}", result), result
    return ("id",)


def value_types(value: Any) -> Any:
    """The types in a value, all the way down (1 == 1.0 == True would hide a difference)."""
    if isinstance(value, dict):
        return {key: value_types(item) for key, item in value.items()}
    if isinstance(value, list):
        return [value_types(item) for item in value]
    return type(value)


def plain(queued: QueuedEvent) -> QueuedEvent:
    """A queued event in the plain form the Python path queues (the C path packs its dict,
    _record.py's packed form), through the worker's own rule (``record_of``)."""
    record = record_of(queued)
    return (
        *(getattr(record, field) for field in QUEUED_NAMES),
        *queued[QUEUED_SIZE:QUEUED_FIELDS],
    )


QUEUED_NAMES = (
    "event_id",
    "time_unix_nano",
    "schema",
    "name",
    "body",
    "attributes",
    "user_id",
    "account_id",
    "session_id",
    "trace_id",
    "span_id",
    "trace_flags",
)


def comparable(queued: QueuedEvent) -> tuple[Any, ...]:
    """A queued event without its id and time, with the types of its properties."""
    queued = plain(queued)
    body = queued[4]
    types = value_types(body) if isinstance(body, dict) else None
    return (*queued[2:], types, value_types(queued[5]))


_SCOPE = build_scope({}, "test")
_ENCODERS = (
    make_encoder("http/protobuf", _SCOPE, accelerated=True),
    make_encoder("http/protobuf", _SCOPE, accelerated=False),
    make_encoder("http/json", _SCOPE),
)


def wire(queued: QueuedEvent) -> list[bytes]:
    """The bytes each encoder puts on the wire for a queued event (id and time fixed)."""
    record = EventRecord("0" * 32, 0, *plain(queued)[2:QUEUED_SIZE])
    record.resolve_typed_body()  # the worker's "typed" step, for track()
    encoded = [encoder.encode_event(record) for encoder in _ENCODERS]
    assert encoded[0] == encoded[1]  # the C writer and the Python writer
    return encoded


class nothing:
    """A context manager that does nothing (an optional ``with``)."""

    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        return None


def race_with_meddler(
    client: cs_sdk.Client, record: Callable[[int], object], calls_per_thread: int
) -> list[int]:
    """Three threads call ``record(index)`` for ``calls_per_thread`` indexes while another
    swaps the client's pipeline, opts ``u3`` out and in, and collects garbage; returns how
    many calls each recording thread saw accepted (a truthy result)."""
    stop = threading.Event()
    accepted: list[int] = []

    def recording() -> None:
        accepted.append(sum(1 for index in range(calls_per_thread) if record(index)))

    def meddle() -> None:
        pipelines = [ListPipeline(), ListPipeline()]
        flip = 0
        while not stop.is_set():
            client._swap_pipeline(pipelines[flip])
            flip ^= 1
            client.opt_out("u3")
            client.opt_in("u3")
            gc.collect(0)

    meddler = threading.Thread(target=meddle)
    recorders = [threading.Thread(target=recording) for _ in range(3)]
    meddler.start()
    for thread in recorders:
        thread.start()
    for thread in recorders:
        thread.join(timeout=120)  # a hang guard
    stop.set()
    meddler.join(timeout=10)
    return accepted
