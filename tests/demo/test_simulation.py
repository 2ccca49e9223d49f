"""The demo's pilot, checked in the database the collector wrote: cohorts, the path, the
wave-1 pain point and its fix, prompts, and the teams' answers to the right customers."""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from cs_sdk import PromptConfigError
from cs_sdk._demo import DemoResult, run_demo
from cs_sdk._demo._document import COHORTS, PATH, PILOT, team_for
from cs_sdk._prompts import load_config

TODAY = dt.date(2026, 3, 2)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> DemoResult:
    return run_demo(tmp_path_factory.mktemp("demo"), today=TODAY)


@pytest.fixture
def db(demo: DemoResult) -> Iterator[sqlite3.Connection]:
    conn = sqlite3.connect(f"file:{demo.paths.events_db}?mode=ro", uri=True)
    yield conn
    conn.close()


def one(conn: sqlite3.Connection, sql: str, *params: object) -> object:
    return conn.execute(sql, params).fetchone()[0]


def per_cohort(conn: sqlite3.Connection, sql: str) -> dict[str, float]:
    """``sql`` selects (cohort, value) over `events` joined with each user's cohort."""
    cohorts = (
        "WITH c AS (SELECT user_id, json_extract(attributes, '$.\"cs.pilot.cohort\"') AS cohort "
        "FROM events WHERE event_name = 'cs.pilot.enrolled') "
    )
    return {row[0]: row[1] for row in conn.execute(cohorts + sql)}


def test_every_event_reaches_the_collector_once(demo: DemoResult, db: sqlite3.Connection) -> None:
    assert demo.complete, demo
    assert one(db, "SELECT count(*) FROM events") == demo.recorded > 5000
    assert one(db, "SELECT count(DISTINCT event_id) FROM events") == demo.recorded
    assert one(db, "SELECT count(DISTINCT service_name) FROM events") == 1


def test_two_cohorts_of_three_hundred_enrol_and_wave_one_finishes(
    demo: DemoResult, db: sqlite3.Connection
) -> None:
    enrolled = per_cohort(db, "SELECT cohort, count(*) FROM c GROUP BY cohort")
    assert enrolled == {"wave-1": 300, "wave-2": 300}
    exited = per_cohort(
        db,
        "SELECT cohort, count(*) FROM events JOIN c USING (user_id) "
        "WHERE event_name = 'cs.pilot.exited' GROUP BY cohort",
    )
    assert exited["wave-1"] > 250 and exited.get("wave-2", 0) < 30
    # Every event of a participant carries the pilot and their cohort (answers given after
    # the customer left the pilot do not: the report joins them to the feedback instead).
    untagged = one(
        db,
        "SELECT count(*) FROM events WHERE user_id IS NOT NULL AND event_name NOT IN "
        "('cs.pilot.exited', 'cs.feedback.response') AND pilot_ids IS NULL",
    )
    assert untagged == 0
    # The pilot ran in the past: nothing is stamped after the end of the simulation.
    end_ns = dt.datetime.combine(TODAY, dt.time(), dt.timezone.utc).timestamp() * 1e9
    assert one(db, "SELECT max(time_unix_nano) FROM events") <= end_ns


def test_wave_two_reaches_the_success_milestone_more_often_and_sooner(
    db: sqlite3.Connection,
) -> None:
    within = per_cohort(
        db,
        "SELECT cohort, avg(CASE WHEN s.t - e.t <= 14 * 86400e9 THEN 1.0 ELSE 0 END) "
        "FROM c JOIN (SELECT user_id, time_unix_nano AS t FROM events "
        "WHERE event_name = 'cs.pilot.enrolled') AS e USING (user_id) "
        "LEFT JOIN (SELECT user_id, min(time_unix_nano) AS t FROM events "
        f"WHERE event_name = 'cs.milestone' AND name = '{PATH[-1]}' GROUP BY user_id) AS s "
        "USING (user_id) GROUP BY cohort",
    )
    assert within["wave-1"] < 0.35 < 0.5 < within["wave-2"]
    reached = {
        step: per_cohort(
            db,
            "SELECT cohort, count(DISTINCT user_id) FROM events JOIN c USING (user_id) "
            f"WHERE event_name = 'cs.milestone' AND name = '{step}' GROUP BY cohort",
        )
        for step in PATH
    }
    for cohort in COHORTS:  # a funnel: each step reached by fewer than the one before
        counts = [reached[step][cohort] for step in PATH]
        assert counts == sorted(counts, reverse=True) and counts[0] == 300
    # Wave 1's big loss is at the export; wave 2's is not.
    loss = {c: 1 - reached[PATH[3]][c] / reached[PATH[2]][c] for c in COHORTS}
    assert loss["wave-1"] > 0.4 > 0.2 > loss["wave-2"]


