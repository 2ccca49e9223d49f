"""From query rows to figures: one :class:`PilotReport` per pilot, cohorts side by side.

Only small aggregates reach this module (one row per cohort, score or step); the loops here
run over those, never over events.
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import itertools
from collections import defaultdict
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from .._prompts._config import PilotSpec, PromptConfig
from ._model import (
    ALL,
    UNROUTED,
    Answer,
    AreaFigures,
    CohortFigures,
    Comparison,
    FunnelStep,
    KindFigures,
    Note,
    OutcomeTotal,
    PilotReport,
    TeamFigures,
    Theme,
)
from ._queries import PilotQuery, Queries, Routing
from ._scales import SCALES
from ._stats import EMPTY, Estimate, differs, mean_of, nps_of, share, wilson
from ._themes import find_themes

__all__ = ["UNROUTED", "area_team", "build_pilot", "pilot_query"]

NS_PER_DAY = 86_400 * 10**9


Hist = dict[int, int]


def _days(ns: float | None) -> float | None:
    return None if ns is None else float(ns) / NS_PER_DAY


def _instant(date: _dt.date, days: int = 0) -> int:
    moment = _dt.datetime.combine(date, _dt.time(), tzinfo=_dt.timezone.utc)
    return int((moment + _dt.timedelta(days=days)).timestamp()) * 10**9


def routing_of(config: PromptConfig | None) -> Routing:
    if config is None:
        return Routing()
    return Routing(
        patterns=tuple((t.name, t.match) for t in config.teams if t.match),
        areas=tuple((t.name, tuple(t.areas)) for t in config.teams),
        default_team=config.routing.default_team or "",
    )


def area_team(config: PromptConfig | None, area: str) -> str:
    """The team owning ``area``: the team listing it, else the default team."""
    if config is not None:
        for team in config.teams:
            if area in team.areas:
                return team.name
        if config.routing.default_team:
            return config.routing.default_team
    return UNROUTED


def pilot_query(pilot_id: str, spec: PilotSpec | None, config: PromptConfig | None) -> PilotQuery:
    period = None
    if spec is not None and (spec.start or spec.end):
        start = _instant(spec.start) if spec.start else 0
        end = _instant(spec.end, days=1) if spec.end else 2**62
        period = (start, end)
    within = spec.success.within_days if spec and spec.success else None
    return PilotQuery(
        pilot=pilot_id,
        path=tuple(spec.path) if spec else (),
        success=spec.success_milestone if spec else None,
        window_ns=int(within * NS_PER_DAY) if within else None,
        period_ns=period,
        routing=routing_of(config),
    )


def _notes(pilot_id: str, spec: PilotSpec | None, config: PromptConfig | None) -> list[Note]:
    where = f'[[pilots]] id = "{pilot_id}"'
    notes: list[Note] = []
    if spec is None:
        notes.append(
            Note(
                "configuration",
                f"pilot {pilot_id!r} is not in the configuration: no success metric, funnel or "
                f"cohort order; add {where} with path and success",
                "pilots",
            )
        )
        return notes + _routing_notes(config)
    if spec.success is None and not spec.path:
        notes.append(
            Note(
                "success",
                "no success metric: add success = { milestone = ..., within_days = ... } "
                f"to {where}",
                "success",
            )
        )
    elif spec.success is None:
        notes.append(
            Note(
                "success",
                f"success is the last path step {spec.path[-1]!r} with no time window: add "
                f"success = {{ milestone = {spec.path[-1]!r}, within_days = ... }} to {where}",
                "success.within_days",
            )
        )
    if not spec.path:
        notes.append(Note("funnel", f"no funnel: add path = [...milestones...] to {where}", "path"))
    if spec.problem is None:
        notes.append(
            Note(
                "problem",
                f'the problem the product solves is not stated: add problem = "..." to {where}',
                "problem",
            )
        )
    return notes + _routing_notes(config)


def _routing_notes(config: PromptConfig | None) -> list[Note]:
    if config is None or not config.teams:
        return [
            Note(
                "routing",
                "no teams: add [[teams]] with name and areas (or match) to route feedback",
                "teams",
            )
        ]
    if not config.routing.default_team:
        return [
            Note(
                "routing",
                f"feedback no team claims is listed under {UNROUTED!r}: add "
                '[routing] default_team = "..."',
                "routing.default_team",
            )
        ]
    return []


def _by_cohort(rows: Iterable[tuple[object, ...]]) -> dict[str, tuple[object, ...]]:
    return {str(row[0]): tuple(row[1:]) for row in rows}


def _ordered(present: Iterable[str], spec: PilotSpec | None) -> list[str]:
    present = set(present)
    declared = [c for c in (spec.cohorts if spec else []) if c in present]
    return [ALL, *declared, *sorted(present - set(declared))]


def _verdict(success: Estimate, milestone: str | None, within: float | None) -> str:
    if milestone is None:
        return "Cannot say: the pilot has no success metric (add success or path)."
    if success.n == 0 or success.value is None or success.low is None or success.high is None:
        return "Cannot say: no participants."
    window = f" within {within:g} days of enrolment" if within else " after enrolment"
    figure = (
        f"{success.value:.0%} ({success.k} of {success.n}; 95% interval "
        f"{success.low:.0%}-{success.high:.0%}) reached {milestone}{window}"
    )
    if success.low > 0.5:
        return f"Yes, most participants solved it: {figure}."
    if success.high < 0.5:
        return f"No, most participants have not solved it: {figure}."
    return f"Too close to call: {figure}."


_HEADLINES = {
    "nps": "NPS",
    "csat": "CSAT (share of 4-5)",
    "ces": "CES (share of 5-7)",
    "rating": "Rating (mean)",
    "thumbs": "Thumbs up (share)",
    "text": "Comments",
}


def _kind_figures(kind: str, hist: Hist, prompted: int, shown: int) -> KindFigures:
    answers = sum(hist.values())
    scored = {s: c for s, c in hist.items() if s is not None}
    scale = SCALES.get(kind)
    if kind == "nps":
        value = nps_of(scored)
    elif kind in ("rating",):
        value = mean_of(scored)
    elif scale is not None:
        good = scale.good
        value = share(scored, lambda s: s >= good)
    else:
        value = EMPTY
    mean = mean_of(scored) if scored else EMPTY
    # Answers per show; a rate needs shows (feedback given without a prompt has none).
    rate = wilson(min(prompted, shown), shown) if shown else EMPTY
    return KindFigures(
        kind,
        _HEADLINES.get(kind, kind),
        value,
        mean,
        answers,
        shown,
        rate,
        dict(sorted(scored.items())),
    )


def _funnel(
    path: tuple[str, ...], counts: tuple[object, ...] | None, medians: dict[str, float]
) -> list[FunnelStep]:
    if not path:
        return []
    participants = int(counts[0]) if counts else 0  # type: ignore[call-overload]
    reached = [int(c or 0) for c in counts[1:]] if counts else [0] * len(path)  # type: ignore[call-overload]
    steps: list[FunnelStep] = []
    previous = participants
    losses = []
    for k, milestone in enumerate(path):
        steps.append(
            FunnelStep(
                milestone,
                reached[k],
                wilson(reached[k], previous),
                medians.get(str(k)) if k else None,
            )
        )
        losses.append(previous - reached[k])
        previous = reached[k]
    if any(losses):
        worst = max(range(len(losses)), key=lambda i: losses[i])
        steps[worst] = dataclasses.replace(steps[worst], biggest_loss=True)
    return steps


def _run_all(queries: Queries, q: PilotQuery, themes: bool) -> dict[str, Any]:
    """Every query of one pilot, on as many threads as the store takes (the slowest first)."""
    calls: dict[str, Callable[[PilotQuery], Any]] = {
        "teams": queries.teams,
        "participants": queries.participants,
        "nps_by_success": queries.nps_by_success,
        "outcomes": queries.outcomes,
        "areas": queries.areas,
        "scores": queries.scores,
        "shown": queries.shown,
        "answers": queries.answers,
    }
    if q.path:
        calls["funnel"] = queries.funnel
    if q.success:
        calls["success"] = queries.success
        calls["success_days"] = queries.success_days
    if themes:
        calls["comments"] = queries.comments
    if queries.workers <= 1:
        return {name: call(q) for name, call in calls.items()}
    with ThreadPoolExecutor(queries.workers, thread_name_prefix="cs-sdk-report") as pool:
        futures = {name: pool.submit(call, q) for name, call in calls.items()}
        return {name: future.result() for name, future in futures.items()}


def build_pilot(
    queries: Queries,
    pilot_id: str,
    spec: PilotSpec | None,
    config: PromptConfig | None,
    *,
    themes: bool = True,
) -> PilotReport:
    """Every figure of one pilot, per cohort and for all participants."""
    q = pilot_query(pilot_id, spec, config)
    notes = _notes(pilot_id, spec, config)
    within = spec.success.within_days if spec and spec.success else None

    results = _run_all(queries, q, themes)
    people = _by_cohort(results["participants"])
    cohorts = _ordered(people, spec)
    if not people:
        notes.append(
            Note(
                "participants",
                f"no one is enrolled in {pilot_id!r} (no cs.pilot.enrolled event for it)",
            )
        )

    def total(table: dict[str, tuple[object, ...]], i: int) -> int:
        return sum(int(v[i] or 0) for v in table.values())  # type: ignore[call-overload]

    people[ALL] = tuple(total(people, i) for i in range(3))

    success_counts: dict[str, tuple[object, ...]] = {}
    success_medians: dict[str, float] = {}
    by_day: dict[str, dict[int, int]] = defaultdict(dict)
    if q.success:
        for cohort, day, count in results["success_days"]:
            for key in (str(cohort), ALL):
                by_day[key][int(day)] = by_day[key].get(int(day), 0) + int(count)
        counts, medians = results["success"]
        success_counts = _by_cohort(counts)
        success_counts[ALL] = (total(success_counts, 0), total(success_counts, 1))
        success_medians = {str(g): float(m) for g, m, _n in medians}

    funnel_counts: dict[str, tuple[object, ...]] = {}
    funnel_medians: dict[str, dict[str, float]] = defaultdict(dict)
    if q.path:
        counts, medians = results["funnel"]
        funnel_counts = _by_cohort(counts)
        width = len(q.path) + 1
        funnel_counts[ALL] = tuple(total(funnel_counts, i) for i in range(width))
        for g, step, median, _n in medians:
            funnel_medians[str(g)][str(step)] = float(median) / NS_PER_DAY

    outcomes: dict[str, dict[tuple[str, str], list[float]]] = defaultdict(dict)
    for cohort, name, unit, count, amount in results["outcomes"]:
        for key in (str(cohort), ALL):
            slot = outcomes[key].setdefault((str(name), str(unit)), [0, 0.0])
            slot[0] += int(count)
            slot[1] += float(amount or 0.0)

    hist: dict[str, dict[str, Hist]] = defaultdict(lambda: defaultdict(dict))
    prompted: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for cohort, kind, score, count, with_prompt in results["scores"]:
        for key in (str(cohort), ALL):
            h = hist[key][str(kind)]
            h[score] = h.get(score, 0) + int(count)
            prompted[key][str(kind)] += int(with_prompt or 0)
    shown: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for cohort, kind, count in results["shown"]:
        for key in (str(cohort), ALL):
            shown[key][str(kind)] += int(count)
    if not any(hist.values()):
        notes.append(Note("feedback", "no feedback from participants yet"))

    nps_split: dict[str, dict[int, Hist]] = defaultdict(lambda: {0: {}, 1: {}})
    if q.success:
        for cohort, reached, score, count in results["nps_by_success"]:
            for key in (str(cohort), ALL):
                h = nps_split[key][int(reached)]
                h[int(score)] = h.get(int(score), 0) + int(count)

    areas: dict[str, dict[str, list[float]]] = defaultdict(dict)
    for cohort, area, answers, score_sum, scored, bad, good in results["areas"]:
        for key in (str(cohort), ALL):
            slot = areas[key].setdefault(str(area), [0, 0.0, 0, 0, 0])
            for i, v in enumerate((answers, score_sum, scored, bad, good)):
                slot[i] += float(v or 0)

    figures: list[CohortFigures] = []
    for cohort in cohorts:
        enrolled, exited, active = (int(v or 0) for v in people.get(cohort, (0, 0, 0)))  # type: ignore[call-overload]
        within_n, ever_n = (int(v or 0) for v in success_counts.get(cohort, (0, 0)))  # type: ignore[call-overload]
        success = wilson(within_n, enrolled) if q.success else EMPTY
        kinds = sorted(
            set(hist[cohort]) | {k for k in shown[cohort] if k},
            key=lambda k: list(_HEADLINES).index(k) if k in _HEADLINES else 99,
        )
        area_rows = [
            AreaFigures(
                area or "(none)",
                area_team(config, area),
                int(v[0]),
                v[1] / v[2] if v[2] else None,
                int(v[3]),
                int(v[4]),
            )
            for area, v in areas[cohort].items()
        ]
        area_rows.sort(key=lambda a: (a.mean_score is None, a.mean_score or 0.0, -a.bad))
        figures.append(
            CohortFigures(
                cohort=cohort,
                enrolled=enrolled,
                exited=exited,
                active=active,
                success=success,
                reached_at_all=ever_n,
                median_days_to_success=_days(success_medians.get(cohort)),
                verdict=_verdict(success, q.success, within),
                funnel=_funnel(q.path, funnel_counts.get(cohort), funnel_medians.get(cohort, {})),
                outcomes=[
                    OutcomeTotal(n, u, int(v[0]), float(v[1]))
                    for (n, u), v in sorted(outcomes[cohort].items())
                ],
                feedback=[
                    _kind_figures(k, hist[cohort].get(k, {}), prompted[cohort][k], shown[cohort][k])
                    for k in kinds
                ],
                nps_reached=nps_of(nps_split[cohort][1]) if q.success else EMPTY,
                nps_not_reached=nps_of(nps_split[cohort][0]) if q.success else EMPTY,
                areas=area_rows,
                success_by_day=dict(sorted(by_day[cohort].items())),
            )
        )

    theme_list, theme_note = find_themes(results["comments"]) if themes else ([], None)
    if theme_note:
        notes.append(theme_note)
    teams = _teams(results["teams"], results["answers"], config, theme_list)
    return PilotReport(
        id=pilot_id,
        name=spec.name if spec else None,
        problem=spec.problem if spec else None,
        path=list(q.path),
        success_milestone=q.success,
        within_days=within,
        cohorts=figures,
        themes=theme_list,
        teams=teams,
        comparisons=_compare(figures),
        notes=notes,
    )


def _teams(
    team_rows: Any, answer_rows: Any, config: PromptConfig | None, themes: list[Theme]
) -> list[TeamFigures]:
    counts, medians, statuses = team_rows
    per_team: dict[str, dict[str, object]] = {}
    for team, area, feedback, bad, answered in counts:
        name = str(team or "") or UNROUTED
        slot = per_team.setdefault(name, {"areas": set(), "feedback": 0, "bad": 0, "answered": 0})
        if area:
            slot["areas"].add(str(area))  # type: ignore[attr-defined]
        for key, value in (("feedback", feedback), ("bad", bad), ("answered", answered)):
            slot[key] = int(slot[key]) + int(value or 0)  # type: ignore[call-overload]
    median_of = {str(g or "") or UNROUTED: float(m) for g, m, _n in medians}
    status_of: dict[str, dict[str, int]] = defaultdict(dict)
    for team, status, count in statuses:
        status_of[str(team or "") or UNROUTED][str(status) or "(none)"] = int(count)
    answers: dict[str, list[Answer]] = defaultdict(list)
    for team, rteam, status, message, after, comment, _kind, _score in answer_rows:
        answers[str(team or "") or UNROUTED].append(
            Answer(str(rteam), str(status), str(message), _days(after), comment)
        )
    names = [t.name for t in config.teams] if config else []
    if config and config.routing.default_team and config.routing.default_team not in names:
        names.append(config.routing.default_team)
    names += sorted(set(per_team) - set(names))
    result = []
    for name in names:
        slot = per_team.get(name, {"areas": set(), "feedback": 0, "bad": 0, "answered": 0})
        owned = list(next((t.areas for t in config.teams if t.name == name), [])) if config else []
        areas = sorted(set(owned) | slot["areas"])  # type: ignore[operator]
        result.append(
            TeamFigures(
                name=name,
                areas=areas,
                pain_points=[t.label for t in themes if t.team == name and t.kind == "pain"],
                feedback=int(slot["feedback"]),  # type: ignore[call-overload]
                bad=int(slot["bad"]),  # type: ignore[call-overload]
                answered=wilson(int(slot["answered"]), int(slot["feedback"])),  # type: ignore[call-overload]
                median_days_to_answer=_days(median_of.get(name)),
                statuses=status_of.get(name, {}),
                answers=answers.get(name, [])[:20],
            )
        )
    return result


def _compare(figures: list[CohortFigures]) -> list[Comparison]:
    cohorts = [c for c in figures if c.cohort != ALL]
    out: list[Comparison] = []
    for before, after in itertools.pairwise(cohorts):
        pairs: list[tuple[str, Estimate, Estimate]] = [
            ("success", before.success, after.success),
            ("NPS of those who reached success", before.nps_reached, after.nps_reached),
        ]
        kinds_a = {k.kind: k for k in before.feedback}
        for k in after.feedback:
            if k.kind in kinds_a:
                pairs.append((k.headline, kinds_a[k.kind].value, k.value))
                pairs.append(
                    (f"{k.kind} response rate", kinds_a[k.kind].response_rate, k.response_rate)
                )
        for sa, sb in zip(before.funnel, after.funnel, strict=False):
            pairs.append((f"funnel: {sb.milestone}", sa.conversion, sb.conversion))
        for figure, a, b in pairs:
            if a.value is None and b.value is None:
                continue
            change = b.value - a.value if a.value is not None and b.value is not None else None
            out.append(Comparison(figure, before.cohort, after.cohort, a, b, change, differs(a, b)))
    return out
