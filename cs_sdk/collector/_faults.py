"""Scripted faults for the local collector, to test delivery the way outages really happen.

plan = FaultPlan()
plan.add(Status(503, retry_after="1"), times=2)   # the next two requests get a 503
plan.always(BlackHole())                          # then every request hangs
"""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass


@dataclass(frozen=True)
class Refuse:
    """Close the connection without answering."""


@dataclass(frozen=True)
class Status:
    """Answer with this status (and ``Retry-After``); the records are not stored."""

    code: int
    retry_after: str | None = None
    message: str = ""


@dataclass(frozen=True)
class Slow:
    """Wait ``seconds`` before answering normally (the records are stored)."""

    seconds: float


@dataclass(frozen=True)
class ResetMidBody:
    """Send part of the answer, then reset the connection."""


@dataclass(frozen=True)
class PartialSuccess:
    """Store all but the last ``rejected`` records and say so in ``partial_success``."""

    rejected: int
    message: str = ""


@dataclass(frozen=True)
class BlackHole:
    """Read the request and never answer (until the collector stops)."""


Fault = Refuse | Status | Slow | ResetMidBody | PartialSuccess | BlackHole


class FaultPlan:
    """Faults applied to the next requests in order, then an optional standing fault."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._queue: deque[Fault] = deque()
        self._standing: Fault | None = None

    def add(self, fault: Fault, times: int = 1) -> FaultPlan:
        with self._lock:
            self._queue.extend([fault] * times)
        return self

    def always(self, fault: Fault) -> FaultPlan:
        with self._lock:
            self._standing = fault
        return self

    def clear(self) -> None:
        with self._lock:
            self._queue.clear()
            self._standing = None

    def next(self) -> Fault | None:
        with self._lock:
            if self._queue:
                return self._queue.popleft()
            return self._standing
