"""The event shapes applications really send, and one call per shape for every SDK.

``calls(sdk)`` gives, for each shape, ``call(i)``: record event number ``i`` of that shape
the way a user of that SDK would, building its arguments as the application would (a fresh
property dict, and for cs_sdk's typed event the ``Event`` instance: what using typed events
costs the caller). The peers have no typed events, feedback or outcomes: they send their
normal named event with the same fields as properties.

The realistic mix draws the shapes by ``WEIGHTS`` (seeded, exact proportions in every 100
consecutive events); its justification is in bench/RESULTS.md.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable
from typing import Any

from ._peers import EVENT, USERS, Adapter, CsSdk, properties

# Shape name -> label in the report. "flat" is the event of the main table.
SHAPES: dict[str, str] = {
    "flat": "milestone(), 8 flat scalars",
    "list": "+ a list[str] (2 strings)",
    "nested": "+ a small nested dict",
    "typed": "track() of a typed Event",
    "feedback": 'feedback("nps", score, comment)',
    "outcome": "outcome(value, unit)",
    "mix": "realistic mix",
}
# Per 100 events of the realistic mix (see RESULTS.md, "the realistic mix").
WEIGHTS: dict[str, int] = {
    "flat": 40,
    "list": 20,
    "nested": 15,
    "typed": 15,
    "feedback": 5,
    "outcome": 5,
}
FEEDBACK_EVENT = "nps_answered"  # the peers' event for an NPS answer
OUTCOME_EVENT = "renewal"
OUTCOME_UNIT = "usd"

_rng = random.Random(5678)
_TAGS = ("finance", "q3", "exec", "weekly", "draft", "shared", "pinned", "emea", "ops", "sales")
_TAG_PAIRS = tuple(tuple(_rng.sample(_TAGS, 2)) for _ in range(101))
_FILTERS = tuple(
    {
        "region": _rng.choice(("emea", "amer", "apac")),
        "since_days": _rng.choice((7, 30, 90)),
        "archived": _rng.random() < 0.2,
    }
    for _ in range(103)
)
_COMMENTS = (
    "Exports are much faster now, thanks",
    "The weekly report keeps timing out for our EMEA team",
    "Love the new dashboard filters",
    "Hard to find where the churn chart went after the update",
    "Great support, fixed in a day",
    "Would like CSV export on the mobile app",
    "Too many clicks to share a report with a colleague",
    "",
)
_SCHEDULE: tuple[str, ...] = tuple(
    _rng.sample([shape for shape, n in WEIGHTS.items() for _ in range(n)], k=100)
)


def with_tags(i: int) -> dict[str, Any]:
    props = properties(i)
    props["tags"] = list(_TAG_PAIRS[i % 101])
    return props


def with_filters(i: int) -> dict[str, Any]:
    props = properties(i)
    props["filters"] = dict(_FILTERS[i % 103])
    return props


def nps(i: int) -> tuple[int, str | None]:
    """(score 0-10, comment or None): one answer in eight without a comment."""
    comment = _COMMENTS[i % len(_COMMENTS)]
    return i % 11, comment or None


# The outcome values, like the tags and filters above, are data the application already has:
# drawn once, so that the harness's own float arithmetic is not timed as a recording call's.
_VALUES = tuple(round(100.0 + k * 12.5, 2) for k in range(997))


def outcome_value(i: int) -> float:
    return _VALUES[i % 997]


_typed_class: list[Any] = []


def report_event_class() -> Any:
    """cs_sdk's typed event with the flat shape's 8 fields, declared once per process (a
    class declared on every call would be a new schema each time). Imports cs_sdk: call it
    only in a cs_sdk process."""
    if not _typed_class:
        import cs_sdk

        class ReportCreated(cs_sdk.Event, name=EVENT, version="1.0.0"):
            plan: str
            report_type: str
            source: str
            pages: int
            rows: int
            duration_ms: float
            score: float
            first_time: bool

        _typed_class.append(ReportCreated)
    return _typed_class[0]


def calls(sdk: Adapter, wanted: Iterable[str] = SHAPES) -> dict[str, Callable[[int], object]]:
    """Shape -> ``call(i)`` for ``sdk``; ``mix`` dispatches to the others by the schedule.

    cs_sdk's typed event class (and with it pydantic) is only declared when ``wanted`` needs
    it, so that the runs of the other shapes keep their process as it was."""
    record = sdk.record
    by_shape: dict[str, Callable[[int], object]] = {
        "flat": lambda i: record(USERS[i % 1000], properties(i)),
        "list": lambda i: record(USERS[i % 1000], with_tags(i)),
        "nested": lambda i: record(USERS[i % 1000], with_filters(i)),
    }
    if isinstance(sdk, CsSdk):
        client = sdk.client
        track, feedback, outcome = client.track, client.feedback, client.outcome
        event_class = report_event_class() if {"typed", "mix"} & set(wanted) else None

        def typed(i: int) -> object:
            return track(event_class(**properties(i)), user_id=USERS[i % 1000])

        def answer(i: int) -> object:
            score, comment = nps(i)
            return feedback("nps", score=score, comment=comment, user_id=USERS[i % 1000])

        def result(i: int) -> object:
            value = outcome_value(i)
            return outcome(OUTCOME_EVENT, value=value, unit=OUTCOME_UNIT, user_id=USERS[i % 1000])

    else:
        send = sdk.send

        def typed(i: int) -> object:  # no typed events: the normal call, the same fields
            return record(USERS[i % 1000], properties(i))

        def answer(i: int) -> object:
            score, comment = nps(i)
            props: dict[str, Any] = {"score": score}
            if comment is not None:
                props["comment"] = comment
            return send(USERS[i % 1000], FEEDBACK_EVENT, props)

        def result(i: int) -> object:
            props = {"value": outcome_value(i), "unit": OUTCOME_UNIT}
            return send(USERS[i % 1000], OUTCOME_EVENT, props)

    by_shape.update(typed=typed, feedback=answer, outcome=result)
    schedule = tuple(by_shape[shape] for shape in _SCHEDULE)
    by_shape["mix"] = lambda i: schedule[i % 100](i)
    return by_shape
