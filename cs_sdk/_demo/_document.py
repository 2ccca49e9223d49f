"""The demo's pilot document (docs/pilots.md, API section 9) and the facts it states.

The simulation reads its path, cohorts and prompts from these constants, and the document a
pilot manager would write is rendered from the same constants, so the two cannot drift.
"""

from __future__ import annotations

import re
from typing import Final

PILOT: Final = "new-dashboard"
COHORTS: Final = ("wave-1", "wave-2")
PROBLEM: Final = "Finance teams spend a day a month building the board report by hand."
PATH: Final = ("signed_up", "data_connected", "first_report_created", "board_pack_exported")
SUCCESS_DAYS: Final = 14

# (team, areas it owns, regular expression on comments that goes to it whatever the area).
TEAMS: Final = (
    ("reports-team", ("reports", "exports"), None),
    ("data-team", ("data-connections",), None),
    ("platform-team", (), "slow|timeout|timed out|lag|crash"),
    ("sales", ("billing",), "pricing|price|invoice|seats"),
)
DEFAULT_TEAM: Final = "product-team"

# Prompts: (id, kind, question, area, milestones required, minimum days enrolled).
PROMPTS: Final = (
    ("nps-after-first-report", "nps",
     "How likely are you to recommend the new dashboard to a colleague?", "reports",
     ("first_report_created",), 7),
    ("ces-board-pack", "ces", "How easy was it to export your board pack?", "exports",
     ("board_pack_exported",), None),
    ("csat-week-two", "csat", "How satisfied are you with the new dashboard so far?",
     "onboarding", (), 10),
)  # fmt: skip


def _list(values: tuple[str, ...]) -> str:
    return "[" + ", ".join(f'"{value}"' for value in values) + "]"


def pilot_document(start: str, end: str) -> str:
    """The TOML document: the pilot, its success metric, prompts, teams and routing."""
    lines = [
        "# The pilot document `cs-sdk demo` wrote (see docs/pilots.md).",
        "version = 1",
        "",
        "[throttle]",
        "global_wait_days = 2",
        "",
        "[[pilots]]",
        f'id = "{PILOT}"',
        'name = "New dashboard"',
        'owner = "cs-team@example.com"',
        f"cohorts = {_list(COHORTS)}",
        f"start = {start}",
        f"end = {end}",
        f'problem = "{PROBLEM}"',
        f"path = {_list(PATH)}",
        f'success = {{ milestone = "{PATH[-1]}", within_days = {SUCCESS_DAYS} }}',
    ]
    for prompt_id, kind, question, area, milestones, min_days in PROMPTS:
        lines += [
            "",
            "[[prompts]]",
            f'id = "{prompt_id}"',
            f'kind = "{kind}"',
            f'question = "{question}"',
            f'area = "{area}"',
            "[prompts.targeting]",
            f'pilots = ["{PILOT}"]',
        ]
        if milestones:
            lines.append(f"milestones = {_list(milestones)}")
        if min_days is not None:
            lines.append(f"min_days_enrolled = {min_days}")
    for team, areas, match in TEAMS:
        lines += ["", "[[teams]]", f'name = "{team}"']
        if areas:
            lines.append(f"areas = {_list(areas)}")
        if match:
            lines.append(f'match = "{match}"')
    lines += ["", "[routing]", f'default_team = "{DEFAULT_TEAM}"', ""]
    return "\n".join(lines)


_MATCHES: Final = tuple((team, re.compile(match, re.I)) for team, _, match in TEAMS if match)
_AREAS: Final = {area: team for team, areas, _ in TEAMS for area in areas}


def team_for(area: str | None, comment: str | None) -> str:
    """The team the document routes a comment to: a match on the text wins over the area."""
    if comment:
        for team, pattern in _MATCHES:
            if pattern.search(comment):
                return team
    return _AREAS.get(area or "", DEFAULT_TEAM)
