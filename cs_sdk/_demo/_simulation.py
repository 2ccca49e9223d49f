"""The demo's pilot, played through a real client on a simulated clock.

Everything the participants and teams do is an action at a simulated time in one queue,
run in time order: the clock is set to the action's time and the action calls the SDK as an
application would (``pilots.enroll``, ``milestone``, ``prompts.next_for`` / ``shown`` /
``dismissed``, ``feedback``, ``outcome``, ``respond``, ``pilots.exit``), with ``timestamp=``
the simulated time. The client's pilots and prompt engine read the same clock (the
client's ``_clock`` seam), so enrolment periods, "10 days enrolled" and throttles are
simulated days, not the seconds the demo takes.

The client's worker writes the milestones prompt rules watch into the state store a moment
after they are recorded; in an application that moment is long gone before the user's next
page view, in a simulation it may not be. So the client is flushed at each simulated
midnight, and before a page view of a participant who reached a watched milestone since the
last flush: the prompts offered then do not depend on the worker's timing, and the same
seed plays the same pilot.
"""

from __future__ import annotations

import datetime as _dt
import heapq
import random
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import TYPE_CHECKING

from . import _comments as said
from ._document import PATH, PILOT, PROMPTS, team_for
from ._people import AREAS as THEME_AREAS
from ._people import FINISH_DAYS, FIX_DAY, Participant, answers, comment, score

if TYPE_CHECKING:
    from .._client import Client
    from .._prompts import Prompt

_DAY = _dt.timedelta(days=1)
_VISIT_ODDS = 0.55  # chance a participant opens the product on a given day
_FLUSH_TIMEOUT = 30.0
_WATCHED = frozenset(name for prompt in PROMPTS for name in prompt[4])


class SimClock:
    """The simulated "now" the client's pilots and prompts read (an aware datetime)."""

    def __init__(self, start: _dt.datetime) -> None:
        self.now = start

    def __call__(self) -> _dt.datetime:
        return self.now


@dataclass
class Tally:
    """What the simulation did, per cohort where it matters; ids the SDK returned."""

    enrolled: Counter[str] = field(default_factory=Counter)
    succeeded: Counter[str] = field(default_factory=Counter)
    shown: Counter[str] = field(default_factory=Counter)
    answered: Counter[str] = field(default_factory=Counter)
    dismissed: Counter[str] = field(default_factory=Counter)
    comments: Counter[str] = field(default_factory=Counter)
    responses: Counter[str] = field(default_factory=Counter)  # by status
    not_recorded: int = 0  # calls that returned None (the SDK dropped the event)
    flush_failures: int = 0


