"""What the pilot document gives the figures: the query of a pilot (path, success window,
period, routing), the team owning an area, and the notes saying which field to add when the
document does not say enough."""

from __future__ import annotations

import datetime as _dt

from .._prompts._config import PilotSpec, PromptConfig
from ._model import NS_PER_DAY, UNROUTED, Note
from ._query_base import PilotQuery, Routing

__all__ = ["area_team", "notes_for", "pilot_query", "routing_of"]


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


def notes_for(pilot_id: str, spec: PilotSpec | None, config: PromptConfig | None) -> list[Note]:
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
