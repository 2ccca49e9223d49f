"""The one small interface every state store implements, and the values it deals in.

A store keeps, per user: pilot memberships, the milestones prompt rules depend on, the
history of each prompt (shows, last show, answer, dismissal) and when the user was last
prompted at all. Times are seconds since the epoch (floats) inside the store, so the three
backends compare them the same way; only :class:`Membership` speaks ``datetime`` because
users read it.

Opt-outs live here too, so that every process sharing the store (a sibling worker, the
next process after a restart) honours them; :meth:`StateStore.versions` is the cheap change
marker a worker reads once per batch to notice memberships and opt-outs changed elsewhere.

The one operation that must be atomic across processes and servers is
:meth:`StateStore.try_show`: checking the throttle and recording the show happen in a
single step, so two servers never both show a prompt that may be shown once.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

__all__ = [
    "Membership",
    "PilotPeriod",
    "PromptHistory",
    "ShowRules",
    "StateStore",
    "UserState",
    "Versions",
]

_UTC = _dt.timezone.utc


@dataclass(frozen=True, slots=True)
class Membership:
    """A user's place in a pilot.

    >>> from datetime import datetime, timezone
    >>> m = Membership("new-dashboard", "wave-1", datetime(2025, 1, 6, tzinfo=timezone.utc))
    >>> m.pilot, m.cohort, m.enrolled_ts
    ('new-dashboard', 'wave-1', 1736121600.0)
    """

    pilot: str
    cohort: str | None
    enrolled_at: _dt.datetime

    @property
    def enrolled_ts(self) -> float:
        """``enrolled_at`` as seconds since the epoch."""
        return self.enrolled_at.timestamp()

    @classmethod
    def from_ts(cls, pilot: str, cohort: str | None, enrolled_ts: float) -> Membership:
        return cls(pilot, cohort, _dt.datetime.fromtimestamp(enrolled_ts, _UTC))


@dataclass(frozen=True, slots=True)
class PilotPeriod:
    """A stretch of time a user spent in a pilot; ``exited_at`` is ``None`` while it lasts.

    Events are tagged by the time they were recorded, not the time the worker gets to them,
    so tagging needs the periods, not only today's memberships:

    >>> period = PilotPeriod("new-dashboard", "wave-1", 100.0, 200.0)
    >>> period.covers(150.0), period.covers(200.0)
    (True, False)
    """

    pilot: str
    cohort: str | None
    enrolled_at: float
    exited_at: float | None = None

    def covers(self, at: float) -> bool:
        """Whether ``at`` (seconds) lies in ``[enrolled_at, exited_at)``."""
        return self.enrolled_at <= at and (self.exited_at is None or at < self.exited_at)


@dataclass(frozen=True, slots=True)
class PromptHistory:
    """What happened between one user and one prompt."""

    shows: int = 0
    last_shown_at: float | None = None
    answered_at: float | None = None
    dismissed_at: float | None = None


NO_HISTORY = PromptHistory()


@dataclass(frozen=True, slots=True)
class ShowRules:
    """The throttle :meth:`StateStore.try_show` enforces atomically. Durations in seconds.

    Attributes:
        max_shows: shows allowed for this prompt; ``None`` for no limit.
        global_wait: minimum time since the user's last prompt of any kind.
        stop_after_answer: never show the prompt again once it was answered.
        dismiss_cooldown: minimum time since the last dismissal; ``None`` for none.
    """

    max_shows: int | None = None
    global_wait: float = 0.0
    stop_after_answer: bool = False
    dismiss_cooldown: float | None = None

    def allows(self, history: PromptHistory, last_prompt_at: float | None, now: float) -> bool:
        """The check every store runs inside its atomic step (Redis repeats it in Lua)."""
        last = last_prompt_at
        if self.global_wait > 0 and last is not None and now - last < self.global_wait:
            return False
        if self.max_shows is not None and history.shows >= self.max_shows:
            return False
        if self.stop_after_answer and history.answered_at is not None:
            return False
        cooldown = self.dismiss_cooldown
        return not (
            cooldown is not None
            and history.dismissed_at is not None
            and now - history.dismissed_at < cooldown
        )


@dataclass(frozen=True, slots=True)
class UserState:
    """Everything the prompt engine needs about one user, read in one go and cached."""

    memberships: tuple[Membership, ...] = ()
    milestones: frozenset[str] = frozenset()
    history: Mapping[str, PromptHistory] = field(default_factory=dict)
    last_prompt_at: float | None = None
    opted_out: bool = False


@dataclass(frozen=True, slots=True)
class Versions:
    """The store's change marker: counters bumped by every change of their kind, anywhere.

    A worker compares them once per batch (one cheap read) and re-reads memberships or
    opt-outs only when they moved, so changes made by other processes are seen without a
    store round trip per event.
    """

    memberships: int = 0
    opt_outs: int = 0


@runtime_checkable
class StateStore(Protocol):
    """Where memberships, milestones and prompt history live.

    Implementations: :class:`~cs_sdk.state.MemoryStore`, :class:`~cs_sdk.state.SqliteStore`,
    :class:`~cs_sdk.state.RedisStore`; :func:`~cs_sdk.state.open_store` picks one from a URL.
    Every method may be called from several threads.
    """

    def put_membership(self, user_id: str, membership: Membership) -> tuple[Membership, bool]:
        """Enrol: returns the stored membership and whether anything changed.

        Re-enrolling in the same pilot keeps the first ``enrolled_at``; a different cohort
        replaces the old one.
        """
        ...

    def remove_membership(
        self, user_id: str, pilot_id: str, at: float | None = None
    ) -> Membership | None:
        """Exit at ``at`` (default: now): returns the removed membership, or ``None``.

        The finished period is kept (the latest one per pilot), so an event recorded before
        the exit but tagged after it still carries the pilot.
        """
        ...

    def memberships(self, user_id: str) -> tuple[Membership, ...]:
        """The user's memberships, oldest first."""
        ...

    def pilot_periods(self, user_id: str) -> tuple[PilotPeriod, ...]:
        """Current memberships and the latest finished period per pilot, in one read."""
        ...

    def add_milestone(self, user_id: str, name: str, at: float) -> None:
        """Remember that the user reached a milestone (the first time counts)."""
        ...

    def has_milestone(self, user_id: str, name: str) -> bool: ...

    def milestones(self, user_id: str) -> frozenset[str]: ...

    def history(self, user_id: str, prompt_id: str) -> PromptHistory: ...

    def last_prompt_at(self, user_id: str) -> float | None: ...

    def user_state(self, user_id: str) -> UserState:
        """Memberships, milestones, prompt history and last prompt time in one read."""
        ...

    def try_show(self, user_id: str, prompt_id: str, now: float, rules: ShowRules) -> bool:
        """Atomically: if ``rules`` allow a show at ``now``, record it and return True.

        Never for an opted-out user: the check is part of the same atomic step.
        """
        ...

    def set_opted_out(self, user_id: str, opted_out: bool, at: float) -> bool:
        """Opt the user out (or back in); True when that changed anything."""
        ...

    def is_opted_out(self, user_id: str) -> bool: ...

    def opted_out_users(self) -> frozenset[str]:
        """Every opted-out user (read at start-up and when :meth:`versions` moved)."""
        ...

    def versions(self) -> Versions:
        """The change marker: one cheap read."""
        ...

    def record_answered(self, user_id: str, prompt_id: str, at: float) -> None: ...

    def record_dismissed(self, user_id: str, prompt_id: str, at: float) -> None: ...

    def close(self) -> None: ...
