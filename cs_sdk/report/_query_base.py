"""The report's SQL building blocks, written once over logical columns (see
``_dialect.py``): participants, their feedback and success, answers, routing, medians.

Every figure is aggregated where the events live: the report reads counts, sums, score
histograms and medians, never the raw events, except the newest free-text comments (up to
``COMMENT_LIMIT`` per pilot), which the theme finder needs as text.

Who counts as a participant, decided here for every figure:
- a participant is a user with a ``cs.pilot.enrolled`` event for the pilot; their cohort and
  enrolment time are those of that event (the first, if several);
- feedback, prompt shows and success are counted from the enrolment on; the funnel counts the
  path's milestones whenever they happened, because the path starts before enrolment
  (sign-up);
- outcomes are those of the participants' accounts (the enrolment's ``account_id``) from the
  account's first enrolment on.
Medians are exact (the middle value, or the mean of the two middle values), computed with
window functions, which SQLite (3.25+) and ClickHouse both run.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ._dialect import Dialect, Executor, Row

__all__ = ["COMMENT_LIMIT", "FOREVER_NS", "PilotQuery", "QueryBase", "Routing"]

COMMENT_LIMIT = 5000
FOREVER_NS = 2**62  # a success window when the document gives none


@dataclass(frozen=True, slots=True)
class Routing:
    """Teams by comment pattern (in order), by area, and the default team ('' for none)."""

    patterns: tuple[tuple[str, str], ...] = ()  # (team, regex)
    areas: tuple[tuple[str, tuple[str, ...]], ...] = ()  # (team, areas)
    default_team: str = ""


@dataclass(frozen=True, slots=True)
class PilotQuery:
    """What one pilot's figures need from the document."""

    pilot: str
    path: tuple[str, ...] = ()
    success: str | None = None
    window_ns: int | None = None
    period_ns: tuple[int, int] | None = None  # [start, end) for "active in the period"
    routing: Routing = field(default_factory=Routing)


