"""The report's SQL, written once over logical columns (see ``_dialect.py``).

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
from ._scales import normalised_sql, sentiment_sql

__all__ = ["COMMENT_LIMIT", "PilotQuery", "Queries", "Routing"]

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


class Queries:
    """Runs the report's statements on one store; each method returns plain rows."""

    def __init__(self, executor: Executor) -> None:
        self._x = executor
        self.d: Dialect = executor.dialect
        self.workers = max(1, int(getattr(executor, "workers", 1)))

    def _run(self, sql: str, params: Mapping[str, Any]) -> list[Row]:
        return self._x.query(sql, params)

    # -- the store as a whole -------------------------------------------------------------

    def overview(self) -> Row:
        """(events, first time_ns, last time_ns)."""
        d = self.d
        return self._run(f"SELECT COUNT(*), MIN({d.time_ns}), MAX({d.time_ns}) FROM {d.table}", {})[
            0
        ]

    def pilots(self) -> list[Row]:
        """(pilot id, enrolments) for every pilot someone was enrolled in."""
        d = self.d
        pilot = d.attr("cs.pilot.id")
        return self._run(
            f"SELECT {pilot} AS pilot, COUNT(*) FROM {d.table} "
            f"WHERE {d.event} = 'cs.pilot.enrolled' AND {pilot} IS NOT NULL "
            f"GROUP BY {pilot} ORDER BY pilot",
            {},
        )

    # -- building blocks ------------------------------------------------------------------

    def _participants(self) -> str:
        d = self.d
        return (
            f"p AS (SELECT {d.user} AS uid, MIN(COALESCE({d.attr('cs.pilot.cohort')}, '')) "
            f"AS cohort, MIN({d.account}) AS acct, MIN({d.time_ns}) AS t0 FROM {d.table} "
            f"WHERE {d.event} = 'cs.pilot.enrolled' AND {d.attr('cs.pilot.id')} = "
            f"{d.param('pilot')} AND {d.user} IS NOT NULL GROUP BY {d.user})"
        )

    def _feedback(self) -> str:
        d = self.d
        return (
            f"pf AS (SELECT p.cohort AS cohort, p.uid AS puid, fb.feid AS feid, fb.ft AS ft, "
            f"fb.kind AS kind, fb.score AS score, fb.comment AS comment, fb.area AS area, "
            f"fb.prompt AS prompt FROM p JOIN (SELECT {d.event_id} AS feid, "
            f"{d.unindexed(d.user)} AS fuid, "
            f"{d.time_ns} AS ft, {d.kind} AS kind, {d.score} AS score, {d.comment} AS comment, "
            f"{d.area} AS area, {d.prompt} AS prompt FROM {d.table} "
            f"WHERE {d.event} = 'cs.feedback') fb ON fb.fuid = p.uid WHERE fb.ft >= p.t0)"
        )

    def _success(self) -> str:
        d = self.d
        return (
            f"ps AS (SELECT p.uid AS suid, p.cohort AS scohort, MIN(s.st - p.t0) AS dt FROM p "
            f"JOIN (SELECT {d.unindexed(d.user)} AS muid, {d.time_ns} AS st FROM {d.table} "
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

    # -- participants, success, funnel, outcomes ------------------------------------------

    def participants(self, q: PilotQuery) -> list[Row]:
        """(cohort, enrolled, exited, active in the period)."""
        d = self.d
        params = self._params(q)
        period = ""
        if q.period_ns is not None:
            params["p_start"], params["p_end"] = q.period_ns
            period = (
                f"AND {d.time_ns} >= {d.param('p_start', 'Int64')} "
                f"AND {d.time_ns} < {d.param('p_end', 'Int64')} "
            )
        sql = (
            f"WITH {self._participants()}, "
            f"x AS (SELECT {d.user} AS xuid, MAX({d.time_ns}) AS xt FROM {d.table} "
            f"WHERE {d.event} = 'cs.pilot.exited' AND {d.attr('cs.pilot.id')} = "
            f"{d.param('pilot')} GROUP BY {d.user}), "
            f"a AS (SELECT {d.user} AS auid, MAX({d.time_ns}) AS last_t FROM {d.table} "
            f"WHERE {d.event} NOT IN ('cs.pilot.enrolled', 'cs.pilot.exited') "
            f"AND {d.user} IS NOT NULL {period}GROUP BY {d.user}) "
            f"SELECT p.cohort, COUNT(*), "
            f"SUM(CASE WHEN x.xt >= p.t0 THEN 1 ELSE 0 END), "
            f"SUM(CASE WHEN a.last_t >= p.t0 THEN 1 ELSE 0 END) "
            f"FROM p LEFT JOIN x ON x.xuid = p.uid LEFT JOIN a ON a.auid = p.uid "
            f"GROUP BY p.cohort ORDER BY p.cohort"
        )
        return self._run(sql, params)

    def success(self, q: PilotQuery) -> tuple[list[Row], list[Row]]:
        """(cohort, reached within the window, reached at all after enrolment), and
        (cohort, median ns to success among those within the window, n)."""
        d = self.d
        params = {**self._params(q), "success": q.success, "window": q.window_ns or FOREVER_NS}
        window = d.param("window", "Int64")
        ctes = f"{self._participants()}, {self._success()}"
        counts = self._run(
            f"WITH {ctes} SELECT scohort, SUM(CASE WHEN dt <= {window} THEN 1 ELSE 0 END), "
            f"COUNT(*) FROM ps GROUP BY scohort",
            params,
        )
        medians = self._run(
            self._median(ctes, f"SELECT scohort AS g, dt AS v FROM ps WHERE dt <= {window}", ["g"]),
            params,
        )
        return counts, medians

    def success_days(self, q: PilotQuery) -> list[Row]:
        """(cohort, whole days from enrolment to success, participants): every participant
        who reached the success milestone after enrolment, window or not."""
        d = self.d
        params = {**self._params(q), "success": q.success, "day": 86_400 * 10**9}
        day = d.idiv("dt", d.param("day", "Int64"))
        return self._run(
            f"WITH {self._participants()}, {self._success()} SELECT scohort, {day} AS days, "
            f"COUNT(*) FROM ps GROUP BY scohort, days ORDER BY scohort, days",
            params,
        )

    def _funnel_cte(self, q: PilotQuery, params: dict[str, Any]) -> tuple[str, list[str]]:
        d = self.d
        cols, names = [], []
        for i, step in enumerate(q.path):
            params[f"s{i}"] = step
            names.append(d.param(f"s{i}"))
            cols.append(
                f"MIN(CASE WHEN {d.name_col} = {d.param(f's{i}')} THEN {d.time_ns} END) AS f{i}"
            )
        cte = (
            f"f AS (SELECT {d.user} AS fuid, {', '.join(cols)} FROM {d.table} "
            f"WHERE {d.event} = 'cs.milestone' AND {d.name_col} IN ({', '.join(names)}) "
            f"AND {d.user} IS NOT NULL GROUP BY {d.user})"
        )
        # Step k is reached when every earlier step was, in order (first times, ties allowed).
        reached = []
        for k in range(len(q.path)):
            conditions = ["f.f0 IS NOT NULL"] + [f"f.f{j} >= f.f{j - 1}" for j in range(1, k + 1)]
            reached.append(" AND ".join(conditions))
        return cte, reached

    def funnel(self, q: PilotQuery) -> tuple[list[Row], list[Row]]:
        """(cohort, participants, reached step 0, step 1, ...), and
        (cohort, step k >= 1, median ns from step k-1 to k, n)."""
        params = self._params(q)
        cte, reached = self._funnel_cte(q, params)
        ctes = f"{self._participants()}, {cte}"
        sums = ", ".join(f"SUM(CASE WHEN {r} THEN 1 ELSE 0 END)" for r in reached)
        counts = self._run(
            f"WITH {ctes} SELECT p.cohort, COUNT(*), {sums} FROM p LEFT JOIN f ON f.fuid = p.uid "
            f"GROUP BY p.cohort",
            params,
        )
        if len(q.path) < 2:
            return counts, []
        sub = " UNION ALL ".join(
            f"SELECT p.cohort AS g, '{k}' AS step, f.f{k} - f.f{k - 1} AS v FROM p "
            f"JOIN f ON f.fuid = p.uid WHERE {reached[k]}"
            for k in range(1, len(q.path))
        )
        medians = self._run(self._median(ctes, sub, ["g", "step"]), params)
        return counts, medians

    def outcomes(self, q: PilotQuery) -> list[Row]:
        """(cohort, outcome name, unit, count, total) for the participants' accounts."""
        d = self.d
        sql = (
            f"WITH {self._participants()}, "
            f"pa AS (SELECT acct, cohort, MIN(t0) AS at0 FROM p WHERE acct IS NOT NULL "
            f"GROUP BY acct, cohort) "
            f"SELECT pa.cohort, o.oname, o.unit, COUNT(*), SUM(o.val) FROM pa JOIN "
            f"(SELECT {d.unindexed(d.account)} AS oacct, {d.name_col} AS oname, "
            f"COALESCE({d.outcome_unit}, '') AS unit, {d.outcome_value} AS val, "
            f"{d.time_ns} AS ot FROM {d.table} WHERE {d.event} = 'cs.outcome') o "
            f"ON o.oacct = pa.acct WHERE o.ot >= pa.at0 "
            f"GROUP BY pa.cohort, o.oname, o.unit ORDER BY pa.cohort, o.oname, o.unit"
        )
        return self._run(sql, self._params(q))

    # -- feedback ---------------------------------------------------------------------------

    def scores(self, q: PilotQuery) -> list[Row]:
        """(cohort, kind, score, answers, answers to a prompt): the score histograms."""
        sql = (
            f"WITH {self._participants()}, {self._feedback()} "
            f"SELECT cohort, kind, score, COUNT(*), "
            f"SUM(CASE WHEN prompt IS NOT NULL THEN 1 ELSE 0 END) FROM pf "
            f"GROUP BY cohort, kind, score"
        )
        return self._run(sql, self._params(q))

    def shown(self, q: PilotQuery) -> list[Row]:
        """(cohort, kind, prompts shown) to participants since their enrolment."""
        d = self.d
        sql = (
            f"WITH {self._participants()} SELECT p.cohort, sh.kind, COUNT(*) FROM p JOIN "
            f"(SELECT {d.unindexed(d.user)} AS shuid, COALESCE({d.kind}, '') AS kind, "
            f"{d.time_ns} AS sht "
            f"FROM {d.table} WHERE {d.event} = 'cs.prompt.shown') sh ON sh.shuid = p.uid "
            f"WHERE sh.sht >= p.t0 GROUP BY p.cohort, sh.kind"
        )
        return self._run(sql, self._params(q))

    def nps_by_success(self, q: PilotQuery) -> list[Row]:
        """(cohort, reached success 1/0, score, answers) of the NPS answers."""
        d = self.d
        params = {**self._params(q), "success": q.success, "window": q.window_ns or FOREVER_NS}
        sql = (
            f"WITH {self._participants()}, {self._feedback()}, {self._success()} "
            f"SELECT cohort, CASE WHEN puid IN (SELECT suid FROM ps WHERE dt <= "
            f"{d.param('window', 'Int64')}) THEN 1 ELSE 0 END AS reached, score, COUNT(*) "
            f"FROM pf WHERE kind = 'nps' AND score IS NOT NULL GROUP BY cohort, reached, score"
        )
        return self._run(sql, params)

    def areas(self, q: PilotQuery) -> list[Row]:
        """(cohort, area, answers, sum and count of 0-100 scores, bad, good)."""
        params = self._params(q)
        sentiment = sentiment_sql("kind", "score")
        sql = (
            f"WITH {self._participants()}, {self._feedback()} "
            f"SELECT cohort, COALESCE(area, '') AS ar, COUNT(*), "
            f"SUM({normalised_sql('kind', 'score')}), COUNT({normalised_sql('kind', 'score')}), "
            f"SUM(CASE WHEN {sentiment} < 0 THEN 1 ELSE 0 END), "
            f"SUM(CASE WHEN {sentiment} > 0 THEN 1 ELSE 0 END) FROM pf GROUP BY cohort, ar"
        )
        return self._run(sql, params)

    def comments(self, q: PilotQuery) -> list[Row]:
        """The newest comments: (event id, cohort, kind, score, sentiment, 0-100 score, area,
        team, comment)."""
        params = self._params(q)
        team = self._team(q, params)
        sql = (
            f"WITH {self._participants()}, {self._feedback()} "
            f"SELECT feid, cohort, kind, score, {sentiment_sql('kind', 'score')}, "
            f"{normalised_sql('kind', 'score')}, COALESCE(area, ''), {team}, comment FROM pf "
            f"WHERE comment IS NOT NULL AND comment != '' ORDER BY ft DESC LIMIT {COMMENT_LIMIT}"
        )
        return self._run(sql, params)

    # -- routing and answers ----------------------------------------------------------------

    def _routed(self, q: PilotQuery, params: dict[str, Any]) -> str:
        team = self._team(q, params)
        return (
            f"r AS (SELECT {team} AS team, feid, ft, COALESCE(area, '') AS rarea, "
            f"{sentiment_sql('kind', 'score')} AS sent FROM pf)"
        )

    def teams(self, q: PilotQuery) -> tuple[list[Row], list[Row], list[Row]]:
        """(team, area, feedback, bad, answered) per team and area; (team, median ns to the
        first answer, n); (team, status, answers)."""
        d = self.d
        params = self._params(q)
        ctes = f"{self._participants()}, {self._feedback()}, {self._routed(q, params)}, " + (
            self._responses()
        )
        counts = self._run(
            f"WITH {ctes} SELECT team, rarea, COUNT(*), SUM(CASE WHEN sent < 0 THEN 1 ELSE 0 END), "
            # IN, not an outer join: both engines build a set of the answered ids once.
            f"SUM(CASE WHEN r.feid IN (SELECT rfid FROM rs) THEN 1 ELSE 0 END) FROM r "
            f"GROUP BY team, rarea",
            params,
        )
        medians = self._run(
            self._median(
                ctes,
                "SELECT r.team AS g, rs.rt - r.ft AS v FROM r JOIN rs ON rs.rfid = r.feid",
                ["g"],
            ),
            params,
        )
        status = d.attr("cs.response.status")
        fid = d.attr("cs.feedback.id")
        statuses = self._run(
            f"WITH {ctes} SELECT r.team, a.status, COUNT(*) FROM r JOIN "
            f"(SELECT {fid} AS afid, COALESCE({status}, '') AS status FROM {d.table} "
            f"WHERE {d.event} = 'cs.feedback.response') a ON a.afid = r.feid "
            f"GROUP BY r.team, a.status",
            params,
        )
        return counts, medians, statuses

    def answers(self, q: PilotQuery, limit: int = 100) -> list[Row]:
        """The newest answers: (routed team, answering team, status, message, ns after the
        feedback, the feedback's comment, kind, score)."""
        d = self.d
        params = self._params(q)
        ctes = f"{self._participants()}, {self._feedback()}"
        team = self._team(q, params)
        sql = (
            f"WITH {ctes} SELECT {team} AS team, a.rteam, a.status, a.message, a.ats - pf.ft, "
            f"pf.comment, pf.kind, pf.score FROM pf JOIN "
            f"(SELECT {d.attr('cs.feedback.id')} AS afid, "
            f"COALESCE({d.attr('cs.response.team')}, '') AS rteam, "
            f"COALESCE({d.attr('cs.response.status')}, '') AS status, "
            f"COALESCE({d.attr('cs.response.message')}, '') AS message, {d.time_ns} AS ats "
            f"FROM {d.table} WHERE {d.event} = 'cs.feedback.response') a ON a.afid = pf.feid "
            f"ORDER BY a.ats DESC LIMIT {int(limit)}"
        )
        return self._run(sql, params)
