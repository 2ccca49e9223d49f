"""The pilot document's report fields: problem, path, success, teams, routing."""

from __future__ import annotations

import pytest

from cs_sdk import PromptConfigError
from cs_sdk._prompts import parse_config

from . import _data


def test_the_example_document_parses_with_its_teams_and_routing() -> None:
    config = parse_config(_data.CONFIG)
    pilot = config.pilots[0]
    assert pilot.path == ["signed_up", "data_connected", "first_report_created"]
    assert pilot.success_milestone == "first_report_created"
    assert [t.name for t in config.teams] == ["reports-team", "platform-team", "sales-team"]
    assert config.routing.default_team == "product-team"


def test_the_success_milestone_is_the_last_step_unless_said() -> None:
    config = parse_config('[[pilots]]\nid = "p"\npath = ["a", "b"]\n')
    assert config.pilots[0].success_milestone == "b"
    assert parse_config('[[pilots]]\nid = "p"\n').pilots[0].success_milestone is None


@pytest.mark.parametrize(
    ("document", "problem"),
    [
        (
            '[[pilots]]\nid = "p"\npath = ["a", "b"]\nsuccess = { milestone = "bb", '
            "within_days = 3 }\n",
            "pilots[0].success.milestone: 'bb' is not a step of path (a, b); did you mean 'b'?",
        ),
        ('[[pilots]]\nid = "p"\npath = ["a", "a"]\n', "pilots[0].path: each milestone"),
        (
            '[[teams]]\nname = "t"\nmatch = "slow("\n',
            "teams[0].match: value error, not a valid regular expression",
        ),
        (
            '[[teams]]\nname = "t"\nareaz = ["x"]\n',
            "teams[0].areaz: unknown field; did you mean 'areas'?",
        ),
        ('[[teams]]\nname = "t"\n', "teams[0]: give the team areas, a match pattern or both"),
        (
            '[[teams]]\nname = "t"\nareas = ["x"]\n[[teams]]\nname = "u"\nareas = ["x"]\n',
            "teams[1].areas[0]: area 'x' is already owned by 't'",
        ),
        (
            '[[teams]]\nname = "t"\nareas = ["x"]\n[[teams]]\nname = "t"\nareas = ["y"]\n',
            "teams[1].name: duplicate team name 't'",
        ),
        (
            '[routing]\ndefault_teem = "x"\n',
            "routing.default_teem: unknown field; did you mean 'default_team'?",
        ),
    ],
)
def test_mistakes_are_reported_with_their_path(document: str, problem: str) -> None:
    with pytest.raises(PromptConfigError) as caught:
        parse_config(document)
    assert problem in str(caught.value)