class Simulation:
    """Runs ``people`` through the pilot for ``days`` simulated days from ``start``."""

    def __init__(
        self,
        client: Client,
        clock: SimClock,
        rng: random.Random,
        people: list[Participant],
        *,
        start: _dt.datetime,
        days: float,
    ) -> None:
        self._client = client
        self._clock = clock
        self._rng = rng
        self._people = people
        self._start = start
        self._days = days
        self._queue: list[tuple[float, int, Callable[[], None]]] = []
        self._sequence = 0
        self._unflushed: set[str] = set()  # users with a watched milestone not yet flushed
        self.tally = Tally()

    # -- the loop -------------------------------------------------------------------------

    def at(self, day: float, action: Callable[[], None]) -> None:
        """Run ``action`` at ``day`` (simulated days since the start); later than the end
        of the simulation, it never happens."""
        if day < self._days:
            self._sequence += 1
            heapq.heappush(self._queue, (day, self._sequence, action))

    def run(self) -> Tally:
        """Play every action in time order; returns what happened."""
        for person in self._people:
            self.at(person.enrolled_day, partial(self._enrol, person))
        self.at(self._days - 0.25, self._account_outcomes)
        today = -1
        while self._queue:
            day, _, action = heapq.heappop(self._queue)
            if int(day) != today:
                self._flush()
                today = int(day)
            self._clock.now = self._start + day * _DAY
            action()
        self._flush()
        return self.tally

    def _flush(self) -> None:
        if not self._client.flush(timeout=_FLUSH_TIMEOUT):
            self.tally.flush_failures += 1
        self._unflushed.clear()

    @property
    def _day(self) -> float:
        return (self._clock.now - self._start) / _DAY

    def _recorded(self, event_id: str | None) -> str | None:
        if event_id is None:
            self.tally.not_recorded += 1
        return event_id

    # -- a participant's path -------------------------------------------------------------

    def _enrol(self, person: Participant) -> None:
        client, day = self._client, self._day
        client.pilots.enroll(
            person.user_id, PILOT, cohort=person.plan.cohort, account_id=person.account_id
        )
        self.tally.enrolled[person.plan.cohort] += 1
        self.at(day + 0.01, lambda: self._reach(person, 0))
        self.at(day + 0.5, lambda: self._visit(person))
        leaves_early = self._rng.random() < 0.04
        if leaves_early:
            self.at(day + self._rng.uniform(5, 20), lambda: self._exit(person, "no time"))
        else:
            self.at(day + FINISH_DAYS, lambda: self._exit(person, "pilot finished"))

    def _reach(self, person: Participant, step: int) -> None:
        if not person.active:
            return
        name = PATH[step]
        person.reached.add(name)
        if name in _WATCHED:
            self._unflushed.add(person.user_id)
        self._recorded(
            self._client.milestone(
                name, user_id=person.user_id, account_id=person.account_id,
                timestamp=self._clock.now,
            )
        )  # fmt: skip
        rng, day, plan = self._rng, self._day, person.plan
        if name == "signed_up":
            if rng.random() < plan.connects:
                self.at(day + 0.05 + rng.expovariate(1 / 1.5), lambda: self._reach(person, 1))
            elif rng.random() < 0.3:
                self.at(day + rng.uniform(0.5, 3), lambda: self._unprompted(person, "connect_pain"))
        elif name == "data_connected":
            if rng.random() < plan.first_report:
                self.at(day + 0.05 + rng.expovariate(1 / 2.0), lambda: self._reach(person, 2))
        elif name == "first_report_created":
            delay = 0.1 + rng.expovariate(1 / plan.export_days)
            self.at(day + delay, lambda: self._try_export(person))
        elif name == "board_pack_exported":
            self.tally.succeeded[plan.cohort] += 1
            self._recorded(
                self._client.outcome(
                    "hours_saved", value=round(rng.uniform(5.0, 8.0), 1), unit="hours",
                    user_id=person.user_id, account_id=person.account_id,
                    timestamp=self._clock.now,
                )
            )  # fmt: skip

    def _try_export(self, person: Participant) -> None:
        if not person.active:
            return
        rng, day = self._rng, self._day
        # Wave 1's exports time out until the fix ships; wave 2's few failures are edge cases.
        fails = person.export_fails and (day < FIX_DAY or person.plan.cohort != "wave-1")
        if not fails:
            self._reach(person, 3)
            return
        person.export_pain = True
        if rng.random() < 0.45:
            self.at(day + rng.uniform(0.01, 0.3), lambda: self._unprompted(person, "export_pain"))
        if rng.random() < 0.4:  # tries again (in wave 1, after 2.3 shipped, it works)
            self.at(day + rng.uniform(3, 10), lambda: self._try_export(person))

    def _exit(self, person: Participant, reason: str) -> None:
        if person.active:
            person.active = False
            self._client.pilots.exit(person.user_id, PILOT, reason=reason)

    # -- prompts, feedback and answers ----------------------------------------------------

    def _visit(self, person: Participant) -> None:
        if not person.active:
            return
        client, rng = self._client, self._rng
        user, account = person.user_id, person.account_id
        if user in self._unflushed:
            self._flush()
        prompt = client.prompts.next_for(user, account_id=account)
        if prompt is not None and client.prompts.shown(prompt.id, user, account_id=account):
            cohort = person.plan.cohort
            self.tally.shown[cohort] += 1
            choice = rng.random()
            if choice < 0.62:
                self._answer(person, prompt)
            elif choice < 0.9:
                client.prompts.dismissed(prompt.id, user, account_id=account)
                self.tally.dismissed[cohort] += 1
        next_day = int(self._day) + 1
        while rng.random() > _VISIT_ODDS:
            next_day += 1
        self.at(next_day + rng.uniform(9 / 24, 19 / 24), lambda: self._visit(person))

    def _answer(self, person: Participant, prompt: Prompt) -> None:
        rng = self._rng
        remark = comment(rng, prompt.kind, person)
        feedback_id = self._recorded(
            self._client.feedback(
                prompt.kind, score=score(rng, prompt.kind, person, remark and remark[0]),
                comment=remark[1] if remark else None, user_id=person.user_id,
                account_id=person.account_id, prompt_id=prompt.id, area=prompt.area,
                timestamp=self._clock.now,
            )
        )  # fmt: skip
        self.tally.answered[person.plan.cohort] += 1
        if remark is not None and feedback_id is not None:
            self._plan_answers(person, feedback_id, remark, prompt.area)

    def _unprompted(self, person: Participant, theme: str) -> None:
        """Feedback sent from the product's feedback button, without a prompt."""
        if not person.active:
            return
        text = self._rng.choice(_THEME_TEXTS[theme])
        area = THEME_AREAS[theme]
        feedback_id = self._recorded(
            self._client.feedback(
                "text", comment=text, user_id=person.user_id, account_id=person.account_id,
                area=area, timestamp=self._clock.now,
            )
        )  # fmt: skip
        if feedback_id is not None:
            self._plan_answers(person, feedback_id, (theme, text), area)

    def _plan_answers(
        self, person: Participant, feedback_id: str, remark: tuple[str, str], area: str | None
    ) -> None:
        theme, text = remark
        self.tally.comments[person.plan.cohort] += 1
        team = team_for(area, text)
        day = self._day
        for delay, status, message in answers(self._rng, theme, day):
            self.at(day + delay, partial(self._respond, feedback_id, team, status, message))

    def _respond(self, feedback_id: str, team: str, status: str, message: str) -> None:
        self._recorded(
            self._client.respond(
                feedback_id, message=message, team=team, status=status,  # type: ignore[arg-type]
                timestamp=self._clock.now,
            )
        )  # fmt: skip
        self.tally.responses[status] += 1

    def _account_outcomes(self) -> None:
        """At the end: accounts where most participants succeeded convert to paid."""
        accounts: dict[str, list[Participant]] = {}
        for person in self._people:
            accounts.setdefault(person.account_id, []).append(person)
        for account, members in sorted(accounts.items()):
            if sum(p.succeeded for p in members) * 2 >= len(members):
                self._recorded(
                    self._client.outcome(
                        "pilot_converted", value=480.0 * len(members), unit="USD",
                        account_id=account, timestamp=self._clock.now,
                    )
                )  # fmt: skip


_THEME_TEXTS = {"export_pain": said.EXPORT_PAIN, "connect_pain": said.CONNECT_PAIN}
