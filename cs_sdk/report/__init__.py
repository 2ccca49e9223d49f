"""The pilot report: did the participants solve the problem, where do they stall, what did
they say, which team acts on it and did anyone answer. ``cs-sdk report`` is its command.

    from cs_sdk.report import build_report, open_sqlite, render_html

    report = build_report(open_sqlite("events.db"), config="pilots.toml")
    Path("report.html").write_text(render_html(report))
    print(render_text(report))

Sources: ``open_sqlite`` (the file ``cs-sdk collector --db`` writes) and ``open_clickhouse``
(the OpenTelemetry Collector ClickHouse exporter's ``otel_logs``, with clickhouse-connect).
The figures, charts and themes need the ``report`` extra: ``pip install 'cs-sdk[report]'``.
"""

from __future__ import annotations

from ._build import build_report, open_clickhouse, open_sqlite
from ._dialect import ClickHouseExecutor, Executor, SqliteExecutor
from ._model import (
    Answer,
    AreaFigures,
    CohortFigures,
    Comparison,
    FunnelStep,
    KindFigures,
    Note,
    OutcomeTotal,
    PilotReport,
    Report,
    TeamFigures,
    Theme,
    Voice,
)
from ._render_text import render_text
from ._stats import Estimate

__all__ = [
    "Answer",
    "AreaFigures",
    "ClickHouseExecutor",
    "CohortFigures",
    "Comparison",
    "Estimate",
    "Executor",
    "FunnelStep",
    "KindFigures",
    "Note",
    "OutcomeTotal",
    "PilotReport",
    "Report",
    "SqliteExecutor",
    "TeamFigures",
    "Theme",
    "Voice",
    "build_report",
    "open_clickhouse",
    "open_sqlite",
    "render_html",
    "render_json",
    "render_text",
]


def render_html(report: Report) -> str:
    """One self-contained HTML page (Jinja2 and matplotlib: the ``report`` extra)."""
    from ._render_html import render_html as _render

    return _render(report)


def render_json(report: Report) -> str:
    """Every figure as JSON."""
    import json

    return json.dumps(report.to_dict(), indent=2, ensure_ascii=False, allow_nan=False)
