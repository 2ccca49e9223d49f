"""Every figure of the report against values computed by hand from tests/report/_data.py,
on cs-sdk collector's SQLite and on the ClickHouse exporter's otel_logs (chdb)."""

from __future__ import annotations

import pytest

from cs_sdk.report import PilotReport, Report

from . import _data


@pytest.fixture
def pilot(fixed_report: Report) -> PilotReport:
    assert [p.id for p in fixed_report.pilots] == ["nd", "other"]
    assert fixed_report.events == len(_data.EVENTS)
    return fixed_report.pilots[0]


def by(pilot: PilotReport, cohort: str):
    return next(c for c in pilot.cohorts if c.cohort == cohort)


def test_participants_per_cohort_and_in_all(pilot: PilotReport) -> None:
    assert [c.cohort for c in pilot.cohorts] == ["*", "wave-1", "wave-2"]
    rows = [(c.enrolled, c.exited, c.active) for c in pilot.cohorts]
    assert rows == [(7, 1, 7), (4, 1, 4), (3, 0, 3)]


def test_success_share_interval_and_median_time(pilot: PilotReport) -> None:
    w1, w2, everyone = by(pilot, "wave-1"), by(pilot, "wave-2"), by(pilot, "*")
    # wave 1: only u1 within 14 days (3 d); u2 reached it after 20 days.
    assert (w1.success.k, w1.success.n, w1.reached_at_all) == (1, 4, 2)
    # Wilson, z=1.96, 1 of 4 by hand: centre 0.37247, half-width 0.32689.
    assert w1.success.low == pytest.approx(0.04558, abs=1e-4)
    assert w1.success.high == pytest.approx(0.69936, abs=1e-4)
    assert w1.median_days_to_success == pytest.approx(3.0)
    assert (w2.success.k, w2.success.n) == (3, 3)
    assert w2.median_days_to_success == pytest.approx(4.0)  # 2, 4, 6 days
    assert (everyone.success.k, everyone.success.n) == (4, 7)
    assert everyone.median_days_to_success == pytest.approx(3.5)  # 2, 3, 4, 6 days
    assert "Too close to call" in everyone.verdict and "4 of 7" in everyone.verdict
    assert w1.success_by_day == {3: 1, 20: 1}


def test_funnel_counts_conversion_median_times_and_biggest_loss(pilot: PilotReport) -> None:
    everyone, w1, w2 = by(pilot, "*"), by(pilot, "wave-1"), by(pilot, "wave-2")
    assert [s.reached for s in everyone.funnel] == [7, 6, 5]
    assert [s.reached for s in w1.funnel] == [4, 3, 2]
    assert [s.reached for s in w2.funnel] == [3, 3, 3]
    assert (w1.funnel[2].conversion.k, w1.funnel[2].conversion.n) == (2, 3)
    # signed_up -> data_connected: 2, 2, 5 (wave 1), 1, 0.5, 2 (wave 2) days.
    assert [s.median_days_from_previous for s in everyone.funnel] == [None, 2.0, 3.5]
    assert [s.median_days_from_previous for s in w1.funnel] == [None, 2.0, 10.0]
    assert [s.median_days_from_previous for s in w2.funnel] == [None, 1.0, 3.5]
    assert [s.biggest_loss for s in everyone.funnel] == [False, True, False]


def test_outcomes_of_participants_accounts_since_enrolment(pilot: PilotReport) -> None:
    w1 = {(o.name, o.unit): (o.count, o.total) for o in by(pilot, "wave-1").outcomes}
    w2 = {(o.name, o.unit): (o.count, o.total) for o in by(pilot, "wave-2").outcomes}
    assert w1 == {("renewal", "USD"): (2, 20000.0), ("expansion", "USD"): (1, 500.0)}
    assert w2 == {("renewal", "USD"): (1, 3000.0)}


