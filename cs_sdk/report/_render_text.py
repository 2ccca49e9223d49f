"""The terminal summary: the answers first, then the figures, cohorts side by side."""

from __future__ import annotations

from ._format import cohort_name, days, estimate, number, pct, score
from ._model import CohortFigures, PilotReport, Report, Voice

__all__ = ["render_text"]


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    line = "  ".join(f"{{:<{w}}}" if i == 0 else f"{{:>{w}}}" for i, w in enumerate(widths))
    return ["  " + line.format(*header).rstrip()] + ["  " + line.format(*r).rstrip() for r in rows]


VOICE_WIDTH = 56  # a comment's characters per side in the terminal (the HTML and JSON: all)


def _voice(v: Voice | None) -> str:
    if v is None:
        return ""
    text = " ".join(v.comment.split())
    if len(text) > VOICE_WIDTH - 5:
        text = text[: VOICE_WIDTH - 6] + "…"
    return f"{v.score:>2} {text}"


def _voices(cohorts: list[CohortFigures]) -> list[str]:
    """The words next to the NPS split: per cohort, the two sides in two columns."""
    out: list[str] = []
    for c in cohorts:
        if not (c.voices_reached or c.voices_not_reached):
            continue
        out.append(f"  {cohort_name(c.cohort)}")
        out.append(f"    {'reached success':<{VOICE_WIDTH}}  did not")
        for i in range(max(len(c.voices_reached), len(c.voices_not_reached))):
            left = _voice(c.voices_reached[i] if i < len(c.voices_reached) else None)
            right = _voice(c.voices_not_reached[i] if i < len(c.voices_not_reached) else None)
            out.append(f"    {left:<{VOICE_WIDTH}}  {right}".rstrip())
    if out:
        out.insert(0, "What they said (the newest NPS comments, with their scores)")
        out.insert(0, "")
    return out


def _pilot(p: PilotReport) -> list[str]:
    out = [f"Pilot {p.id}" + (f": {p.name}" if p.name else ""), "=" * 60]
    if p.problem:
        out.append(f"Problem: {p.problem}")
    out.append(f"Did the participants solve the problem? {p.overall.verdict}")
    cohorts = p.cohorts
    names = [cohort_name(c.cohort) for c in cohorts]
    out += ["", "Participants"]
    out += _table(
        ["", *names],
        [
            ["enrolled", *[str(c.enrolled) for c in cohorts]],
            ["exited", *[str(c.exited) for c in cohorts]],
            ["active", *[str(c.active) for c in cohorts]],
        ],
    )
    if p.success_milestone:
        out += [
            "",
            f"Success: {p.success_milestone}"
            + (f" within {p.within_days:g} days" if p.within_days else ""),
        ]
        out += _table(
            ["", *names],
            [
                ["share", *[estimate(c.success) for c in cohorts]],
                ["median time", *[days(c.median_days_to_success) for c in cohorts]],
                ["NPS reached", *[score(c.nps_reached, "nps") for c in cohorts]],
                ["NPS not reached", *[score(c.nps_not_reached, "nps") for c in cohorts]],
            ],
        )
        out += _voices(cohorts)
    if p.path:
        out += ["", "Funnel (reached, conversion from the previous step, median time)"]
        rows = []
        for k, step in enumerate(p.path):
            cells = []
            for c in cohorts:
                s = c.funnel[k]
                mark = " <- most lost" if s.biggest_loss and c is p.overall else ""
                between = days(s.median_days_from_previous)
                cells.append(f"{s.reached} {pct(s.conversion.value)} {between}{mark}")
            rows.append([f"{k + 1}. {step}", *cells])
        out += _table(["", *names], rows)
    kinds = sorted({k.kind: k.headline for c in cohorts for k in c.feedback}.items())
    if kinds:
        out += ["", "Feedback (95% interval, answers; response rate = answers per prompt shown)"]
        rows = []
        for kind, headline in kinds:
            by = [{k.kind: k for k in c.feedback}.get(kind) for c in cohorts]
            rows.append([headline, *[score(k.value, kind) if k else "-" for k in by]])
            rows.append(["  response rate", *[estimate(k.response_rate) if k else "-" for k in by]])
        out += _table(["", *names], rows)
    outcomes = p.overall.outcomes
    if outcomes:
        out += ["", "Outcomes of the participants' accounts"]
        out += _table(
            ["", *names],
            [
                [
                    f"{o.name} ({o.unit or '-'})",
                    *[
                        next(
                            (
                                f"{x.count} / {number(x.total)}"
                                for x in c.outcomes
                                if (x.name, x.unit) == (o.name, o.unit)
                            ),
                            "-",
                        )
                        for c in cohorts
                    ],
                ]
                for o in outcomes
            ],
        )
    if p.overall.areas:
        out += ["", "Product areas, worst first (all participants)"]
        out += _table(
            ["area", "team", "answers", "score 0-100", "bad", "good"],
            [
                [a.area, a.team, str(a.answers), number(a.mean_score), str(a.bad), str(a.good)]
                for a in p.overall.areas
            ],
        )
    for title, themes in (("Pain points", p.pain_points), ("Success points", p.success_points)):
        if themes:
            out += ["", title]
            for t in themes:
                out.append(
                    f"  - {t.label} ({t.count} comments, score {number(t.mean_score)}, "
                    f"team {t.team}): {', '.join(t.phrases)}"
                )
                out += [f'      "{e}"' for e in t.examples]
    if p.teams:
        out += ["", "Teams"]
        out += _table(
            ["team", "feedback", "bad", "answered", "median to answer", "pain points"],
            [
                [
                    t.name,
                    str(t.feedback),
                    str(t.bad),
                    estimate(t.answered),
                    days(t.median_days_to_answer),
                    "; ".join(t.pain_points) or "-",
                ]
                for t in p.teams
            ],
        )
    if p.comparisons:
        out += ["", "Cohort against cohort (* = the 95% intervals do not overlap)"]
        for x in p.comparisons:
            share = x.a.k is not None
            change = (
                "-"
                if x.change is None
                else (f"{x.change * 100:+.0f} pts" if share else f"{x.change:+.1f}")
            )
            out.append(
                f"  {'*' if x.significant else ' '} {x.figure}: {x.before} "
                f"{estimate(x.a)} -> {x.after} {estimate(x.b)} ({change})"
            )
    if p.notes:
        out += ["", "Not computed / to add"]
        out += [f"  - {n.topic}: {n.message}" for n in p.notes]
    return out


def render_text(report: Report) -> str:
    """The readable terminal summary."""
    out = [
        f"cs_sdk pilot report: {report.events:,} events"
        + (f" from {report.first_event} to {report.last_event}" if report.first_event else "")
        + (f" ({report.source})" if report.source else "")
    ]
    out += [f"  note: {n.message}" for n in report.notes]
    for pilot in report.pilots:
        out += ["", *_pilot(pilot)]
    return "\n".join(out) + "\n"
