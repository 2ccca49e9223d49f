"""Cohort against cohort on a larger simulated pilot: a real change is marked."""

from __future__ import annotations

from pathlib import Path

from bench import _pilot_events
from cs_sdk._prompts import parse_config
from cs_sdk.report import build_report, open_sqlite


def test_a_change_beyond_the_intervals_is_marked_and_the_pain_point_shrinks(
    tmp_path: Path,
) -> None:
    _pilot_events.write(tmp_path / "events.db", 600)
    source = open_sqlite(tmp_path / "events.db")
    try:
        pilot = build_report(source, parse_config(_pilot_events.CONFIG)).pilots[0]
    finally:
        source.close()
    success = next(c for c in pilot.comparisons if c.figure == "success")
    assert success.change is not None and success.change > 0.2
    assert success.significant
    w1, w2 = pilot.cohorts[1], pilot.cohorts[2]
    assert (w1.cohort, w2.cohort) == ("wave-1", "wave-2")
    assert w1.enrolled == w2.enrolled == 300
    assert any(t.team == "platform-team" for t in pilot.pain_points)
    platform = next(t for t in pilot.teams if t.name == "platform-team")
    assert platform.answered.k and platform.median_days_to_answer is not None
