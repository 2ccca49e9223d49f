"""Self-diagnostics: every event is counted where it goes, every loss by its reason.

Counters are ``itertools.count`` objects: ``next()`` on one is atomic under the GIL, so the
caller's thread can count a drop without taking a lock that the worker also takes. Counts of
more than one (records per batch, bytes sent) come from the worker and go to a separate
total under a lock of the counter's own, which the caller's thread never takes.
"""

from __future__ import annotations

import itertools
import threading
from typing import Final, Literal, TypedDict, get_args

from .._fork import register_for_fork

DropReason = Literal[
    "queue_full",
    "invalid",
    "opted_out",
    "before_send",
    "rejected_by_collector",
    "retry_exhausted",
    "shutdown_timeout",
    "spool_full",
    "spool_error",
    "internal_error",
    "not_initialized",  # recorded through cs_sdk.* before init() (or after shutdown())
]
DROP_REASONS: Final[tuple[DropReason, ...]] = get_args(DropReason)
# Reasons that lose an event the application meant to send (the others are decisions).
LOSS_REASONS: Final[frozenset[str]] = frozenset(
    (
        "queue_full",
        "rejected_by_collector",
        "retry_exhausted",
        "shutdown_timeout",
        "spool_full",
        "spool_error",
        "internal_error",
        "not_initialized",
    )
)
# Events recorded in spite of a problem, which was logged (and raised with strict=True):
# the answer is kept because it is still the customer's word, and the count says how often.
NoteReason = Literal["comment_truncated", "feedback_kind_mismatch", "unknown_prompt"]
NOTE_REASONS: Final[tuple[NoteReason, ...]] = get_args(NoteReason)
COUNTERS: Final[tuple[str, ...]] = (
    "recorded",
    "sent",
    "retried",
    "spooled",
    "replayed",
    "batches_sent",
    "bytes_sent",
    "export_failures",
)


class StatsSnapshot(TypedDict):
    """What :meth:`cs_sdk.Client.stats` returns."""

    recorded: int
    queued: int
    sent: int
    retried: int
    spooled: int
    replayed: int
    batches_sent: int
    bytes_sent: int
    export_failures: int
    dropped: dict[str, int]
    dropped_total: int
    warnings: dict[str, int]  # recorded in spite of a problem, by NoteReason


class Counter:
    """A monotonic counter: ``add()`` is lock-free, ``add_many(n)`` is O(1)."""

    __slots__ = ("_bulk", "_count", "_lock", "add")

    def __init__(self) -> None:
        self._count = itertools.count()
        self.add = self._count.__next__
        self._bulk = 0
        self._lock = threading.Lock()

    def add_many(self, n: int) -> None:
        with self._lock:
            self._bulk += n

    @property
    def value(self) -> int:
        # repr is "count(N)": the only portable way to read a count without advancing it.
        return int(repr(self._count)[6:-1]) + self._bulk

    def reset_lock_after_fork(self) -> None:
        self._lock = threading.Lock()


class Stats:
    """Counters of one client."""

    def __init__(self) -> None:
        self.counters: dict[str, Counter] = {name: Counter() for name in COUNTERS}
        self.drops: dict[str, Counter] = {reason: Counter() for reason in DROP_REASONS}
        self.notes: dict[str, Counter] = {reason: Counter() for reason in NOTE_REASONS}
        register_for_fork(self)

    def count(self, name: str, n: int = 1) -> None:
        counter = self.counters[name]
        if n == 1:
            counter.add()
        else:
            counter.add_many(n)

    def drop(self, reason: DropReason, n: int = 1) -> None:
        counter = self.drops[reason]
        if n == 1:
            counter.add()
        else:
            counter.add_many(n)

    def note(self, reason: NoteReason) -> None:
        """Count an event recorded in spite of a problem (see ``NoteReason``)."""
        self.notes[reason].add()

    def _reinit_after_fork(self) -> None:
        """In a forked child: a lock held by a parent thread at fork time is replaced."""
        for counter in (*self.counters.values(), *self.drops.values(), *self.notes.values()):
            counter.reset_lock_after_fork()

    def lost_total(self) -> int:
        return sum(self.drops[reason].value for reason in LOSS_REASONS)

    def snapshot(self, queued: int) -> StatsSnapshot:
        values = {name: counter.value for name, counter in self.counters.items()}
        dropped = {reason: counter.value for reason, counter in self.drops.items()}
        return StatsSnapshot(
            recorded=values["recorded"],
            queued=queued,
            sent=values["sent"],
            retried=values["retried"],
            spooled=values["spooled"],
            replayed=values["replayed"],
            batches_sent=values["batches_sent"],
            bytes_sent=values["bytes_sent"],
            export_failures=values["export_failures"],
            dropped=dropped,
            dropped_total=sum(dropped.values()),
            warnings={reason: counter.value for reason, counter in self.notes.items()},
        )
