"""Watched milestones a user reached in this process that the store may not show yet."""

from __future__ import annotations

import threading
from dataclasses import replace

from .._fork import register_for_fork
from ..state import TtlCache
from ._rules import UserEntry

__all__ = ["RecentMilestones"]


class RecentMilestones:
    """Watched milestones recorded in this process, per user, from the caller's thread: the
    worker writes them to the store a moment later (up to schedule_delay, longer under
    load), and ``next_for()`` must not wait for it (see ``Prompts.milestone_reached()``).
    """

    def __init__(self, size: int, ttl: float) -> None:
        self._users: TtlCache[str, frozenset[str]] = TtlCache(size, ttl)
        self._lock = threading.Lock()
        register_for_fork(self)

    def _reinit_after_fork(self) -> None:
        self._lock = threading.Lock()

    def add(self, user_id: str, name: str) -> None:
        with self._lock:
            known = self._users.get(user_id) or frozenset()
            if name not in known:
                self._users.put(user_id, known | {name}, self._users.token())

    def merged_into(self, entry: UserEntry, user_id: str) -> UserEntry:
        """``entry`` (read from the store) with the milestones reached here since."""
        recent = self._users.get(user_id)
        if recent is not None and not recent <= entry.state.milestones:
            # Reached in this process, not yet in the store: counted as reached. Not cached,
            # so the entry read from the store a moment later replaces it naturally.
            state = entry.state
            entry = UserEntry(replace(state, milestones=state.milestones | recent))
        return entry
