"""``TtlCache``: the small in-process cache in front of a state store.

Pilot tagging runs for every event and prompt evaluation for every page view; neither may
pay a store round trip each time. Entries live a few seconds (other processes' changes show
up within that time) and the size is bounded; changes made in this process invalidate their
key at once.

    >>> cache: TtlCache[str, int] = TtlCache(maxsize=2, ttl=5.0)
    >>> token = cache.token()
    >>> cache.put("u1", 1, token)
    >>> cache.get("u1")
    1
    >>> cache.invalidate("u1"); cache.get("u1") is None
    True
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Generic, TypeVar

from .._fork import register_for_fork

__all__ = ["TtlCache"]

K = TypeVar("K")
V = TypeVar("V")


class TtlCache(Generic[K, V]):
    """A bounded mapping whose entries expire ``ttl`` seconds after they were stored."""

    def __init__(
        self, maxsize: int, ttl: float, *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._maxsize = maxsize
        self._ttl = ttl
        self._clock = clock
        self._data: dict[K, tuple[float, V]] = {}
        self._lock = threading.Lock()
        self._generation = 0
        register_for_fork(self)

    def _reinit_after_fork(self) -> None:
        # The entries are still right in the child; only the lock may be held by a thread
        # that did not survive the fork.
        self._lock = threading.Lock()

    def get(self, key: K) -> V | None:
        """The cached value, or ``None`` when absent or expired. Lock-free."""
        entry = self._data.get(key)
        if entry is None or entry[0] < self._clock():
            return None
        return entry[1]

    def token(self) -> int:
        """Take this before loading a value from the store; pass it to :meth:`put`."""
        return self._generation

    def put(self, key: K, value: V, token: int) -> None:
        """Store ``value`` unless something was invalidated since ``token`` was taken.

        Without the token, a load that started before an enrolment on another thread could
        store the old memberships right after the enrolment invalidated them.
        """
        with self._lock:
            if token != self._generation:
                return
            data = self._data
            if key not in data and len(data) >= self._maxsize:
                # Dicts keep insertion order: drop the oldest entry. Entries are short-lived,
                # so oldest-first is as good as least-recently-used here.
                del data[next(iter(data))]
            data[key] = (self._clock() + self._ttl, value)

    def invalidate(self, key: K) -> None:
        with self._lock:
            self._generation += 1
            self._data.pop(key, None)

    def clear(self) -> None:
        with self._lock:
            self._generation += 1
            self._data.clear()

    def __len__(self) -> int:
        return len(self._data)
