"""From query rows to figures: one :class:`PilotReport` per pilot, cohorts side by side.

Only small aggregates reach this module (one row per cohort, score or step); the loops here
run over those, never over events.
"""

from __future__ import annotations

import dataclasses
import itertools
from collections import defaultdict
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from .._prompts._config import PilotSpec, PromptConfig
from ._model import (
    ALL,
    NS_PER_DAY,
    UNROUTED,
    AreaFigures,
    CohortFigures,
    Comparison,
    FunnelStep,
    KindFigures,
    Note,
    OutcomeTotal,
    PilotReport,
    Voice,
    ns_days,
)
from ._pilot_config import area_team, notes_for, pilot_query
from ._queries import PilotQuery, Queries
from ._scales import SCALES
from ._stats import EMPTY, Estimate, differs, mean_of, nps_of, share, wilson
from ._team_figures import team_figures
from ._themes import find_themes

__all__ = ["UNROUTED", "area_team", "build_pilot", "pilot_query"]

Hist = dict[int, int]


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
        calls["nps_voices"] = queries.nps_voices
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
    notes = notes_for(pilot_id, spec, config)
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

    # The words next to the NPS split; the query already picked them per cohort and for all.
    voices: dict[str, dict[int, list[Voice]]] = defaultdict(lambda: {0: [], 1: []})
    if q.success:
        for cohort, reached, score, comment in results["nps_voices"]:
            voices[str(cohort)][int(reached)].append(Voice(int(score), str(comment)))

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
                median_days_to_success=ns_days(success_medians.get(cohort)),
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
                voices_reached=voices[cohort][1],
                voices_not_reached=voices[cohort][0],
                areas=area_rows,
                success_by_day=dict(sorted(by_day[cohort].items())),
            )
        )

    theme_list, theme_note = find_themes(results["comments"]) if themes else ([], None)
    if theme_note:
        notes.append(theme_note)
    teams = team_figures(results["teams"], results["answers"], config, theme_list)
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
