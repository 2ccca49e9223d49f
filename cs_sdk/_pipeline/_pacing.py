"""When the worker takes the GIL: not while the application records back to back, unless
the queue needs it or the collector is not taking batches.

On a GIL build the worker and the application's threads take turns, whatever the number of
cores. Every event the worker enriches and encodes (3-6 µs, bench/worker_shapes.py) is time a
recording thread waits for the GIL, where the recording call itself costs 1-3 µs: keeping up
with a burst as it happens would make each call of the burst several times dearer. The queue
is there to absorb bursts, so (decision, issue 15):

* **back off** while events arrive back to back (at least ``_HOT_RATE`` events/s since the
  previous look, taken at most ``_STALE`` s ago), what waits in memory (queued, and held in
  encoded batches) is below half of both bounds (``max_queue_size``, ``max_queue_bytes``),
  the collector is taking batches (``taking``, below), no flush is waiting and no shutdown
  has begun: the worker sleeps in ``_PAUSE`` steps, the GIL released;
* **work in slices** otherwise below half of the bounds, releasing the GIL every
  ``YIELD_EVERY`` events so that a waiting application thread gets it soon. A yield costs
  the worker a whole switch interval (5 ms) before it gets the GIL back, so in a burst a
  slice takes only ~5% of the GIL: the worker barely moves;
* **catch up** from half of a bound on: no deliberate yields (the interpreter's switch
  interval still shares the GIL, ~40% of it to the worker in a burst). Catching up only from
  three quarters lost events in 100k bursts that the bounds had room for (list, typed:
  hundreds to thousands dropped as ``queue_full`` in some runs, none from half;
  bench/burst.py), and a call a few µs slower is better than an event lost;
* **hold as they arrive** while the collector is not known to take batches (``taking``:
  ``Delivery.taking``, no batch delivered whole in the last 2 s, or one failed or was retried
  since): no back-off and no deliberate yields. Its events will be held anyway, and held
  encoded in a batch an event costs 33-117 bytes where a queued one costs ~350-700 bytes of
  Python objects (packed, ``_record.py``), which pymalloc keeps as pages after the worker
  frees them (issue 15, bench/held_memory.py: a 50k burst into a closed port, peak RSS ~670
  -> ~580 B/event flat, ~880 -> ~740 mix). Even so, most of a burst is still queued when
  it ends (the worker costs 2-4x the caller per event: bench/held_profile.py), so the
  queued form sets the peak. The caller pays for it only during an outage (a burst's calls
  ~1.3-1.5x dearer), and the worker a batch's encoding to learn whether a collector it has
  not heard from lately is there.

What a burst costs the caller beyond its paced cost is mostly not the worker (the SDK's
threads take 0.2-0.4 µs of CPU per call of a burst) but the garbage collector on the caller's
own thread, walking the queued events it still tracks: the C path leaves out the queued
tuples and the copied dicts that hold no list, so a flat or nested burst runs no full
collection, while an event with a list or a typed event (its pydantic instance) still brings
2-4 of them in a 100k burst (bench/burst.py counts them; with ``gc`` disabled the
burst/paced ratio is 0.8-1.3 for every shape, measured, issue 15).

Nothing here is ever a reason to lose an event: backing off only lets the queue grow to half
its bounds, where the worker catches up. ``tests/pipeline/test_pacing.py`` checks the
decisions, ``tests/reliability/test_held_and_bursts.py`` the books and the bounds during
bursts; bench/burst.py measures the caller's cost (paced vs burst).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:
    from .._stats import Stats
    from ._queue import EventQueue

YIELD_EVERY: Final = 64  # events between two looks (and GIL releases) while working
_PAUSE: Final = 0.002  # one back-off step: long against a call, short against a burst
_HOT_RATE: Final = 20_000.0  # events/s: faster than this is a burst, not a request rate
_STALE: Final = 0.05  # an older look says nothing about the rate now
_MAX_BACK_OFF: Final = 5.0  # a hang guard: never wait longer in one go


class Pacer:
    """Decides, every ``YIELD_EVERY`` events, whether the worker yields, backs off or goes on."""

    def __init__(
        self,
        events: EventQueue,
        stats: Stats,
        max_size: int,
        max_bytes: int,
        taking: Callable[[], bool] = lambda: True,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._events = events
        self._taking = taking  # the collector takes batches (Delivery.taking)
        self._sleep = sleep
        self._stats = stats
        self._half = (max_size // 2, max_bytes // 2)
        self._last_intake = 0
        self._last_look = 0.0
        self.stopping = False
        # Flushes resolved by the worker: one put in since (EventQueue.marks) is waiting for
        # the worker, so no back-off. Two flushes marked at the same instant may count as
        # one (`marks += 1` from two threads): then the counts never match again, and the
        # worker never backs off, which is the safe side.
        self.flushes_done = 0

    def _intake(self) -> int:
        # Events ever queued (less the ones discarded): the worker moves events from the
        # queue to `taken`, so only the callers change this sum.
        return self._stats.taken + len(self._events.items)

    def _hot(self) -> bool:
        now = time.monotonic()
        intake = self._intake()
        elapsed = now - self._last_look
        arrived = intake - self._last_intake
        self._last_look, self._last_intake = now, intake
        return elapsed <= _STALE and arrived >= _HOT_RATE * elapsed

    def _below(self, marks: tuple[int, int]) -> bool:
        events, nbytes = self._events.waiting()
        return events < marks[0] and nbytes < marks[1]

    def look(self) -> None:
        """Between two slices of work: back off, yield, or (near a bound) go straight on."""
        if not self._below(self._half):
            return  # catch up
        if not self._taking():
            return  # hold them encoded as they arrive: no back-off, no deliberate yield
        if self._may_back_off() and self._hot():
            give_up_at = time.monotonic() + _MAX_BACK_OFF
            while True:
                self._sleep(_PAUSE)
                if not self._may_back_off() or not self._hot():
                    return
                if time.monotonic() >= give_up_at:
                    break
        self._sleep(0)  # let a waiting application thread take the GIL

    def _may_back_off(self) -> bool:
        return (
            not self.stopping
            and self._events.marks == self.flushes_done
            and self._below(self._half)
        )
