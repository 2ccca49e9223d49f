"""The self-contained HTML page: a Jinja2 template, inline CSS and inline SVG charts.

Nothing is fetched: no script, no stylesheet, no font, no image; the page works from a file
and offline. Every value from the events (comments, area names, answers) is escaped by the
template engine's autoescaping; only the charts, drawn here, are inserted as markup.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from . import _format
from ._charts import funnel_chart, scores_chart, success_chart
from ._model import ALL, PilotReport, Report

__all__ = ["render_html"]

TEMPLATES = Path(__file__).with_name("templates")


def _charts(p: PilotReport) -> dict[str, Any]:
    from markupsafe import Markup

    charts: dict[str, Any] = {}
    if p.path:
        charts["funnel"] = Markup(funnel_chart(p.path, p.cohorts))
    if p.success_milestone:
        charts["success"] = Markup(success_chart(p.cohorts, p.within_days))
    scores = []
    cohorts = [c for c in p.cohorts if c.cohort != ALL] or p.cohorts[:1]
    kinds = [k.kind for k in p.overall.feedback if k.distribution]
    for kind in kinds:
        per = [
            (c.cohort, k) for c in cohorts for k in c.feedback if k.kind == kind and k.distribution
        ]
        if per:
            scores.append(Markup(scores_chart(kind, per)))
    charts["scores"] = scores
    return charts


def render_html(report: Report) -> str:
    """The report as one HTML page."""
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES)),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(
        pct=_format.pct,
        days=_format.days,
        number=_format.number,
        est=_format.estimate,
        score=_format.score,
        cohort=_format.cohort_name,
    )
    template = env.get_template("report.html.j2")
    return template.render(report=report, charts={p.id: _charts(p) for p in report.pilots}, ALL=ALL)
