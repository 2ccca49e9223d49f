"""Honest numbers for small pilots: every share and score with its 95% interval and count.

- shares (success, CSAT 4-5, CES 5-7, thumbs up, response rate, conversion): the Wilson
  score interval, from scipy (``binomtest(k, n).proportion_ci(method="wilson")``);
- NPS and means (CES, rating): a bootstrap percentile interval. The SQL returns a histogram
  (answers per score), so resampling n answers is one multinomial draw per replicate: the
  same as resampling rows, without the rows. Fixed seed: the same data gives the same report.
- a change between two cohorts is marked only when their intervals do not overlap, which is
  stricter than a test of the difference: a mark is never noise, a missing mark may be.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

__all__ = ["Estimate", "bootstrap", "differs", "mean_of", "nps_of", "share", "wilson"]

BOOTSTRAP_REPLICATES = 4000
SEED = 20261203


@dataclass(frozen=True, slots=True)
class Estimate:
    """A figure with its 95% interval and how many answers or people it rests on.

    ``value`` is None when there is nothing to estimate (``n == 0``). For a share, ``k`` is
    how many of the ``n`` count and the value, low and high are fractions 0..1."""

    value: float | None
    low: float | None
    high: float | None
    n: int
    k: int | None = None


EMPTY = Estimate(None, None, None, 0)


def wilson(k: int, n: int) -> Estimate:
    """The share k/n with its Wilson 95% interval."""
    if n <= 0:
        return Estimate(None, None, None, 0, 0)
    from scipy.stats import binomtest

    k = max(0, min(k, n))
    ci = binomtest(k, n).proportion_ci(confidence_level=0.95, method="wilson")
    return Estimate(k / n, float(ci.low), float(ci.high), n, k)


def share(histogram: Mapping[int, int], good: Callable[[int], bool]) -> Estimate:
    """The share of answers whose score is ``good``, with its Wilson interval."""
    n = sum(histogram.values())
    return wilson(sum(c for s, c in histogram.items() if good(s)), n)


def bootstrap(histogram: Mapping[int, int], weights: Mapping[int, float]) -> Estimate:
    """The mean of ``weights[score]`` over the answers, with a bootstrap 95% interval."""
    import numpy as np

    scores = sorted(histogram)
    counts = np.array([histogram[s] for s in scores], dtype=np.int64)
    n = int(counts.sum())
    if n == 0:
        return EMPTY
    w = np.array([weights[s] for s in scores], dtype=np.float64)
    value = float(counts @ w / n)
    rng = np.random.default_rng(SEED)
    draws = rng.multinomial(n, counts / n, size=BOOTSTRAP_REPLICATES)
    stats = draws @ w / n
    low, high = np.percentile(stats, [2.5, 97.5])
    return Estimate(value, float(low), float(high), n)


def nps_of(histogram: Mapping[int, int]) -> Estimate:
    """NPS (-100..100): promoters (9-10) minus detractors (0-6), percent of answers."""
    weights = {s: 100.0 if s >= 9 else -100.0 if s <= 6 else 0.0 for s in histogram}
    return bootstrap(histogram, weights)


def mean_of(histogram: Mapping[int, int]) -> Estimate:
    """The mean score."""
    return bootstrap(histogram, {s: float(s) for s in histogram})


def differs(a: Estimate, b: Estimate) -> bool:
    """True when the two 95% intervals do not overlap."""
    if None in (a.low, a.high, b.low, b.high):
        return False
    assert a.low is not None and a.high is not None and b.low is not None and b.high is not None
    return a.high < b.low or b.high < a.low
