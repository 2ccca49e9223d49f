"""``Pilots``: enrol participants, let them go, and know who is in which pilot.

    client.pilots.enroll("u1", "new-dashboard", cohort="wave-1", account_id="acme")
    client.pilots.of("u1")   # [Membership(pilot='new-dashboard', cohort='wave-1', ...)]
    client.pilots.exit("u1", "new-dashboard", reason="finished")

Enrolment and exit change the store and are recorded as ``cs.pilot.enrolled`` /
``cs.pilot.exited`` events. :meth:`Pilots.tags` answers "which pilots was this user in when
the event was recorded" for every event from a small cache, so tagging costs no store round
trip in the steady state. It goes by the event's own time because the worker tags events a
moment (up to ``schedule_delay``, longer under load) after they were recorded: an event
recorded just before an enrolment stays untagged, and one recorded just before an exit keeps
its tag, because the store keeps the finished period.

Like the recording calls, no method raises into the application: an invalid id is logged
once and the call does nothing (``strict=True`` raises :class:`~cs_sdk.InvalidEventError`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from .._log import logger, warn_once
from .._prompts._args import as_id, scoped_ids, valid_ids
from .._prompts._seams import Clock, Recorder, utc_now
from ..state import Membership, MemoryStore, PilotPeriod, StateStore, TtlCache

if TYPE_CHECKING:
    from .._prompts import PromptConfig

__all__ = ["Pilots"]

Tags = tuple[tuple[str, "str | None"], ...]
_OPTIONAL = ("cohort", "account_id", "reason")
_LIMITS = {"reason": 1024}


def _micros(seconds: float) -> int:
    # Enrolment times and event times both come from datetimes (microseconds) through
    # floats: comparing rounded microseconds makes an event stamped with the enrolment's
    # own time (the cs.pilot.enrolled event) fall inside the period, not a float ulp before.
    return round(seconds * 1_000_000)


def _micros_or_none(seconds: float | None) -> int | None:
    return None if seconds is None else _micros(seconds)


class _TagEntry:
    """One user's pilot periods, cached; :meth:`at` answers for an event time."""

    __slots__ = ("current", "periods", "since")

    def __init__(self, periods: tuple[PilotPeriod, ...]) -> None:
        ordered = sorted(periods, key=lambda p: (p.enrolled_at, p.pilot))
        # (pilot, cohort, start, end or None) in microseconds.
        self.periods = tuple(
            (p.pilot, p.cohort, _micros(p.enrolled_at), _micros_or_none(p.exited_at))
            for p in ordered
        )
        self.current: Tags = tuple((p, c) for p, c, _, end in self.periods if end is None)
        # The common case answered without a loop: no finished period, and the event comes
        # after the last enrolment.
        finished = any(end is not None for _, _, _, end in self.periods)
        self.since = max((s for _, _, s, _ in self.periods), default=0) if not finished else None

    def at(self, micros: int | None) -> Tags:
        since = self.since
        if micros is None or (since is not None and micros >= since):
            return self.current
        return tuple(
            (pilot, cohort)
            for pilot, cohort, start, end in self.periods
            if start <= micros and (end is None or micros < end)
        )


