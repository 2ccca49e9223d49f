"""Self-diagnostics: every event is counted where it goes, every loss by its reason.

Counters are ``itertools.count`` objects: ``next()`` on one is atomic under the GIL, so the
caller's thread can count a drop without taking a lock that the worker also takes. Counts of
more than one (records per batch, bytes sent) come from the worker and go to a separate
total under a lock of the counter's own, which the caller's thread never takes.

The books (docs/reliability.md, "The books"), true in every snapshot::

    recorded = sent + dropped_total + spool_pending + queued + in_flight

``recorded`` counts events accepted at the call; an event refused at the call (invalid,
opted out, an internal error before it was accepted) is counted in ``refused`` and never in
``recorded``. The worker moves events between its gauges (``in_flight``, ``spool_pending``)
and the outcome counters inside a *version bracket*: it makes the version odd, moves, makes it
even again; ``snapshot()`` reads the worker's side between two equal even versions, so a
sample never sees an event in two places or in none. The caller's side takes no lock and no
bracket: ``queued`` is what was accepted and not yet taken by the worker (read in an order
that keeps it exact and never negative).
"""

from __future__ import annotations

import itertools
import threading
import time
from typing import Final, Literal, TypedDict, get_args

from ._fork import register_for_fork

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
# Reasons an event is refused at the call, before it counts as recorded.
REFUSAL_REASONS: Final[frozenset[str]] = frozenset(("invalid", "opted_out", "not_initialized"))
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
    # Property keys left out of an event that was still sent: their value's type cannot be
    # converted (_values.py). Not an event count: the event itself is recorded and sent.
    "properties_dropped",
    "replay_dropped",
)
# How many times snapshot() re-reads while the worker is mid-move before it settles for
# what it has (a step such as before_send that takes long must not hang stats()).
_SNAPSHOT_TRIES: Final = 2_000


class DebugSnapshot(TypedDict):
    """``stats()["debug"]``: whether the fast path is on, for the SDK's own diagnosis."""

    accelerated: list[str]  # the recording calls the C accelerator runs (_accelerated.py)
    fallbacks: dict[str, int]  # calls it handed to the Python method, by reason