def test_feedback_scores_and_response_rates(pilot: PilotReport) -> None:
    kinds = {k.kind: k for k in by(pilot, "wave-1").feedback}
    assert [k.kind for k in by(pilot, "*").feedback] == ["nps", "csat", "ces", "rating", "thumbs"]
    nps = kinds["nps"]
    assert nps.value.value == pytest.approx(0.0)  # 9, 10 against 3, 6
    assert (nps.response_rate.k, nps.response_rate.n) == (4, 5)
    assert nps.distribution == {3: 1, 6: 1, 9: 1, 10: 1}
    assert (kinds["csat"].value.k, kinds["csat"].value.n) == (1, 2)
    assert (kinds["ces"].value.k, kinds["ces"].value.n) == (1, 1)
    assert kinds["ces"].mean.value == pytest.approx(6.0)
    assert kinds["rating"].value.value == pytest.approx(4.0)
    assert kinds["rating"].response_rate.n == 0  # answered without a prompt
    assert (kinds["thumbs"].value.k, kinds["thumbs"].value.n) == (1, 2)
    all_nps = next(k for k in by(pilot, "*").feedback if k.kind == "nps")
    # u5's 0 before enrolment is not counted: 4 promoters, 2 detractors of 7.
    assert all_nps.value.value == pytest.approx(200 / 7)
    assert all_nps.value.low is not None and all_nps.value.high is not None
    assert -100 <= all_nps.value.low < 200 / 7 < all_nps.value.high <= 100
    w2 = next(k for k in by(pilot, "wave-2").feedback if k.kind == "nps")
    assert w2.value.value == pytest.approx(200 / 3)


def test_nps_of_those_who_reached_success_and_of_the_others(pilot: PilotReport) -> None:
    w1 = by(pilot, "wave-1")
    assert (w1.nps_reached.value, w1.nps_reached.n) == (pytest.approx(100.0), 1)
    assert (w1.nps_not_reached.value, w1.nps_not_reached.n) == (pytest.approx(-100 / 3), 3)


def test_areas_worst_first_with_their_team(pilot: PilotReport) -> None:
    areas = [(a.area, a.team, a.answers, a.bad, a.good) for a in by(pilot, "*").areas]
    assert areas == [
        ("exports", "reports-team", 4, 3, 0),
        ("billing", "product-team", 1, 1, 0),
        ("onboarding", "product-team", 1, 0, 1),
        ("reports", "reports-team", 7, 0, 7),
    ]
    assert by(pilot, "*").areas[0].mean_score == pytest.approx((30 + 25 + 0 + 80) / 4)
    assert by(pilot, "*").areas[0].pain


def test_routing_per_team_with_answers_given(pilot: PilotReport) -> None:
    teams = {t.name: t for t in pilot.teams}
    assert list(teams) == ["reports-team", "platform-team", "sales-team", "product-team"]
    figures = {n: (t.feedback, t.bad, t.answered.k) for n, t in teams.items()}
    # "slow", "crashed" match platform-team's pattern whatever the area; "Pricing" sales-team's.
    assert figures == {
        "reports-team": (9, 1, 0),
        "platform-team": (2, 2, 2),
        "sales-team": (1, 1, 1),
        "product-team": (1, 0, 0),
    }
    assert teams["platform-team"].median_days_to_answer == pytest.approx(3.0)  # 2 and 4 days
    assert teams["sales-team"].median_days_to_answer == pytest.approx(1.0)
    assert teams["platform-team"].statuses == {"done": 1, "planned": 1}
    messages = {a.message for a in teams["platform-team"].answers}
    assert messages == {"Export is 3x faster in 2.3", "Looking into the crash"}


def test_themes_split_pain_from_success_points(pilot: PilotReport) -> None:
    assert sum(t.count for t in pilot.themes) == 7  # every comment of a participant
    pain = [t for t in pilot.pain_points if "export" in " ".join(t.phrases)]
    success = [t for t in pilot.success_points if {"love", "dashboard"} & set(t.phrases)]
    assert pain and success
    assert pain[0].team == "platform-team"
    assert 2 <= len(pain[0].examples) <= 3
    assert all("xport" in e for e in pain[0].examples)


def test_small_cohorts_changes_are_not_marked_as_more_than_noise(pilot: PilotReport) -> None:
    change = next(c for c in pilot.comparisons if c.figure == "success")
    assert (change.before, change.after) == ("wave-1", "wave-2")
    assert change.change == pytest.approx(0.75)
    assert not change.significant  # 1 of 4 against 3 of 3: the intervals overlap
    assert not any(c.significant for c in pilot.comparisons)


def test_a_pilot_missing_from_the_configuration_is_reported_with_what_to_add(
    fixed_report: Report,
) -> None:
    other = fixed_report.pilots[1]
    assert other.id == "other" and other.overall.enrolled == 1
    assert other.success_milestone is None and other.overall.funnel == []
    assert any('[[pilots]] id = "other"' in n.message for n in other.notes)
