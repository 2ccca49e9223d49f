"""``MemoryStore``: state in this process only, for tests, demos and single-process apps.

>>> store = MemoryStore()
>>> store.try_show("u1", "nps", 100.0, ShowRules(max_shows=1))
True
>>> store.try_show("u1", "nps", 200.0, ShowRules(max_shows=1))
False
"""

from __future__ import annotations

import threading
import time
from dataclasses import replace

from .._fork import register_for_fork
from ._base import (
    NO_HISTORY,
    Membership,
    PilotPeriod,
    PromptHistory,
    ShowRules,
    UserState,
    Versions,
)

__all__ = ["MemoryStore"]


class MemoryStore:
    """A thread-safe :class:`~cs_sdk.state.StateStore` kept in dictionaries."""

    def __init__(self) -> None:
        # One lock for everything: operations are a few dictionary steps, so contention is
        # negligible and try_show's check-and-record is trivially atomic.
        self._lock = threading.Lock()
        self._memberships: dict[str, dict[str, Membership]] = {}
        self._exits: dict[str, dict[str, PilotPeriod]] = {}
        self._milestones: dict[str, dict[str, float]] = {}
        self._history: dict[str, dict[str, PromptHistory]] = {}
        self._last_prompt: dict[str, float] = {}
        self._opted_out: dict[str, float] = {}
        self._versions = Versions()
        register_for_fork(self)

    def _reinit_after_fork(self) -> None:
        # The child keeps a copy of the data (its own from now on) and needs its own lock.
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return "MemoryStore()"

    def put_membership(self, user_id: str, membership: Membership) -> tuple[Membership, bool]:
        with self._lock:
            if user_id in self._opted_out:
                return membership, False  # nothing new is stored about an opted-out user
            pilots = self._memberships.setdefault(user_id, {})
            old = pilots.get(membership.pilot)
            if old is not None:
                if old.cohort == membership.cohort:
                    return old, False
                membership = replace(membership, enrolled_at=old.enrolled_at)
            pilots[membership.pilot] = membership
            self._bump_memberships()
            return membership, True

    def _bump_memberships(self) -> None:
        versions = self._versions
        self._versions = Versions(versions.memberships + 1, versions.opt_outs)

    def remove_membership(
        self, user_id: str, pilot_id: str, at: float | None = None
    ) -> Membership | None:
        exited_at = time.time() if at is None else at
        with self._lock:
            old = self._memberships.get(user_id, {}).pop(pilot_id, None)
            if old is not None:
                period = PilotPeriod(pilot_id, old.cohort, old.enrolled_ts, exited_at)
                self._exits.setdefault(user_id, {})[pilot_id] = period
                self._bump_memberships()
            return old

    def memberships(self, user_id: str) -> tuple[Membership, ...]:
        with self._lock:
            found = list(self._memberships.get(user_id, {}).values())
        return tuple(sorted(found, key=lambda m: (m.enrolled_at, m.pilot)))

    def pilot_periods(self, user_id: str) -> tuple[PilotPeriod, ...]:
        with self._lock:
            current = list(self._memberships.get(user_id, {}).values())
            finished = list(self._exits.get(user_id, {}).values())
        periods = [PilotPeriod(m.pilot, m.cohort, m.enrolled_ts) for m in current]
        return (*periods, *finished)

    def add_milestone(self, user_id: str, name: str, at: float) -> None:
        with self._lock:
            if user_id not in self._opted_out:
                self._milestones.setdefault(user_id, {}).setdefault(name, at)

    def has_milestone(self, user_id: str, name: str) -> bool:
        with self._lock:
            return name in self._milestones.get(user_id, {})

    def milestones(self, user_id: str) -> frozenset[str]:
        with self._lock:
            return frozenset(self._milestones.get(user_id, {}))

    def history(self, user_id: str, prompt_id: str) -> PromptHistory:
        with self._lock:
            return self._history.get(user_id, {}).get(prompt_id, NO_HISTORY)

    def last_prompt_at(self, user_id: str) -> float | None:
        with self._lock:
            return self._last_prompt.get(user_id)

    def user_state(self, user_id: str) -> UserState:
        with self._lock:
            history = dict(self._history.get(user_id, {}))
            milestones = frozenset(self._milestones.get(user_id, {}))
            last = self._last_prompt.get(user_id)
            opted_out = user_id in self._opted_out
        return UserState(self.memberships(user_id), milestones, history, last, opted_out)

    def try_show(self, user_id: str, prompt_id: str, now: float, rules: ShowRules) -> bool:
        with self._lock:
            if user_id in self._opted_out:
                return False
            prompts = self._history.setdefault(user_id, {})
            history = prompts.get(prompt_id, NO_HISTORY)
            if not rules.allows(history, self._last_prompt.get(user_id), now):
                return False
            prompts[prompt_id] = replace(history, shows=history.shows + 1, last_shown_at=now)
            self._last_prompt[user_id] = now
            return True

    def record_answered(self, user_id: str, prompt_id: str, at: float) -> None:
        with self._lock:
            if user_id in self._opted_out:
                return
            prompts = self._history.setdefault(user_id, {})
            prompts[prompt_id] = replace(prompts.get(prompt_id, NO_HISTORY), answered_at=at)

    def record_dismissed(self, user_id: str, prompt_id: str, at: float) -> None:
        with self._lock:
            if user_id in self._opted_out:
                return
            prompts = self._history.setdefault(user_id, {})
            prompts[prompt_id] = replace(prompts.get(prompt_id, NO_HISTORY), dismissed_at=at)

    def set_opted_out(self, user_id: str, opted_out: bool, at: float) -> bool:
        with self._lock:
            if (user_id in self._opted_out) == opted_out:
                return False
            if opted_out:
                self._opted_out[user_id] = at
            else:
                del self._opted_out[user_id]
            versions = self._versions
            self._versions = Versions(versions.memberships, versions.opt_outs + 1)
            return True

    def is_opted_out(self, user_id: str) -> bool:
        return user_id in self._opted_out

    def opted_out_users(self) -> frozenset[str]:
        with self._lock:
            return frozenset(self._opted_out)

    def versions(self) -> Versions:
        return self._versions

    def close(self) -> None:
        """Nothing to release; the data lives as long as the object."""