class Pilots:
    """Pilot memberships of one client (``client.pilots``; ``cs_sdk.pilots`` globally).

    Args:
        store: where memberships live.
        recorder: records the enrolment/exit events (the client).
        clock: returns the current aware ``datetime``; inject one in tests.
        strict: raise :class:`~cs_sdk.InvalidEventError` on invalid arguments.
        on_change: called with a user id after this process enrolled or exited them.
        config: returns the configuration in force, to warn about unknown pilots/cohorts.
        cache_ttl: seconds a user's memberships are reused for tagging.
        cache_size: users kept in the tagging cache.
    """

    def __init__(
        self,
        store: StateStore,
        *,
        recorder: Recorder | None = None,
        clock: Clock | None = None,
        strict: bool = False,
        on_change: Callable[[str], None] | None = None,
        config: Callable[[], PromptConfig | None] | None = None,
        cache_ttl: float = 10.0,
        cache_size: int = 10_000,
        enabled: bool = True,
    ) -> None:
        self._store = store
        self._recorder = recorder
        self._clock: Clock = clock or utc_now
        self._strict = strict
        self._on_change = on_change
        self._config = config
        self._tags: TtlCache[str, _TagEntry] = TtlCache(cache_size, cache_ttl)
        self._enabled = enabled

    @classmethod
    def noop(cls) -> Pilots:
        """Memberships that are neither stored nor recorded (before ``init()``, disabled)."""
        return cls(MemoryStore(), enabled=False)

    def __repr__(self) -> str:
        return f"<cs_sdk Pilots in {self._store!r}>"

    def _valid(self, call: str, **values: object) -> bool:
        return valid_ids(call, self._strict, optional=_OPTIONAL, limits=_LIMITS, **values)

    def _changed(self, user_id: str) -> None:
        self._tags.invalidate(user_id)
        if self._on_change is not None:
            self._on_change(user_id)

    def _check_known(self, pilot_id: str, cohort: str | None) -> None:
        config = self._config() if self._config is not None else None
        if config is None:
            return
        pilot = next((p for p in config.pilots if p.id == pilot_id), None)
        if pilot is None:
            warn_once(
                f"pilots:unknown:{pilot_id}",
                "cs_sdk: enrolled a user in pilot %r, which the configuration does not define",
                pilot_id,
            )
        elif cohort is not None and pilot.cohorts and cohort not in pilot.cohorts:
            warn_once(
                f"pilots:unknown:{pilot_id}:{cohort}",
                "cs_sdk: cohort %r is not one of pilot %r's cohorts (%s)",
                cohort,
                pilot_id,
                ", ".join(pilot.cohorts),
            )

    def enroll(
        self,
        user_id: str | None = None,
        pilot_id: str | None = None,
        cohort: str | None = None,
        account_id: str | None = None,
    ) -> Membership | None:
        """Enrol ``user_id`` in ``pilot_id`` (optionally in a cohort); records the event.

        Enrolling again is harmless: the first ``enrolled_at`` is kept, and only a change of
        cohort records a new ``cs.pilot.enrolled`` event. Returns the membership, or ``None``
        when it did nothing: the arguments are invalid, the user opted out or the store
        failed (logged), the client is disabled, or ``init()`` was not called (logged).

        >>> client.pilots.enroll("u1", "new-dashboard", cohort="wave-1")  # doctest: +SKIP
        Membership(pilot='new-dashboard', cohort='wave-1', enrolled_at=datetime.datetime(...))
        """
        if not self._enabled:
            return None  # disabled: nothing was stored or recorded, so no membership
        # Without user_id (enroll(pilot_id="...")) the identify() scope's user and account.
        user_id, account_id = scoped_ids(user_id, account_id)
        if not self._valid(
            "pilots.enroll", user_id=user_id, pilot_id=pilot_id, cohort=cohort,
            account_id=account_id,
        ) or pilot_id is None:  # fmt: skip
            return None  # (pilot_id None is refused above; the test narrows its type)
        try:
            if self._store.is_opted_out(user_id):
                # Nothing new is stored about an opted-out user (the store refuses it too).
                warn_once("pilots:opted_out", "cs_sdk: enroll() ignored: the user opted out")
                return None
            self._check_known(pilot_id, cohort)
            now = self._clock()
            membership, changed = self._store.put_membership(
                user_id, Membership(pilot_id, cohort, now)
            )
        except Exception:
            warn_once("pilots:store", "cs_sdk: the state store failed; pilot change not saved")
            logger.debug("enroll failed", exc_info=True)
            return None
        self._changed(user_id)
        if changed and self._recorder is not None:
            # Here, not at the top: the models need pydantic, which `import cs_sdk` avoids.
            from ..events._builtin import PilotEnrolled

            self._recorder.track(
                PilotEnrolled(pilot_id=pilot_id, cohort=cohort),
                user_id=user_id,
                account_id=account_id,
                timestamp=now,
            )
        return membership

    def exit(
        self,
        user_id: str,
        pilot_id: str,
        reason: str | None = None,
        *,
        account_id: str | None = None,
    ) -> bool:
        """Take ``user_id`` out of ``pilot_id``; records ``cs.pilot.exited``.

        Returns True when the user was enrolled, False when not (or on failure, logged).
        """
        if not self._enabled:
            return False
        user_id, account_id = as_id(user_id), as_id(account_id)
        if not self._valid(
            "pilots.exit", user_id=user_id, pilot_id=pilot_id, reason=reason,
            account_id=account_id,
        ):  # fmt: skip
            return False
        try:
            now = self._clock()
            removed = self._store.remove_membership(user_id, pilot_id, now.timestamp())
        except Exception:
            warn_once("pilots:store", "cs_sdk: the state store failed; pilot change not saved")
            logger.debug("exit failed", exc_info=True)
            return False
        if removed is None:
            return False
        self._changed(user_id)
        if self._recorder is not None:
            from ..events._builtin import PilotExited  # pydantic, on first use

            self._recorder.track(
                PilotExited(pilot_id=pilot_id, cohort=removed.cohort, reason=reason),
                user_id=user_id,
                account_id=account_id,
                timestamp=now,
            )
        return True

    def of(self, user_id: str) -> list[Membership]:
        """The memberships of ``user_id``, oldest first, read from the store."""
        user_id = as_id(user_id)
        if not self._enabled or not self._valid("pilots.of", user_id=user_id):
            return []
        try:
            return list(self._store.memberships(user_id))
        except Exception:
            warn_once("pilots:store:read", "cs_sdk: the state store failed; memberships unknown")
            logger.debug("of failed", exc_info=True)
            return []

    def tags(self, user_id: str, at: float | None = None) -> Tags:
        """``((pilot, cohort), ...)`` for an event of ``user_id`` recorded at ``at``.

        ``at`` is in seconds since the epoch; ``None`` means now (the current memberships).
        Cached; never raises: a store outage tags nothing for the cache's lifetime instead
        of failing each event.
        """
        return self._entry(user_id).at(None if at is None else _micros(at))

    def tags_at_ns(self, user_id: str, time_unix_nano: int) -> Tags:
        """:meth:`tags` for an event's ``time_unix_nano`` (the tagging step's hot path)."""
        return self._entry(user_id).at((time_unix_nano + 500) // 1000)

    def _entry(self, user_id: str) -> _TagEntry:
        found = self._tags.get(user_id)
        if found is not None:
            return found
        token = self._tags.token()
        try:
            found = _TagEntry(self._store.pilot_periods(user_id))
        except Exception:
            warn_once("pilots:store:tags", "cs_sdk: the state store failed; events not tagged")
            logger.debug("reading memberships for tagging failed", exc_info=True)
            found = _TagEntry(())
        self._tags.put(user_id, found, token)
        return found

    def invalidate(self, user_id: str) -> None:
        """Forget the cached memberships of ``user_id``."""
        self._tags.invalidate(user_id)

    def forget_cached(self) -> None:
        """Forget every cached membership: the store's change marker moved (another process
        enrolled or let someone go); each user's periods are read again on their next event."""
        self._tags.clear()
