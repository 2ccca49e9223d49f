"""How figures are written for people, the same in the terminal and in the HTML page."""

from __future__ import annotations

from ._model import ALL
from ._stats import Estimate

__all__ = ["cohort_name", "days", "estimate", "number", "pct", "score"]


def cohort_name(cohort: str) -> str:
    return "all" if cohort == ALL else (cohort or "(no cohort)")


def pct(value: float | None) -> str:
    return "-" if value is None else f"{value * 100:.0f}%"


def days(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value * 24:.1f} h" if value < 1 else f"{value:.1f} d"


def number(value: float | None, digits: int = 1) -> str:
    if value is None:
        return "-"
    return f"{value:,.{digits}f}" if value != int(value) else f"{int(value):,}"


def estimate(e: Estimate, *, share: bool | None = None) -> str:
    """``42% [31-54%] n=60`` for a share, ``+12 [-3..27] n=40`` for a score."""
    is_share = e.k is not None if share is None else share
    if e.value is None or e.low is None or e.high is None:
        return f"- n={e.n}"
    if is_share:
        return f"{pct(e.value)} [{pct(e.low)}-{pct(e.high)}] {e.k}/{e.n}"
    return f"{e.value:.1f} [{e.low:.1f}..{e.high:.1f}] n={e.n}"


def score(e: Estimate, kind: str) -> str:
    """The headline figure of a kind of feedback."""
    if kind == "nps":
        if e.value is None or e.low is None or e.high is None:
            return f"- n={e.n}"
        return f"{e.value:+.0f} [{e.low:+.0f}..{e.high:+.0f}] n={e.n}"
    return estimate(e)
