"""The OTLP/HTTP retry policy, declared once with tenacity.

Per the OTLP specification only 429, 502, 503 and 504 answers and connection failures are
retried; ``Retry-After`` (seconds or an HTTP date) is honoured; otherwise exponential backoff
with full jitter, capped. A batch is given up when its time budget would be exceeded, and
while the client shuts down a batch gets no further sleeps at all.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Final

from tenacity import RetryCallState, Retrying, retry_if_exception_type
from tenacity.wait import wait_random_exponential

from ._transport import TransportResult

RETRYABLE_STATUS: Final[frozenset[int]] = frozenset((429, 502, 503, 504))
BACKOFF_INITIAL: Final = 0.5
BACKOFF_MAX: Final = 30.0


def is_retryable(result: TransportResult) -> bool:
    """Connection errors, timeouts and the specification's retryable status codes."""
    return result.status_code is None or result.status_code in RETRYABLE_STATUS


class RetryableFailure(Exception):
    """Raised inside an attempt so tenacity retries it; carries the failed result."""

    def __init__(self, result: TransportResult) -> None:
        super().__init__(result.error or f"HTTP {result.status_code}")
        self.result = result


_jitter = wait_random_exponential(multiplier=BACKOFF_INITIAL, max=BACKOFF_MAX)


def _wait(state: RetryCallState) -> float:
    outcome = state.outcome
    error = outcome.exception() if outcome is not None else None
    backoff = float(_jitter(state))
    if isinstance(error, RetryableFailure) and error.result.retry_after is not None:
        # Never sooner than our own backoff: "Retry-After: 0" (or a date in the past) from a
        # struggling collector would otherwise be a retry storm for the whole budget.
        return max(error.result.retry_after, backoff)
    return backoff


class RetryPolicy:
    """Runs one export attempt function under the retry rules.

    ``interrupt`` is set when the client shuts down: it cuts a sleep short and stops further
    retries, so a shutdown never waits on backoff.
    """

    def __init__(
        self,
        interrupt: threading.Event,
        on_retry: Callable[[TransportResult], None],
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._interrupt = interrupt
        self._on_retry = on_retry
        self._clock = clock

    def _sleep(self, seconds: float) -> None:
        self._interrupt.wait(seconds)

    def run(self, attempt: Callable[[float], TransportResult], deadline: float) -> TransportResult:
        """Call ``attempt(remaining_seconds)`` until it succeeds, fails for good or runs out."""
        clock = self._clock

        def stop(state: RetryCallState) -> bool:
            if self._interrupt.is_set():
                return True
            return clock() + (state.upcoming_sleep or 0.0) >= deadline

        def before_sleep(state: RetryCallState) -> None:
            outcome = state.outcome
            error = outcome.exception() if outcome is not None else None
            if isinstance(error, RetryableFailure):
                self._on_retry(error.result)

        def one_attempt() -> TransportResult:
            result = attempt(max(deadline - clock(), 0.0))
            if not result.ok and is_retryable(result):
                raise RetryableFailure(result)
            return result

        retrying = Retrying(
            retry=retry_if_exception_type(RetryableFailure),
            wait=_wait,
            stop=stop,
            sleep=self._sleep,
            before_sleep=before_sleep,
            reraise=True,
        )
        try:
            return retrying(one_attempt)
        except RetryableFailure as failure:
            return failure.result
