"""Per team: the areas it owns, its pain points, its routed feedback, how much of it was
answered, how fast, with which status, and the newest answers."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from .._prompts._config import PromptConfig
from ._model import UNROUTED, Answer, TeamFigures, Theme, ns_days
from ._stats import wilson

__all__ = ["team_figures"]


def team_figures(
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
            Answer(str(rteam), str(status), str(message), ns_days(after), comment)
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
                median_days_to_answer=ns_days(median_of.get(name)),
                statuses=status_of.get(name, {}),
                answers=answers.get(name, [])[:20],
            )
        )
    return result
