"""``OptOuts``: who opted out, kept in the state store and honoured by every process.

``client.opt_out(user_id)`` writes the user to the store (so a sibling worker on the same
``state=`` store, and the next process after a restart, honour it) and to this process's
set, which the recording calls check without I/O. The set is read from the store when the
client starts and again whenever the store's change marker says opt-outs changed (checked
once per batch by the worker, see :class:`StoreWatch`). The worker's ``opt_out`` step, the
first of the chain, drops what was recorded before this process heard of an opt-out made
elsewhere, so no event of an opted-out user is sent, tagged, remembered or spooled.

    >>> opt_outs = OptOuts(MemoryStore(), publish=print)
    >>> opt_outs.set("u1", True)
    frozenset({'u1'})
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from .._log import logger, warn_once
from .._record import EventRecord
from ..state import StateStore, Versions

__all__ = ["OptOuts", "StoreWatch"]

# After a failed read of the change marker, the worker does not try again for a while,
# doubling up to a minute: a store outage must not cost every batch a socket timeout.
_RETRY_FIRST = 5.0
_RETRY_MAX = 60.0


class OptOuts:
    """The opted-out users of one client.

    Args:
        store: where opt-outs are kept.
        publish: receives the set each time it changes (the client's hot-path set).
        on_change: called with each user whose opt-out changed (prompt caches forget them).
    """

    def __init__(
        self,
        store: StateStore,
        *,
        publish: Callable[[frozenset[str]], None],
        on_change: Callable[[str], None] | None = None,
    ) -> None:
        self._store = store
        self._publish = publish
        self._on_change = on_change
        self._lock = threading.Lock()
        # Read by the worker before its first event (StoreWatch), not here: opening a client
        # does no store I/O (a Redis that does not answer must not hold up init()). Until
        # then, the worker's step and the store itself keep opted-out users out.
        self.users: frozenset[str] = frozenset()

    def set(self, user_id: str, opted_out: bool) -> None:
        """Opt ``user_id`` out (or back in): in the store, then in this process at once.

        A store failure is logged, and the change still holds in this process.
        """
        try:
            self._store.set_opted_out(user_id, opted_out, time.time())
        except Exception:
            warn_once(
                "opt_out:store",
                "cs_sdk: the state store failed; the opt-out holds in this process only",
            )
            logger.debug("storing an opt-out failed", exc_info=True)
        with self._lock:
            users = self.users | {user_id} if opted_out else self.users - {user_id}
            self._replace(users)

    def reload(self) -> bool:
        """Read the opted-out users from the store; False (logged) when it failed."""
        try:
            stored = self._store.opted_out_users()
        except Exception:
            warn_once("opt_out:read", "cs_sdk: the state store failed; opt-outs not re-read")
            logger.debug("reading opt-outs failed", exc_info=True)
            return False
        with self._lock:
            self._replace(stored)
        return True

    def _replace(self, users: frozenset[str]) -> None:
        changed = users ^ self.users
        self.users = users
        self._publish(users)
        if self._on_change is not None:
            for user_id in changed:
                self._on_change(user_id)

    def step(self, record: EventRecord) -> EventRecord | None:
        """The ``opt_out`` processor step: ``None`` (counted as ``opted_out``) drops it."""
        user_id = record.user_id
        if user_id is not None and user_id in self.users:
            return None
        return record


class StoreWatch:
    """Once per batch, on the worker: notice changes other processes made to the store.

    One read of the store's change marker (:meth:`~cs_sdk.state.StateStore.versions`); when
    the memberships moved, the tagging cache is dropped (each user's periods are read again
    on their next event), and when opt-outs moved, they are read again. The worker calls it
    before the events queued by then, so an event recorded after ``enroll()``, ``exit()`` or
    ``opt_out()`` returned in any process is tagged or dropped accordingly.
    """

    def __init__(
        self,
        store: StateStore,
        opt_outs: OptOuts,
        on_memberships: Callable[[], None],
        *,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._store = store
        self._opt_outs = opt_outs
        self._on_memberships = on_memberships
        self._monotonic = monotonic
        self._next_try = 0.0
        self._backoff = _RETRY_FIRST
        self._seen: Versions | None = None  # None: nothing read yet, read everything

    def _read(self) -> Versions | None:
        try:
            versions = self._store.versions()
        except Exception:
            warn_once(
                "store:versions",
                "cs_sdk: cannot read the state store's change marker; pilot tags and "
                "opt-outs made by other processes are seen late",
            )
            logger.debug("reading the change marker failed", exc_info=True)
            self._next_try = self._monotonic() + self._backoff
            self._backoff = min(self._backoff * 2, _RETRY_MAX)
            return None
        self._next_try, self._backoff = 0.0, _RETRY_FIRST
        return versions

    def __call__(self) -> None:
        if self._next_try and self._monotonic() < self._next_try:
            return
        versions = self._read()
        if versions is None:
            return
        seen = self._seen
        if seen is None or versions.memberships != seen.memberships:
            self._on_memberships()
        if (seen is None or versions.opt_outs != seen.opt_outs) and not self._opt_outs.reload():
            # Not marked as seen: read again at the next batch.
            versions = Versions(versions.memberships, -1)
        self._seen = versions
