"""``Pilots``: enrol participants, let them go, and know who is in which pilot.

    client.pilots.enroll("u1", "new-dashboard", cohort="wave-1", account_id="acme")
    client.pilots.of("u1")   # [Membership(pilot='new-dashboard', cohort='wave-1', ...)]
    client.pilots.exit("u1", "new-dashboard", reason="finished")

Enrolment and exit change the store and are recorded as ``cs.pilot.enrolled`` /
``cs.pilot.exited`` events. :meth:`Pilots.tags` answers "which pilots is this user in" for
every event from a small cache, so tagging costs no store round trip in the steady state.
"""

from __future__ import annotations

from collections.abc import Callable

from .._errors import InvalidEventError
from .._log import logger, warn_once
from .._prompts import PromptConfig
from .._prompts._engine import Clock, Recorder, utc_now
from ..events._builtin import PilotEnrolled, PilotExited
from ..state import Membership, MemoryStore, StateStore, TtlCache

__all__ = ["Pilots"]

Tags = tuple[tuple[str, "str | None"], ...]
_MAX_ID = 256


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
        self._tags: TtlCache[str, Tags] = TtlCache(cache_size, cache_ttl)
        self._enabled = enabled

    @classmethod
    def noop(cls) -> Pilots:
        """Memberships that are neither stored nor recorded (before ``init()``, disabled)."""
        return cls(MemoryStore(), enabled=False)

    def __repr__(self) -> str:
        return f"<cs_sdk Pilots in {self._store!r}>"

    def _invalid(self, field: str, value: object) -> None:
        error = InvalidEventError(
            field, f"must be a non-empty string of at most {_MAX_ID} characters"
        )
        if self._strict:
            raise error
        warn_once(
            f"pilots:invalid:{field}", "cs_sdk: ignored a pilot call: %s (got %r)", error, value
        )

    def _valid(self, **values: object) -> bool:
        for field, value in values.items():
            if value is None and field in ("cohort", "account_id", "reason"):
                continue
            limit = 1024 if field == "reason" else _MAX_ID
            if type(value) is not str or not value or len(value) > limit:
                self._invalid(field, value)
                return False
        return True

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
        user_id: str,
        pilot_id: str,
        cohort: str | None = None,
        account_id: str | None = None,
    ) -> Membership | None:
        """Enrol ``user_id`` in ``pilot_id`` (optionally in a cohort); records the event.

        Enrolling again is harmless: the first ``enrolled_at`` is kept, and only a change of
        cohort records a new ``cs.pilot.enrolled`` event. Returns the membership, or ``None``
        when the arguments are invalid or the store failed (both logged).

        >>> client.pilots.enroll("u1", "new-dashboard", cohort="wave-1")  # doctest: +SKIP
        Membership(pilot='new-dashboard', cohort='wave-1', enrolled_at=datetime.datetime(...))
        """
        if not self._enabled:
            return Membership(pilot_id, cohort, self._clock())
        if not self._valid(
            user_id=user_id, pilot_id=pilot_id, cohort=cohort, account_id=account_id
        ):
            return None
        self._check_known(pilot_id, cohort)
        now = self._clock()
        try:
            membership, changed = self._store.put_membership(
                user_id, Membership(pilot_id, cohort, now)
            )
        except Exception:
            warn_once("pilots:store", "cs_sdk: the state store failed; pilot change not saved")
            logger.debug("enroll failed", exc_info=True)
            return None
        self._changed(user_id)
        if changed and self._recorder is not None:
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
        if not self._valid(
            user_id=user_id, pilot_id=pilot_id, reason=reason, account_id=account_id
        ):
            return False
        now = self._clock()
        try:
            removed = self._store.remove_membership(user_id, pilot_id)
        except Exception:
            warn_once("pilots:store", "cs_sdk: the state store failed; pilot change not saved")
            logger.debug("exit failed", exc_info=True)
            return False
        if removed is None:
            return False
        self._changed(user_id)
        if self._recorder is not None:
            self._recorder.track(
                PilotExited(pilot_id=pilot_id, cohort=removed.cohort, reason=reason),
                user_id=user_id,
                account_id=account_id,
                timestamp=now,
            )
        return True

    def of(self, user_id: str) -> list[Membership]:
        """The memberships of ``user_id``, oldest first, read from the store."""
        if not self._enabled or type(user_id) is not str or not user_id:
            return []
        try:
            return list(self._store.memberships(user_id))
        except Exception:
            warn_once("pilots:store:read", "cs_sdk: the state store failed; memberships unknown")
            logger.debug("of failed", exc_info=True)
            return []

    def tags(self, user_id: str) -> Tags:
        """``((pilot, cohort), ...)`` for tagging an event of ``user_id``; cached, never raises.

        A store outage tags nothing for the cache's lifetime instead of failing each event.
        """
        found = self._tags.get(user_id)
        if found is not None:
            return found
        token = self._tags.token()
        try:
            found = tuple((m.pilot, m.cohort) for m in self._store.memberships(user_id))
        except Exception:
            warn_once("pilots:store:tags", "cs_sdk: the state store failed; events not tagged")
            logger.debug("reading memberships for tagging failed", exc_info=True)
            found = ()
        self._tags.put(user_id, found, token)
        return found

    def invalidate(self, user_id: str) -> None:
        """Forget the cached memberships of ``user_id``."""
        self._tags.invalidate(user_id)
