"""The report as data: what ``build_report`` returns and every renderer reads.

Plain frozen dataclasses; ``Report.to_dict()`` is the ``--format json`` document. Durations
are days (floats), shares fractions 0..1, scores on their own scale (NPS -100..100).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from ._stats import Estimate

__all__ = [
    "Answer",
    "AreaFigures",
    "CohortFigures",
    "Comparison",
    "FunnelStep",
    "KindFigures",
    "Note",
    "OutcomeTotal",
    "PilotReport",
    "Report",
    "TeamFigures",
    "Theme",
    "Voice",
]

NS_PER_DAY = 86_400 * 10**9


def ns_days(ns: float | None) -> float | None:
    """Nanoseconds from a query as days (the model's unit of duration)."""
    return None if ns is None else float(ns) / NS_PER_DAY


ALL = "*"  # the cohort key of "every participant"
UNROUTED = "(no team)"  # feedback no team claims, without a default team


@dataclass(frozen=True, slots=True)
class Note:
    """What could not be computed, and what to add (``field``) so that it can be."""

    topic: str
    message: str
    field: str | None = None


@dataclass(frozen=True, slots=True)
class FunnelStep:
    milestone: str
    reached: int
    conversion: Estimate  # of those at the previous step (the first: of the participants)
    median_days_from_previous: float | None
    biggest_loss: bool = False


@dataclass(frozen=True, slots=True)
class OutcomeTotal:
    name: str
    unit: str
    count: int
    total: float


@dataclass(frozen=True, slots=True)
class KindFigures:
    """One kind of feedback: its headline figure, answers and response rate."""

    kind: str
    headline: str  # "NPS", "CSAT (share of 4-5)", ...
    value: Estimate
    mean: Estimate
    answers: int
    shown: int
    response_rate: Estimate
    distribution: dict[int, int]


@dataclass(frozen=True, slots=True)
class AreaFigures:
    area: str
    team: str
    answers: int
    mean_score: float | None  # 0 (worst) .. 100 (best)
    bad: int
    good: int

    @property
    def pain(self) -> bool:
        return self.bad > self.good


@dataclass(frozen=True, slots=True)
class Voice:
    """One NPS answer's score and comment, shown next to the NPS of its side of success."""

    score: int
    comment: str


@dataclass(frozen=True, slots=True)
class CohortFigures:
    cohort: str  # "*" for every participant
    enrolled: int
    exited: int
    active: int
    success: Estimate
    reached_at_all: int
    median_days_to_success: float | None
    verdict: str
    funnel: list[FunnelStep] = field(default_factory=list)
    outcomes: list[OutcomeTotal] = field(default_factory=list)
    feedback: list[KindFigures] = field(default_factory=list)
    nps_reached: Estimate = field(default_factory=lambda: Estimate(None, None, None, 0))
    nps_not_reached: Estimate = field(default_factory=lambda: Estimate(None, None, None, 0))
    # The words behind those two numbers: the newest NPS comments of each side.
    voices_reached: list[Voice] = field(default_factory=list)
    voices_not_reached: list[Voice] = field(default_factory=list)
    areas: list[AreaFigures] = field(default_factory=list)  # worst first
    success_by_day: dict[int, int] = field(default_factory=dict)  # whole days -> people


@dataclass(frozen=True, slots=True)
class Theme:
    label: str
    phrases: list[str]
    count: int
    mean_score: float | None
    bad: int
    good: int
    examples: list[str]
    team: str

    @property
    def kind(self) -> str:
        return "pain" if self.bad > self.good else "success" if self.good > self.bad else "mixed"


@dataclass(frozen=True, slots=True)
class Answer:
    team: str
    status: str
    message: str
    days_after: float | None
    comment: str | None


@dataclass(frozen=True, slots=True)
class TeamFigures:
    name: str
    areas: list[str]
    pain_points: list[str]
    feedback: int
    bad: int
    answered: Estimate  # share of the feedback routed here that has an answer
    median_days_to_answer: float | None
    statuses: dict[str, int]
    answers: list[Answer]


@dataclass(frozen=True, slots=True)
class Comparison:
    figure: str
    before: str  # cohort
    after: str
    a: Estimate
    b: Estimate
    change: float | None
    significant: bool


@dataclass(frozen=True, slots=True)
class PilotReport:
    id: str
    name: str | None
    problem: str | None
    path: list[str]
    success_milestone: str | None
    within_days: float | None
    cohorts: list[CohortFigures]  # "*" first, then each cohort
    themes: list[Theme]
    teams: list[TeamFigures]
    comparisons: list[Comparison]
    notes: list[Note]

    @property
    def overall(self) -> CohortFigures:
        return self.cohorts[0]

    @property
    def pain_points(self) -> list[Theme]:
        return [t for t in self.themes if t.kind == "pain"]

    @property
    def success_points(self) -> list[Theme]:
        return [t for t in self.themes if t.kind == "success"]


@dataclass(frozen=True, slots=True)
class Report:
    generated_at: str
    source: str
    events: int
    first_event: str | None
    last_event: str | None
    pilots: list[PilotReport]
    notes: list[Note]

    def to_dict(self) -> dict[str, Any]:
        """Every figure as JSON-ready values (``--format json``)."""
        data = dataclasses.asdict(self)
        for pilot, raw in zip(self.pilots, data["pilots"], strict=True):
            raw["pain_points"] = [t.label for t in pilot.pain_points]
            raw["success_points"] = [t.label for t in pilot.success_points]
            for theme, traw in zip(pilot.themes, raw["themes"], strict=True):
                traw["kind"] = theme.kind
            for cohort, craw in zip(pilot.cohorts, raw["cohorts"], strict=True):
                for area, araw in zip(cohort.areas, craw["areas"], strict=True):
                    araw["pain"] = area.pain
                craw["success_by_day"] = {str(d): n for d, n in cohort.success_by_day.items()}
                for kind, kraw in zip(cohort.feedback, craw["feedback"], strict=True):
                    kraw["distribution"] = {str(s): c for s, c in kind.distribution.items()}
        return data
