"""A controllable clock, a recorder that keeps what it is given, and an engine factory."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from typing import Any

import pytest

from cs_sdk._prompts import Prompts, parse_config
from cs_sdk.events import Event
from cs_sdk.state import MemoryStore, StateStore

START = dt.datetime(2025, 3, 1, 12, 0, tzinfo=dt.timezone.utc)


class FakeClock:
    """Returns ``now``; tests move it with :meth:`advance`."""

    def __init__(self, now: dt.datetime = START) -> None:
        self.now = now

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += dt.timedelta(**delta)


class FakeRecorder:
    """Stands in for the client: keeps each tracked event with its identity and time."""

    def __init__(self) -> None:
        self.events: list[tuple[Event, str | None, str | None, Any]] = []

    def track(
        self,
        event: Event,
        *,
        user_id: str | None = None,
        account_id: str | None = None,
        session_id: str | None = None,
        timestamp: dt.datetime | float | None = None,
    ) -> str | None:
        self.events.append((event, user_id, account_id, timestamp))
        return f"event-{len(self.events)}"


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def recorder() -> FakeRecorder:
    return FakeRecorder()


EngineFactory = Callable[..., Prompts]


@pytest.fixture
def make_engine(clock: FakeClock, recorder: FakeRecorder) -> EngineFactory:
    """``make_engine(document_dict, store=None)``: an engine that re-reads state each call."""

    def make(document: dict[str, Any], store: StateStore | None = None, **options: Any) -> Prompts:
        options.setdefault("cache_ttl", 0.0)
        return Prompts(
            store or MemoryStore(),
            source=parse_config(json.dumps(document), source="test.json"),
            recorder=recorder,
            clock=clock,
            **options,
        )

    return make
