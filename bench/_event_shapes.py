"""The event shapes applications really send (issue 15), as recording calls on one client.

    record = SHAPES["list"](client)   # a callable: record(i) records event i of that shape
    for i in range(n):
        record(i)

Every shape carries the benchmark's 8 varied properties (``bench._peers.properties``) and a
user from ``bench._peers.USERS``; each adds what makes it that shape:

* ``flat``: ``milestone()`` with the 8 scalars (the shape bench/RESULTS.md was built on);
* ``list``: the same with a ``tags`` list of two strings;
* ``nested``: the same with a small ``filters`` dict (two strings and a number);
* ``typed``: ``track()`` of a typed ``cs_sdk.Event`` with the same fields;
* ``feedback``: ``feedback("nps", score=..., comment=...)`` with a one-sentence comment;
* ``outcome``: ``outcome(...)`` with a value, a unit and the 8 properties.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ._peers import EVENT, USERS, properties

Record = Callable[[int], object]

TAGS = (["beta", "export"], ["pdf"], ["scheduled", "team", "q3"])
COMMENTS = (
    "The export was quick but the PDF lost the chart legends.",
    "Love the new filters, exactly what our team needed.",
    "Too many clicks to get to the weekly report.",
)


def _typed_class() -> type[Any]:
    """Declared once per process (the registry refuses a second class of the same name)."""
    global _TYPED
    if _TYPED is None:
        import cs_sdk

        class ReportCreated(cs_sdk.Event, name="bench.report_created", version="1.0.0"):
            plan: str
            report_type: str
            source: str
            pages: int
            rows: int
            duration_ms: float
            score: float
            first_time: bool

        _TYPED = ReportCreated
    return _TYPED


_TYPED: type[Any] | None = None


def _flat(client: Any) -> Record:
    milestone = client.milestone
    return lambda i: milestone(EVENT, user_id=USERS[i % 1000], properties=properties(i))


def _list(client: Any) -> Record:
    milestone = client.milestone

    def record(i: int) -> object:
        props = properties(i)
        props["tags"] = list(TAGS[i % 3])
        return milestone(EVENT, user_id=USERS[i % 1000], properties=props)

    return record


def _nested(client: Any) -> Record:
    milestone = client.milestone

    def record(i: int) -> object:
        props = properties(i)
        props["filters"] = {"region": "emea", "segment": "smb", "min_seats": i % 50}
        return milestone(EVENT, user_id=USERS[i % 1000], properties=props)

    return record


def _typed(client: Any) -> Record:
    cls = _typed_class()
    track = client.track
    return lambda i: track(cls(**properties(i)), user_id=USERS[i % 1000])


def _feedback(client: Any) -> Record:
    feedback = client.feedback
    return lambda i: feedback("nps", score=i % 11, comment=COMMENTS[i % 3], user_id=USERS[i % 1000])


def _outcome(client: Any) -> Record:
    outcome = client.outcome
    return lambda i: outcome(
        "renewal",
        value=float(i % 500),
        unit="usd",
        user_id=USERS[i % 1000],
        properties=properties(i),
    )


SHAPES: dict[str, Callable[[Any], Record]] = {
    "flat": _flat,
    "list": _list,
    "nested": _nested,
    "typed": _typed,
    "feedback": _feedback,
    "outcome": _outcome,
}
