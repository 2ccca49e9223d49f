"""The demo's simulated participants: who they are, how they move along the path, what they
score and say. Pure functions of a seeded ``random.Random``: the same seed, the same pilot.

Wave 1 meets the slow board-pack export (most who try it time out and many give up); the
export is fixed before wave 2 enrols, and everything else stays the same, so the report's
cohort-against-cohort figures show what the fix did.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Final

from . import _comments as said

FIX_DAY: Final = 27.0  # release 2.3, with the new export, ships on this day of the pilot


@dataclass(frozen=True, slots=True)
class CohortPlan:
    """How one cohort behaves: its enrolment window and its odds on each step."""

    cohort: str
    start_day: float
    connects: float  # P(data_connected)
    first_report: float  # P(first_report_created | connected)
    export_fails: float  # P(the export times out | first report)
    export_days: float  # mean days from the first report to the board pack


PLANS: Final = (
    CohortPlan("wave-1", 0.0, 0.86, 0.82, 0.58, 3.0),
    CohortPlan("wave-2", 28.0, 0.87, 0.83, 0.08, 1.2),
)
ENROL_DAYS: Final = 7.0  # each cohort enrols over its first week
FINISH_DAYS: Final = 35.0  # participants leave the pilot this long after enrolling


@dataclass(slots=True)
class Participant:
    """One simulated user and what has happened to them so far."""

    user_id: str
    account_id: str
    plan: CohortPlan
    enrolled_day: float
    export_fails: bool
    reached: set[str] = field(default_factory=set)
    export_pain: bool = False  # met the slow export
    active: bool = True

    @property
    def succeeded(self) -> bool:
        return "board_pack_exported" in self.reached


def participants(rng: random.Random, per_cohort: int) -> list[Participant]:
    """``per_cohort`` participants per cohort, in accounts of 3 to 12 users."""
    people: list[Participant] = []
    for plan in PLANS:
        account, left = 0, 0
        for index in range(per_cohort):
            if left == 0:
                account, left = account + 1, rng.randint(3, 12)
            left -= 1
            people.append(
                Participant(
                    user_id=f"{plan.cohort[-1]}-u{index + 1:04d}",
                    account_id=f"{plan.cohort}-acct-{account:02d}",
                    plan=plan,
                    enrolled_day=plan.start_day + rng.uniform(0.3, ENROL_DAYS),
                    export_fails=rng.random() < plan.export_fails,
                )
            )
    return people


def _weighted(rng: random.Random, low: int, weights: tuple[int, ...]) -> int:
    return low + rng.choices(range(len(weights)), weights=weights)[0]


_THEME_MOODS: Final = {
    "export_pain": "pain",
    "connect_pain": "pain",
    "pricing": "neutral",
    "feature": "neutral",
    "delight": "happy",
    "export_fixed": "happy",
}


def score(rng: random.Random, kind: str, person: Participant, theme: str | None = None) -> int:
    """The score ``person`` gives a ``kind`` prompt now, with a comment of ``theme`` or
    none: pain pulls it down, success up, and what one writes goes with the score."""
    mood = _THEME_MOODS.get(theme or "") or (
        "pain" if person.export_pain and not person.succeeded
        else "happy" if person.succeeded else "neutral"
    )  # fmt: skip
    weights: tuple[int, ...]
    if kind == "nps":
        weights = {
            "pain": (2, 2, 3, 5, 6, 8, 8, 6, 4, 2, 1),
            "neutral": (0, 0, 1, 1, 2, 4, 7, 10, 12, 8, 5),
            "happy": (0, 0, 0, 0, 1, 1, 2, 6, 10, 18, 20),
        }[mood]
        return _weighted(rng, 0, weights)
    if kind == "csat":
        by_mood = {"pain": (5, 7, 5, 2, 1), "neutral": (1, 2, 6, 8, 4), "happy": (0, 1, 2, 9, 12)}
        return _weighted(rng, 1, by_mood[mood])
    if kind == "ces":  # 1 = very hard, 7 = very easy
        fixed = person.plan.export_fails < 0.5
        weights = (0, 0, 1, 2, 6, 9, 8) if fixed else (2, 4, 6, 6, 3, 2, 1)
        return _weighted(rng, 1, weights)
    return _weighted(rng, 1, (1, 2, 4, 8, 6))  # rating


def comment(rng: random.Random, kind: str, person: Participant) -> tuple[str, str] | None:
    """``(theme, text)`` of a comment with an answer, or None (about half say nothing)."""
    if rng.random() < 0.45:
        return None
    fixed = person.plan.export_fails < 0.5
    if kind == "ces" or (person.export_pain and not person.succeeded):
        theme = "export_fixed" if kind == "ces" and fixed else "export_pain"
    else:
        themes = ("delight", "connect_pain", "pricing", "feature")
        weights = (6, 1, 1, 2) if person.succeeded else (3, 3, 1, 2)
        theme = rng.choices(themes, weights=weights)[0]
    text = rng.choice(_POOLS[theme])
    if rng.random() < 0.04:  # a contact detail: the SDK redacts it before it leaves
        text += rng.choice(said.CONTACT)
    return theme, text


_POOLS: Final = {
    "export_pain": said.EXPORT_PAIN,
    "export_fixed": said.EXPORT_FIXED,
    "connect_pain": said.CONNECT_PAIN,
    "delight": said.DELIGHT,
    "pricing": said.PRICING,
    "feature": said.FEATURE,
}
AREAS: Final = {
    "export_pain": "exports",
    "export_fixed": "exports",
    "connect_pain": "data-connections",
    "delight": "reports",
    "pricing": "billing",
    "feature": "reports",
}


def answers(rng: random.Random, theme: str, day: float) -> list[tuple[float, str, str]]:
    """What a team says to a comment of ``theme`` given on ``day``: ``(delay in days, status,
    message)`` in order; empty when nobody answers (praise is read, not answered)."""
    if theme == "export_pain":
        if rng.random() > 0.85:
            return []
        if day >= FIX_DAY:
            return [(rng.uniform(0.5, 3), "planned", said.ANSWER_EXPORT_LATE)]
        planned = rng.uniform(0.3, 3)
        done = max(FIX_DAY - day, planned) + rng.uniform(0.1, 2)
        return [(planned, "planned", said.ANSWER_EXPORT_PLANNED),
                (done, "done", said.ANSWER_EXPORT_DONE)]  # fmt: skip
    if theme == "connect_pain" and rng.random() < 0.6:
        status = rng.choice(("planned", "done"))
        message = said.ANSWER_CONNECT[0 if status == "planned" else 1]
        return [(rng.uniform(1, 6), status, message)]
    if theme == "pricing" and rng.random() < 0.7:
        return [(rng.uniform(0.5, 4), "planned", said.ANSWER_PRICING)]
    if theme == "feature" and rng.random() < 0.5:
        declined = rng.random() < 0.6
        message = said.ANSWER_FEATURE_DECLINED if declined else said.ANSWER_FEATURE_PLANNED
        return [(rng.uniform(2, 10), "declined" if declined else "planned", message)]
    return []