class QueryBase:
    """The common table expressions every figure's statement is built from."""

    """Runs the report's statements on one store; each method returns plain rows."""

    def __init__(self, executor: Executor) -> None:
        self._x = executor
        self.d: Dialect = executor.dialect
        self.workers = max(1, int(getattr(executor, "workers", 1)))

    def _run(self, sql: str, params: Mapping[str, Any]) -> list[Row]:
        return self._x.query(sql, params)

    # -- building blocks ------------------------------------------------------------------

    def _participants(self) -> str:
        d = self.d
        return (
            f"p AS (SELECT {d.user} AS uid, MIN(COALESCE({d.attr('cs.pilot.cohort')}, '')) "
            f"AS cohort, MIN({d.account}) AS acct, MIN({d.time_ns}) AS t0 FROM {d.table} "
            f"WHERE {d.event} = 'cs.pilot.enrolled' AND {d.attr('cs.pilot.id')} = "
            f"{d.param('pilot')} AND {d.user} IS NOT NULL GROUP BY {d.user})"
        )

    def _feedback(self, *, materialized: bool = False) -> str:
        """The participants' feedback since their enrolment; ``materialized`` when the
        statement joins it with other events (see ``Dialect.materialized``)."""
        d = self.d
        body = (
            f"SELECT p.cohort AS cohort, p.uid AS puid, fb.feid AS feid, fb.ft AS ft, "
            f"fb.kind AS kind, fb.score AS score, fb.comment AS comment, fb.area AS area, "
            f"fb.prompt AS prompt FROM p JOIN (SELECT {d.event_id} AS feid, "
            f"{d.unindexed(d.user)} AS fuid, {d.unindexed(d.time_ns)} AS ft, "
            f"{d.kind} AS kind, {d.score} AS score, {d.comment} AS comment, "
            f"{d.area} AS area, {d.prompt} AS prompt FROM {d.table} "
            f"WHERE {d.event} = 'cs.feedback') fb ON fb.fuid = p.uid WHERE fb.ft >= p.t0"
        )
        return d.materialized("pf", body) if materialized else f"pf AS ({body})"

    def _success(self) -> str:
        d = self.d
        return (
            f"ps AS (SELECT p.uid AS suid, p.cohort AS scohort, MIN(s.st - p.t0) AS dt FROM p "
            f"JOIN (SELECT {d.unindexed(d.user)} AS muid, {d.unindexed(d.time_ns)} AS st "
            f"FROM {d.table} "
            f"WHERE {d.event} = 'cs.milestone' AND {d.name_col} = {d.param('success')}) s "
            f"ON s.muid = p.uid WHERE s.st >= p.t0 GROUP BY p.uid, p.cohort)"
        )

    def _responses(self) -> str:
        d = self.d
        fid = d.attr("cs.feedback.id")
        return (
            f"rs AS (SELECT {fid} AS rfid, MIN({d.time_ns}) AS rt FROM {d.table} "
            f"WHERE {d.event} = 'cs.feedback.response' AND {fid} IS NOT NULL GROUP BY {fid})"
        )

    def _team(self, q: PilotQuery, params: dict[str, Any]) -> str:
        """SQL for the team a row of ``pf`` is routed to: pattern, then area, then default."""
        d = self.d
        cases: list[str] = []
        for i, (team, pattern) in enumerate(q.routing.patterns):
            params[f"rx{i}"] = f"(?i){pattern}"
            params[f"rxt{i}"] = team
            cases.append(
                f"WHEN {d.matches('comment', d.param(f'rx{i}'))} THEN {d.param(f'rxt{i}')}"
            )
        for i, (team, areas) in enumerate(q.routing.areas):
            if not areas:
                continue
            names = []
            for j, area in enumerate(areas):
                params[f"ar{i}_{j}"] = area
                names.append(d.param(f"ar{i}_{j}"))
            params[f"art{i}"] = team
            cases.append(f"WHEN area IN ({', '.join(names)}) THEN {d.param(f'art{i}')}")
        params["default_team"] = q.routing.default_team
        default = d.param("default_team")
        return f"(CASE {' '.join(cases)} ELSE {default} END)" if cases else default

    def _median(self, ctes: str, sub: str, keys: Sequence[str]) -> str:
        """Per group of ``keys`` (and for all, with the first key ``'*'``): the exact median
        of ``v`` in ``sub`` (a SELECT of the keys and ``v``), and how many values.

        One pass over ``sub`` numbers each value twice: within its group and within all."""
        d = self.d
        first, *rest = keys
        key_list = ", ".join(keys)
        rest_list = ", ".join(rest)
        all_partition = f"PARTITION BY {rest_list} " if rest else ""
        all_group = f" GROUP BY {rest_list}" if rest else ""
        all_keys = ", ".join(["'*' AS " + first, *rest])

        def middle(rn: str, c: str) -> str:
            return f"({rn} = {d.idiv(c + ' + 1', '2')} OR {rn} = {d.idiv(c + ' + 2', '2')})"

        return (
            f"WITH {ctes}, mv AS ({sub}), "
            f"mr AS (SELECT {key_list}, v, "
            f"ROW_NUMBER() OVER (PARTITION BY {key_list} ORDER BY v) AS rn, "
            f"COUNT(*) OVER (PARTITION BY {key_list}) AS c, "
            f"ROW_NUMBER() OVER ({all_partition}ORDER BY v) AS rn_all, "
            f"COUNT(*) OVER ({all_partition.strip()}) AS c_all FROM mv) "
            f"SELECT {key_list}, AVG(v), MAX(c) FROM mr WHERE {middle('rn', 'c')} "
            f"GROUP BY {key_list} UNION ALL "
            f"SELECT {all_keys}, AVG(v), MAX(c_all) FROM mr WHERE {middle('rn_all', 'c_all')}"
            f"{all_group} HAVING COUNT(*) > 0"
        )

    def _params(self, q: PilotQuery) -> dict[str, Any]:
        return {"pilot": q.pilot}
