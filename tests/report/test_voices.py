"""The words next to the NPS of those who reached success and of those who did not: the
newest NPS comments of each side, chosen in SQL, against tests/report/_data.py by hand, on
SQLite and on ClickHouse (chdb), and shown side by side in the text, HTML and JSON."""

from __future__ import annotations

import html
import json

import pytest

from cs_sdk.report import PilotReport, Report, render_html, render_json, render_text

# By hand from _data.EVENTS (success: first_report_created within 14 days of enrolment).
# Wave 1, all answered on day 5 (ties: lower score first): u1 reached success on day 3;
# u2 reached it on day 20 (outside the window), u3 and u4 never did.
SLOW = (3, "Export is slow and the export times out")
PRICING = (6, "Pricing page is confusing, invoice wrong")
GREAT = (10, "Great reports, love the dashboard")
LOVE_NEW = (9, "Love the new dashboard and the reports")
# Wave 2 (enrolled on day 20, all reached success): u5 and u7 on day 25; u6 left no comment;
# u5's "terrible" on day 10 came before the enrolment and does not count.
FAST = (8, "Export is fast now")
LOVE = (9, "Love the dashboard")


@pytest.fixture
def pilot(fixed_report: Report) -> PilotReport:
    return fixed_report.pilots[0]


def sides(pilot: PilotReport, cohort: str) -> tuple[list[tuple[int, str]], list[tuple[int, str]]]:
    c = next(c for c in pilot.cohorts if c.cohort == cohort)
    return (
        [(v.score, v.comment) for v in c.voices_reached],
        [(v.score, v.comment) for v in c.voices_not_reached],
    )


def test_each_cohort_has_the_newest_comments_of_both_sides(pilot: PilotReport) -> None:
    assert sides(pilot, "wave-1") == ([LOVE_NEW], [SLOW, PRICING, GREAT])
    assert sides(pilot, "wave-2") == ([FAST, LOVE], [])


def test_all_participants_keep_the_three_newest_of_each_side(pilot: PilotReport) -> None:
    # Reached: day 25 (u7, u5) before day 5 (u1); the limit is three per side.
    assert sides(pilot, "*") == ([FAST, LOVE, LOVE_NEW], [SLOW, PRICING, GREAT])


def test_a_pilot_without_a_success_metric_has_no_voices(fixed_report: Report) -> None:
    other = fixed_report.pilots[1]
    assert other.success_milestone is None
    assert all(not c.voices_reached and not c.voices_not_reached for c in other.cohorts)


def test_text_shows_the_two_sides_in_columns(fixed_report: Report) -> None:
    lines = render_text(fixed_report).splitlines()
    title = lines.index("What they said (the newest NPS comments, with their scores)")
    block = lines[title : title + 12]
    header = next(line for line in block if "reached success" in line)
    first_wave_1 = block[block.index(next(b for b in block if b.strip() == "wave-1")) + 2]
    # Same row: the reached side on the left, the other side in the right column.
    assert first_wave_1.index(" 9 Love the new dashboard") < first_wave_1.index(" 3 Export is slow")
    assert first_wave_1.index(" 3 Export is slow") == header.index("did not")


def test_html_shows_the_two_sides_next_to_each_other(fixed_report: Report) -> None:
    page = render_html(fixed_report)
    table = page[page.index('<table class="voices">') :]
    table = table[: table.index("</table>")]
    rows = table.split("<tr>")[2:]
    wave_1 = next(r for r in rows if ">wave-1<" in r or ">wave 1<" in r.lower())
    reached, not_reached = wave_1.split("</td>")[1:3]
    assert html.escape(LOVE_NEW[1]) in reached and SLOW[1] not in reached
    for score, comment in (SLOW, PRICING, GREAT):
        assert f'<span class="score">{score}</span> {html.escape(comment)}' in not_reached


def test_html_escapes_a_hostile_comment(fixed_report: Report) -> None:
    import dataclasses

    pilot = fixed_report.pilots[0]
    c = pilot.cohorts[0]
    hostile = dataclasses.replace(c.voices_reached[0], comment="<script>alert(1)</script>")
    cohort = dataclasses.replace(c, voices_reached=[hostile])
    report = dataclasses.replace(
        fixed_report, pilots=[dataclasses.replace(pilot, cohorts=[cohort])]
    )
    page = render_html(report)
    assert "<script>alert(1)" not in page and "&lt;script&gt;alert(1)" in page


def test_json_carries_both_sides(fixed_report: Report) -> None:
    data = json.loads(render_json(fixed_report))
    cohort = next(c for c in data["pilots"][0]["cohorts"] if c["cohort"] == "wave-1")
    assert cohort["voices_reached"] == [{"score": 9, "comment": LOVE_NEW[1]}]
    assert [v["score"] for v in cohort["voices_not_reached"]] == [3, 6, 10]