def test_the_wave_one_pain_point_is_the_export_and_wave_two_says_so_less(
    db: sqlite3.Connection,
) -> None:
    pain = per_cohort(
        db,
        "SELECT cohort, count(*) FROM events JOIN c USING (user_id) "
        "WHERE event_name = 'cs.feedback' AND feedback_comment LIKE '%export%' "
        "AND (feedback_comment LIKE '%slow%' OR feedback_comment LIKE '%time%out%' "
        "OR feedback_comment LIKE '%fails%') GROUP BY cohort",
    )
    assert pain["wave-1"] > 4 * pain.get("wave-2", 0) and pain["wave-1"] > 80
    nps = per_cohort(
        db,
        "SELECT cohort, 100.0 * (avg(feedback_score >= 9) - avg(feedback_score <= 6)) "
        "FROM events JOIN c USING (user_id) WHERE event_name = 'cs.feedback' "
        "AND feedback_kind = 'nps' GROUP BY cohort",
    )
    assert nps["wave-2"] > nps["wave-1"] + 20
    ces = per_cohort(
        db,
        "SELECT cohort, avg(feedback_score) FROM events JOIN c USING (user_id) "
        "WHERE event_name = 'cs.feedback' AND feedback_kind = 'ces' GROUP BY cohort",
    )
    assert ces["wave-2"] > ces["wave-1"] + 1.5


def test_prompts_are_shown_answered_and_dismissed_within_their_rules(
    db: sqlite3.Connection,
) -> None:
    rows = db.execute(
        "SELECT prompt_id, "
        "sum(event_name = 'cs.prompt.shown'), sum(event_name = 'cs.feedback'), "
        "sum(event_name = 'cs.prompt.dismissed') FROM events WHERE prompt_id IS NOT NULL "
        "GROUP BY prompt_id"
    ).fetchall()
    assert {row[0] for row in rows} == {
        "nps-after-first-report",
        "ces-board-pack",
        "csat-week-two",
    }
    for _, shown, answered, dismissed in rows:
        assert 0 < answered + dismissed <= shown
    # An answered prompt is never shown again to the same user (stop_after_answer).
    again = one(
        db,
        "SELECT count(*) FROM events AS s JOIN events AS f ON f.user_id = s.user_id "
        "AND f.prompt_id = s.prompt_id AND f.event_name = 'cs.feedback' "
        "WHERE s.event_name = 'cs.prompt.shown' AND s.time_unix_nano > f.time_unix_nano",
    )
    assert again == 0
    # The NPS prompt waits for the first report.
    early = one(
        db,
        "SELECT count(*) FROM events AS s WHERE s.event_name = 'cs.prompt.shown' "
        "AND s.prompt_id = 'nps-after-first-report' AND NOT EXISTS (SELECT 1 FROM events AS m "
        "WHERE m.user_id = s.user_id AND m.name = 'first_report_created' "
        "AND m.time_unix_nano <= s.time_unix_nano)",
    )
    assert early == 0


def test_teams_answer_the_customers_who_wrote_routed_by_the_document(
    db: sqlite3.Connection,
) -> None:
    rows = db.execute(
        "SELECT r.user_id, f.user_id, r.account_id, f.account_id, r.name, "
        "json_extract(r.attributes, '$.\"cs.response.team\"'), f.product_area, "
        "f.feedback_comment, r.time_unix_nano - f.time_unix_nano FROM events AS r "
        "JOIN events AS f ON f.event_id = json_extract(r.attributes, '$.\"cs.feedback.id\"') "
        "WHERE r.event_name = 'cs.feedback.response'"
    ).fetchall()
    assert (
        len(rows)
        == one(db, "SELECT count(*) FROM events WHERE event_name = 'cs.feedback.response'")
        > 200
    )
    for r_user, f_user, r_account, f_account, _, team, area, comment, delay in rows:
        assert (r_user, r_account) == (f_user, f_account)
        assert team == team_for(area, comment) and delay > 0
    statuses = {row[4] for row in rows}
    assert statuses == {"planned", "done", "declined"}
    # The export timeouts of wave 1 were answered "planned", then "done" once 2.3 shipped.
    platform = [row for row in rows if row[5] == "platform-team"]
    assert {row[4] for row in platform} >= {"planned", "done"}


def test_contact_details_in_comments_never_reach_the_collector(db: sqlite3.Connection) -> None:
    text = " ".join(row[0] for row in db.execute("SELECT attributes FROM events"))
    assert "@example.com" not in text and "7946" not in text
    assert "[email]" in text and "[phone]" in text


def test_the_pilot_document_is_valid_and_names_the_path_and_the_teams(demo: DemoResult) -> None:
    try:
        config = load_config(demo.paths.document)
    except PromptConfigError as error:  # pragma: no cover - the message is the diagnosis
        pytest.fail(str(error))
    pilot = config.pilots[0]
    assert (pilot.id, tuple(pilot.path), pilot.cohorts) == (PILOT, PATH, list(COHORTS))
    assert pilot.problem and pilot.success is not None
    assert [t.name for t in config.teams] == [
        "reports-team",
        "data-team",
        "platform-team",
        "sales",
    ]
    assert config.routing.default_team == "product-team"


def test_the_same_seed_plays_the_same_pilot(demo: DemoResult, tmp_path: Path) -> None:
    again = run_demo(tmp_path, today=TODAY)
    assert again.tally == demo.tally

    def shape(path: Path) -> str:
        with sqlite3.connect(path) as conn:
            rows = conn.execute(
                "SELECT event_name, name, user_id, feedback_score, feedback_comment, "
                "time_unix_nano FROM events ORDER BY time_unix_nano, event_name, user_id, name"
            ).fetchall()
        conn.close()
        return json.dumps(rows)

    assert shape(again.paths.events_db) == shape(demo.paths.events_db)