class StatsSnapshot(TypedDict):
    """What :meth:`cs_sdk.Client.stats` returns."""

    recorded: int
    queued: int
    in_flight: int
    spool_pending: int
    sent: int
    retried: int
    spooled: int
    replayed: int
    batches_sent: int
    bytes_sent: int
    export_failures: int
    properties_dropped: int
    replay_dropped: int
    dropped: dict[str, int]
    dropped_total: int
    refused: dict[str, int]
    refused_total: int
    warnings: dict[str, int]  # recorded in spite of a problem, by NoteReason
    debug: DebugSnapshot


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
        # Drops after acceptance (in `recorded`); refusals at the call (never in it).
        self.drops: dict[str, Counter] = {
            reason: Counter() for reason in DROP_REASONS if reason not in REFUSAL_REASONS
        }
        self.refusals: dict[str, Counter] = {
            reason: Counter() for reason in (*sorted(REFUSAL_REASONS), "internal_error")
        }
        # Internal errors on the caller's thread after the event was accepted: the caller's
        # side of the books, like queue_full (the worker's own are in drops).
        self.call_errors = Counter()
        # Refusals counted where not even a call is possible (a recording call a few frames
        # from the recursion limit): bumped in place, by the Python guard or the C path.
        # [refused at the call, lost after the commit point]
        self.unreported = [0, 0]
        # The worker's side: a single writer (the worker thread), read by snapshot().
        self.version = 0  # odd while the worker moves events between the entries below
        self.taken = 0  # events taken out of the queue by the worker
        self.in_flight = 0  # taken, not yet delivered, dropped or on disk
        self.spool_pending = 0  # this process's events on disk now
        self.notes: dict[str, Counter] = {reason: Counter() for reason in NOTE_REASONS}
        # The C accelerator's calls (set by the client) and, bumped by the C code itself
        # under the GIL, the calls it handed to the Python method by reason: a fast path that
        # stops applying (a new keyword, a renamed attribute) shows here, not only as cost.
        self.accelerated: tuple[str, ...] = ()
        self.fallbacks: dict[str, int] = {}
        register_for_fork(self)

    def refuse(self, reason: str) -> None:
        """An event refused at the call: counted apart, never in ``recorded``."""
        self.refusals[reason].add()

    def count(self, name: str, n: int = 1) -> None:
        counter = self.counters[name]
        if n == 1:
            counter.add()
        else:
            counter.add_many(n)

    def drop(self, reason: DropReason, n: int = 1) -> None:
        counter = self.drops.get(reason)
        if counter is None:  # invalid / opted_out: a refusal at the call
            counter = self.refusals[reason]
        if n == 1:
            counter.add()
        else:
            counter.add_many(n)

    def note(self, reason: NoteReason) -> None:
        """Count an event recorded in spite of a problem (see ``NoteReason``)."""
        self.notes[reason].add()

    def _reinit_after_fork(self) -> None:
        """In a forked child: a lock held by a parent thread at fork time is replaced."""
        for counter in (*self.counters.values(), *self.drops.values(), *self.refusals.values()):
            counter.reset_lock_after_fork()
        self.call_errors.reset_lock_after_fork()
        for counter in self.notes.values():
            counter.reset_lock_after_fork()

    def lost_total(self) -> int:
        return (
            sum(self.drops[reason].value for reason in LOSS_REASONS if reason in self.drops)
            + self.refusals["not_initialized"].value  # a call without a client: a loss
            + self.call_errors.value
            + self.unreported[1]
        )

    def forget_unsettled(self) -> None:
        """In a forked child: the parent's queued, in-flight and spooled events are the
        parent's to account for; the child's books go on without them."""
        self.version &= ~1  # a move cut short by the fork is not going to end
        snapshot = self.snapshot()
        unsettled = snapshot["queued"] + snapshot["in_flight"] + snapshot["spool_pending"]
        self.version += 1
        self.counters["recorded"].add_many(-unsettled)
        self.taken -= snapshot["in_flight"] + snapshot["spool_pending"]
        self.in_flight = 0
        self.spool_pending = 0
        self.version += 1

    def begin(self) -> None:
        """The worker starts moving events between entries of the books."""
        self.version += 1

    def end(self) -> None:
        """The move is over: the books balance again."""
        self.version += 1

    def snapshot(self, queued: int | None = None) -> StatsSnapshot:
        """The counters; ``queued`` (a pipeline's own count) only for pipelines without a
        worker (``disabled``, ``testing.capture``), where nothing is taken or in flight."""
        tries = _SNAPSHOT_TRIES
        while True:
            version = self.version
            tries -= 1
            if version & 1 and tries > 0:
                time.sleep(0)  # the worker is mid-move: let it finish
                continue
            taken, in_flight, pending = self.taken, self.in_flight, self.spool_pending
            values = {name: counter.value for name, counter in self.counters.items()}
            drops = {reason: counter.value for reason, counter in self.drops.items()}
            if self.version == version or tries <= 0:
                break  # consistent, or (a step taking long) the best there is
        # Read after the worker's side, caller's drops first and `recorded` last: an event a
        # caller is accepting right now is then counted as queued, never as missing.
        call_errors = self.call_errors.value + self.unreported[1]
        drops["queue_full"] = self.drops["queue_full"].value
        recorded = self.counters["recorded"].value
        values["recorded"] = recorded
        if queued is None:
            queued = recorded - taken - drops["queue_full"] - call_errors
        refused = {reason: counter.value for reason, counter in self.refusals.items()}
        refused["internal_error"] += self.unreported[0]
        dropped = dict(drops)
        dropped["internal_error"] += call_errors
        dropped_total = sum(dropped.values())
        for reason, count in refused.items():
            dropped[reason] = dropped.get(reason, 0) + count
        return StatsSnapshot(
            recorded=recorded,
            queued=queued,
            in_flight=in_flight,
            spool_pending=pending,
            sent=values["sent"],
            retried=values["retried"],
            spooled=values["spooled"],
            replayed=values["replayed"],
            batches_sent=values["batches_sent"],
            bytes_sent=values["bytes_sent"],
            export_failures=values["export_failures"],
            properties_dropped=values["properties_dropped"],
            replay_dropped=values["replay_dropped"],
            dropped=dropped,
            dropped_total=dropped_total,
            refused=refused,
            refused_total=sum(refused.values()),
            warnings={reason: counter.value for reason, counter in self.notes.items()},
            debug=DebugSnapshot(accelerated=list(self.accelerated), fallbacks=dict(self.fallbacks)),
        )
