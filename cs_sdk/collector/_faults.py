"""Scripted faults for the local collector, to test delivery the way outages really happen.

    plan = FaultPlan()
    plan.add(Status(503, retry_after="1"), times=2)   # the next two requests get a 503
    plan.add(PartialSuccess(rejected=1, message="too large"))
    plan.always(BlackHole())                          # then every request hangs
    with LocalCollector(faults=plan) as collector:
        ...
    plan.clear()                                      # normal service again

Only ``POST /v1/logs`` requests take a fault from the plan.
"""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Refuse:
    """Read the request, then close the connection without answering."""


@dataclass(frozen=True, slots=True)
class Status:
    """Answer ``code`` with a google.rpc.Status body carrying ``message`` (and a
    ``Retry-After`` header when given); the records are not stored."""

    code: int
    retry_after: str | None = None
    message: str = ""


@dataclass(frozen=True, slots=True)
class Slow:
    """Wait ``seconds`` before answering normally (the records are stored)."""

    seconds: float


@dataclass(frozen=True, slots=True)
class ResetMidBody:
    """Store the records, send the headers and half the body, then reset (RST) the
    connection: the client cannot tell whether its records arrived."""


@dataclass(frozen=True, slots=True)
class PartialSuccess:
    """Store all but the last ``rejected`` records and say so in ``partial_success``."""

    rejected: int
    message: str = ""


@dataclass(frozen=True, slots=True)
class BlackHole:
    """Read the request and never answer; the connection is held until the collector
    stops."""


Fault = Refuse | Status | Slow | ResetMidBody | PartialSuccess | BlackHole


class FaultPlan:
    """Faults applied to the next requests in order, then an optional standing fault."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._queue: deque[Fault] = deque()
        self._standing: Fault | None = None

    def add(self, fault: Fault, times: int = 1) -> FaultPlan:
        """Apply ``fault`` to the next ``times`` requests, after those already queued."""
        with self._lock:
            self._queue.extend([fault] * times)
        return self

    def always(self, fault: Fault) -> FaultPlan:
        """Apply ``fault`` to every request once the queue is empty, until :meth:`clear`."""
        with self._lock:
            self._standing = fault
        return self

    def clear(self) -> None:
        """Drop the queued and the standing faults: normal service."""
        with self._lock:
            self._queue.clear()
            self._standing = None

    def next(self) -> Fault | None:
        """The fault for the request at hand (consumed), or None for normal service."""
        with self._lock:
            if self._queue:
                return self._queue.popleft()
            return self._standing
