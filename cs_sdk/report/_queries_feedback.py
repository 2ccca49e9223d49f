"""The report's feedback and routing SQL: scores, prompt shows, NPS by success and the
comments behind it, areas, comments for the themes, teams and their answers."""

from __future__ import annotations

from typing import Any

from ._dialect import Row
from ._query_base import COMMENT_LIMIT, FOREVER_NS, PilotQuery, QueryBase
from ._scales import normalised_sql, sentiment_sql

__all__ = ["VOICES", "FeedbackQueries"]

VOICES = 3  # comments shown per cohort on each side of the NPS split


class FeedbackQueries(QueryBase):
    """What participants said and who answered it."""

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
            f"{d.unindexed(d.time_ns)} AS sht "
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

    def nps_voices(self, q: PilotQuery, per_group: int = VOICES) -> list[Row]:
        """(cohort, reached success 1/0, score, comment): the words next to the NPS of those
        who reached success and of those who did not, ``per_group`` per cohort and side and
        as many for all participants (cohort ``'*'``).

        Which comments: the newest NPS answers that carry one (ties: the lower score first,
        then the text), so the page shows what participants say now rather than a pick
        that looks typical by a measure of ours; the full set is in the themes."""
        d = self.d
        params = {**self._params(q), "success": q.success, "window": q.window_ns or FOREVER_NS}
        reached = (
            f"CASE WHEN puid IN (SELECT suid FROM ps WHERE dt <= {d.param('window', 'Int64')}) "
            f"THEN 1 ELSE 0 END"
        )
        order = "ORDER BY ft DESC, score, comment"
        sql = (
            f"WITH {self._participants()}, {self._feedback()}, {self._success()}, "
            f"v AS (SELECT cohort, {reached} AS reached, ft, score, comment FROM pf "
            f"WHERE kind = 'nps' AND score IS NOT NULL AND comment IS NOT NULL "
            f"AND comment != ''), "
            f"vr AS (SELECT cohort, reached, ft, score, comment, "
            f"ROW_NUMBER() OVER (PARTITION BY cohort, reached {order}) AS rn, "
            f"ROW_NUMBER() OVER (PARTITION BY reached {order}) AS rn_all FROM v) "
            f"SELECT cohort, reached, score, comment, ft, rn FROM vr WHERE rn <= {int(per_group)} "
            f"UNION ALL SELECT '*', reached, score, comment, ft, rn_all FROM vr "
            f"WHERE rn_all <= {int(per_group)}"
        )
        # Ordered here: ClickHouse binds an ORDER BY after UNION ALL to the last SELECT only.
        rows = sorted(self._run(sql, params), key=lambda r: (str(r[0]), int(r[1]), int(r[5])))
        return [row[:4] for row in rows]

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
        # Feedback joined with the answers: both sides computed once (Dialect.materialized).
        answered = self._feedback(materialized=True)
        answers = d.materialized(
            "a",
            f"SELECT {fid} AS afid, COALESCE({status}, '') AS status FROM {d.table} "
            f"WHERE {d.event} = 'cs.feedback.response'",
        )
        statuses = self._run(
            f"WITH {self._participants()}, {answered}, {self._routed(q, params)}, {answers} "
            f"SELECT r.team, a.status, COUNT(*) FROM r JOIN a ON a.afid = r.feid "
            f"GROUP BY r.team, a.status",
            params,
        )
        return counts, medians, statuses

    def answers(self, q: PilotQuery, limit: int = 100) -> list[Row]:
        """The newest answers: (routed team, answering team, status, message, ns after the
        feedback, the feedback's comment, kind, score)."""
        d = self.d
        params = self._params(q)
        # Feedback joined with the answers: both sides computed once (Dialect.materialized).
        answers = d.materialized(
            "a",
            f"SELECT {d.attr('cs.feedback.id')} AS afid, "
            f"COALESCE({d.attr('cs.response.team')}, '') AS rteam, "
            f"COALESCE({d.attr('cs.response.status')}, '') AS status, "
            f"COALESCE({d.attr('cs.response.message')}, '') AS message, {d.time_ns} AS ats "
            f"FROM {d.table} WHERE {d.event} = 'cs.feedback.response'",
        )
        ctes = f"{self._participants()}, {self._feedback(materialized=True)}, {answers}"
        team = self._team(q, params)
        sql = (
            f"WITH {ctes} SELECT {team} AS team, a.rteam, a.status, a.message, a.ats - pf.ft, "
            f"pf.comment, pf.kind, pf.score FROM pf JOIN a ON a.afid = pf.feid "
            f"ORDER BY a.ats DESC LIMIT {int(limit)}"
        )
        return self._run(sql, params)
