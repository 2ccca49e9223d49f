"""What a feedback score means: the one statement of good, bad and the 0-100 scale.

Written once and used both in SQL (``sentiment_sql``/``normalised_sql``, so areas and teams
are scored where the data lives) and in Python (the figures read score histograms):

| kind   | range | promoter / good | detractor / bad |
|--------|-------|-----------------|-----------------|
| nps    | 0-10  | 9-10            | 0-6             |
| csat   | 1-5   | 4-5             | 1-2             |
| ces    | 1-7   | 5-7 (easy)      | 1-3             |
| rating | 1-5   | 4-5             | 1-2             |
| thumbs | 0/1   | 1               | 0               |
"""

from __future__ import annotations

from dataclasses import dataclass

from ..events._builtin import FEEDBACK_SCORES

__all__ = ["SCALES", "Scale", "normalised_sql", "sentiment_sql"]


@dataclass(frozen=True, slots=True)
class Scale:
    low: int
    high: int
    good: int  # this score and above is good (a promoter for NPS)
    bad: int  # this score and below is bad (a detractor for NPS)

    def sentiment(self, score: int) -> int:
        """1 good, -1 bad, 0 neither."""
        return 1 if score >= self.good else -1 if score <= self.bad else 0


def _scale(kind: str, good: int, bad: int) -> Scale:
    bounds = FEEDBACK_SCORES[kind]
    assert bounds is not None
    return Scale(bounds[0], bounds[1], good, bad)


SCALES: dict[str, Scale] = {
    "nps": _scale("nps", 9, 6),
    "csat": _scale("csat", 4, 2),
    "ces": _scale("ces", 5, 3),
    "rating": _scale("rating", 4, 2),
    "thumbs": _scale("thumbs", 1, 0),
}


def sentiment_sql(kind: str, score: str) -> str:
    """SQL: 1 good, -1 bad, 0 neither or no score (``text``)."""
    cases = " ".join(
        f"WHEN {kind} = '{name}' AND {score} >= {s.good} THEN 1 "
        f"WHEN {kind} = '{name}' AND {score} <= {s.bad} THEN -1"
        for name, s in SCALES.items()
    )
    return f"(CASE {cases} ELSE 0 END)"


def normalised_sql(kind: str, score: str) -> str:
    """SQL: the score on 0 (worst) to 100 (best), NULL without a score."""
    cases = " ".join(
        f"WHEN {kind} = '{name}' THEN ({score} - {s.low}) * 100.0 / {s.high - s.low}"
        for name, s in SCALES.items()
    )
    return f"(CASE {cases} ELSE NULL END)"
