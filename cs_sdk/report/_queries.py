"""The report's SQL, written once over logical columns (see ``_dialect.py``): the store as a
whole, participants, success, the funnel and outcomes here; feedback and routing in
``_queries_feedback.py``; who counts as a participant in ``_query_base.py``.

Every figure is aggregated where the events live: the report reads counts, sums, score
histograms and medians, never the raw events, except the newest free-text comments (up to
``COMMENT_LIMIT`` per pilot), which the theme finder needs as text, and a few comments per
cohort shown next to the NPS of those who reached success and of those who did not.
"""

from __future__ import annotations

from typing import Any

from ._dialect import Row
from ._queries_feedback import FeedbackQueries
from ._query_base import COMMENT_LIMIT, FOREVER_NS, PilotQuery, Routing

__all__ = ["COMMENT_LIMIT", "PilotQuery", "Queries", "Routing"]


class Queries(FeedbackQueries):
    """Runs the report's statements on one store; each method returns plain rows."""

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
            f"{d.unindexed(d.time_ns)} AS ot FROM {d.table} WHERE {d.event} = 'cs.outcome') o "
            f"ON o.oacct = pa.acct WHERE o.ot >= pa.at0 "
            f"GROUP BY pa.cohort, o.oname, o.unit ORDER BY pa.cohort, o.oname, o.unit"
        )
        return self._run(sql, self._params(q))
