"""The report's charts as inline SVG, drawn by matplotlib (the ``report`` extra).

No pyplot: each chart is a ``matplotlib.figure.Figure`` saved to a string by the SVG
backend, so there is no global state and no display. Text stays text in the SVG
(``svg.fonttype = none``): small, selectable, drawn with the page's own fonts. The XML
prologue and DOCTYPE are cut, since the SVG goes inside the HTML page.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from matplotlib.figure import Figure

from ._format import cohort_name
from ._model import CohortFigures, KindFigures
from ._scales import SCALES

__all__ = ["funnel_chart", "scores_chart", "success_chart"]

COLOURS = ["#4c72b0", "#dd8452", "#55a868", "#8172b3", "#937860", "#da8bc3", "#8c8c8c"]
LOSS = "#c44e52"
_RC: Any = {
    "svg.fonttype": "none",
    "svg.hashsalt": "cs-sdk-report",  # stable ids: the same data gives the same page
    "font.size": 9,
    "axes.spines.top": False,
    "axes.spines.right": False,
}


def _svg(fig: Figure) -> str:
    buffer = io.StringIO()
    fig.savefig(buffer, format="svg", bbox_inches="tight", metadata={"Date": None})
    text = buffer.getvalue()
    return text[text.index("<svg") :]


def _figure(width: float, height: float) -> Figure:
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), dpi=96)


def funnel_chart(path: Sequence[str], cohorts: Sequence[CohortFigures]) -> str:
    """Participants reaching each step of the path, one bar group per step."""
    import matplotlib

    with matplotlib.rc_context(_RC):
        fig = _figure(7.5, 0.55 * len(path) * max(1, len(cohorts)) ** 0.5 + 1.2)
        ax = fig.add_subplot()
        height = 0.8 / max(1, len(cohorts))
        for i, cohort in enumerate(cohorts):
            shares = [
                (s.reached / cohort.enrolled * 100 if cohort.enrolled else 0.0)
                for s in cohort.funnel
            ]
            ys = [k + i * height for k in range(len(path))]
            colours = [
                LOSS if s.biggest_loss and i == 0 else COLOURS[i % len(COLOURS)]
                for s in cohort.funnel
            ]
            bars = ax.barh(
                ys, shares, height=height * 0.9, color=colours, label=cohort_name(cohort.cohort)
            )
            for bar, step in zip(bars, cohort.funnel, strict=True):
                ax.text(
                    bar.get_width() + 1,
                    bar.get_y() + bar.get_height() / 2,
                    f"{step.reached}",
                    va="center",
                    fontsize=8,
                )
        ax.set_yticks([k + height * (len(cohorts) - 1) / 2 for k in range(len(path))])
        ax.set_yticklabels([f"{k + 1}. {p}" for k, p in enumerate(path)])
        ax.invert_yaxis()
        ax.set_xlim(0, 110)
        ax.set_xlabel("% of participants (red: the step where most are lost)")
        ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.18), ncol=len(cohorts), frameon=False)
        return _svg(fig)


def scores_chart(kind: str, per_cohort: Sequence[tuple[str, KindFigures]]) -> str:
    """The distribution of one kind's scores, cohorts side by side (share of answers)."""
    import matplotlib

    scale = SCALES.get(kind)
    present = {s for _c, k in per_cohort for s in k.distribution}
    scores = sorted(present | (set(range(scale.low, scale.high + 1)) if scale else set()))
    with matplotlib.rc_context(_RC):
        fig = _figure(3.6, 2.2)
        ax = fig.add_subplot()
        width = 0.8 / max(1, len(per_cohort))
        for i, (cohort, figures) in enumerate(per_cohort):
            total = sum(figures.distribution.values()) or 1
            xs = [x + i * width for x in range(len(scores))]
            ys = [figures.distribution.get(s, 0) / total * 100 for s in scores]
            ax.bar(
                xs,
                ys,
                width=width * 0.9,
                color=COLOURS[i % len(COLOURS)],
                label=f"{cohort_name(cohort)} (n={total})",
            )
        ax.set_xticks([x + width * (len(per_cohort) - 1) / 2 for x in range(len(scores))])
        ax.set_xticklabels([str(s) for s in scores])
        ax.set_ylabel("% of answers")
        ax.set_title(kind.upper() if kind in ("nps", "csat", "ces") else kind.capitalize())
        ax.legend(frameon=False, fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.2), ncol=2)
        return _svg(fig)


def success_chart(cohorts: Sequence[CohortFigures], within_days: float | None) -> str:
    """Share of participants who reached success, by days since enrolment (cumulative)."""
    import matplotlib

    with matplotlib.rc_context(_RC):
        fig = _figure(6.0, 2.6)
        ax = fig.add_subplot()
        last = max([d for c in cohorts for d in c.success_by_day] + [int(within_days or 0), 1])
        for i, cohort in enumerate(cohorts):
            if not cohort.enrolled:
                continue
            xs, ys, reached = [0], [0.0], 0
            for day in range(last + 1):
                reached += cohort.success_by_day.get(day, 0)
                xs.append(day + 1)
                ys.append(reached / cohort.enrolled * 100)
            ax.step(
                xs,
                ys,
                where="post",
                color=COLOURS[i % len(COLOURS)],
                linewidth=2,
                label=cohort_name(cohort.cohort),
            )
        if within_days:
            ax.axvline(within_days, color="#555555", linestyle="--", linewidth=1)
            ax.text(within_days, 102, f" window: {within_days:g} d", fontsize=8, va="bottom")
        ax.set_ylim(0, 110)
        ax.set_xlabel("days since enrolment")
        ax.set_ylabel("% reached success")
        ax.legend(frameon=False, loc="lower right")
        return _svg(fig)
