"""Milestone and outcome names follow the documented name rule, in strict mode too (issue 14).

The rule (docs/schemas.md, ``cs_sdk/_names.py``): lower-case words separated by ``.``, ``_``
or ``-``, at most 256 characters; the same rule as typed event names.
"""

from __future__ import annotations

import logging
from typing import Any

import pytest

import cs_sdk
from cs_sdk import InvalidEventError, SchemaError, _accelerated
from cs_sdk._names import NAME_RULE
from cs_sdk.testing import capture

PATHS = ["python", *(["c"] if _accelerated.AVAILABLE else [])]
VALID = ["signup", "first_report_created", "report.exported", "checkout-started", "step2", "a"]
# (name, the suggestion in the error, or None when there is no good guess)
INVALID: list[tuple[Any, str | None]] = [
    ("Bad Name!", "bad_name"),
    ("Report Created", "report_created"),
    ("signup ", "signup"),
    ("report..exported", "report.exported"),
    ("éclair", "eclair"),
    ("report_created\n", "report_created"),
    ("1st_report", None),
    ("", None),
    ("n" * 257, None),
    ("_private", "private"),
    (42, None),
    (None, None),
]


def record(path: str, kind: str, name: Any, **options: Any) -> tuple[list[Any], dict[str, Any]]:
    with capture(speedups=path == "c", **options) as events:
        if kind == "milestone":
            cs_sdk.milestone(name, user_id="u1")
        else:
            cs_sdk.outcome(name, value=1.0)
        stats = cs_sdk.stats()
    return list(events), dict(stats)


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("kind", ["milestone", "outcome"])
@pytest.mark.parametrize("name", VALID)
def test_names_that_follow_the_rule_are_recorded(path: str, kind: str, name: str) -> None:
    events, _ = record(path, kind, name, strict=True)
    assert [event.name for event in events] == [name]


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("kind", ["milestone", "outcome"])
@pytest.mark.parametrize(("name", "meant"), INVALID, ids=lambda v: repr(v)[:16])
def test_a_name_that_breaks_the_rule_raises_in_strict_mode_saying_what_was_meant(
    path: str, kind: str, name: Any, meant: str | None
) -> None:
    with pytest.raises(InvalidEventError) as raised:
        record(path, kind, name, strict=True)
    error = raised.value
    assert error.field == "name" and error.rule == NAME_RULE
    # The configuration errors' style: the rule, what was given, what was probably meant.
    assert f"got {name!r}"[:40] in str(error)
    if meant is None:
        assert "did you mean" not in str(error)
    else:
        assert str(error).endswith(f"; did you mean {meant!r}?")


@pytest.mark.parametrize("path", PATHS)
def test_a_bad_name_is_a_counted_drop_logged_once_in_production_mode(
    path: str, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="cs_sdk"), capture(speedups=path == "c") as events:
        assert cs_sdk.milestone("Bad Name!") is None
        assert cs_sdk.milestone("Other Bad Name") is None
        assert cs_sdk.outcome("Renewal Won", value=1.0) is None
        assert cs_sdk.milestone("good_name") is not None
        stats = cs_sdk.stats()
    assert [event.name for event in events] == ["good_name"]
    assert stats["dropped"]["invalid"] == 3 and stats["recorded"] == 1
    logged = [r.getMessage() for r in caplog.records if "invalid event" in r.getMessage()]
    assert len(logged) == 1
    assert "got 'Bad Name!'; did you mean 'bad_name'?" in logged[0]


def test_typed_event_names_follow_the_same_rule() -> None:
    with pytest.raises(SchemaError, match="lower-case words"):

        class Bad(cs_sdk.Event, name="Report Exported", version="1.0.0"):
            pages: int

    with pytest.raises(SchemaError, match="lower-case words"):

        class Trailing(cs_sdk.Event, name="report.exported\n", version="1.0.0"):
            pages: int
