"""One id rule (``cs_sdk/_ids.py``) at every entry point that takes a user/account/session id.

The same table of ids runs through every recording call (on the C path and the Python
path), ``identify()``, ``opt_out()``, the pilots calls and the prompts calls. An accepted id
arrives as its canonical string everywhere; a refused one is refused everywhere, with the
same rule in the same words (raised with ``strict=True``, counted or logged otherwise).
"""

from __future__ import annotations

import enum
import logging
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

import cs_sdk
from cs_sdk import InvalidEventError, _accelerated
from cs_sdk._ids import ID_RULE, MAX_ID_LENGTH
from cs_sdk.testing import CapturedEvents, capture


class Role(str, enum.Enum):
    ADMIN = "admin"


class Status(enum.Enum):  # not a str: not an id
    ACTIVE = "active"


UID = uuid.UUID("12345678-1234-5678-1234-567812345678")
ACCEPTED: list[tuple[Any, str]] = [
    ("u1", "u1"),
    (42, "42"),
    (0, "0"),
    (-7, "-7"),
    (UID, "12345678-1234-5678-1234-567812345678"),
    (Role.ADMIN, "admin"),
    ("x" * MAX_ID_LENGTH, "x" * MAX_ID_LENGTH),
]
REFUSED: list[Any] = [
    "",
    "x" * (MAX_ID_LENGTH + 1),
    10**300,  # an int counts as its digits, and 301 digits break the bound
    True,
    7.5,
    b"u1",
    Status.ACTIVE,
    object(),
]

Call = Callable[[Any, Any], None]


class Exported(cs_sdk.Event, name="test.ids.exported", version="1.0.0"):
    pages: int


def _record(method: str) -> Call:
    def call(client: Any, ident: Any) -> None:
        if method == "milestone":
            client.milestone("m", user_id=ident)
        elif method == "milestone account_id":
            client.milestone("m", account_id=ident)
        elif method == "milestone session_id":
            client.milestone("m", session_id=ident)
        elif method == "outcome":
            client.outcome("renewal", user_id=ident, value=1.0)
        elif method == "feedback":
            client.feedback("nps", score=9, user_id=ident)
        elif method == "track":
            client.track(Exported(pages=3), user_id=ident)
        elif method == "identify":
            with cs_sdk.identify(user_id=ident):
                client.milestone("m")
        elif method == "pilots.enroll":
            client.pilots.enroll(ident, "beta")
        elif method == "pilots.exit":
            client.pilots.exit(ident, "beta")
        elif method == "prompts.shown":
            client.prompts.shown("p1", ident)
        elif method == "prompts.dismissed":
            client.prompts.dismissed("p1", ident)
        else:  # pragma: no cover
            raise AssertionError(method)

    return call


ENTRY_POINTS = [
    "milestone",
    "milestone account_id",
    "milestone session_id",
    "outcome",
    "feedback",
    "track",
    "identify",
    "pilots.enroll",
    "pilots.exit",
    "prompts.shown",
    "prompts.dismissed",
]
PATHS = ["python", *(["c"] if _accelerated.AVAILABLE else [])]


def recorded_id(events: CapturedEvents, entry: str) -> str | None:
    """The id the (last) event carries where this entry point puts it."""
    event = events[-1]
    if entry == "milestone account_id":
        return event.account_id
    if entry == "milestone session_id":
        return event.session_id
    return event.user_id


@pytest.fixture
def prompts_file(tmp_path: Path) -> str:
    path = tmp_path / "prompts.json"
    path.write_text('{"prompts": [{"id": "p1", "kind": "nps", "question": "Recommend us?"}]}')
    return str(path)


@pytest.fixture(autouse=True)
def _quiet_state_warning(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    with caplog.at_level(logging.WARNING, logger="cs_sdk"):
        yield


def run(
    entry: str, ident: Any, path: str, strict: bool, prompts: str, canonical: str | None = None
) -> CapturedEvents:
    with capture(strict=strict, speedups=path == "c", prompts=prompts) as events:
        client = cs_sdk.get_client()
        assert client is not None
        assert client._accelerated is (path == "c")
        if entry == "pilots.exit" and canonical is not None:
            client.pilots.enroll(canonical, "beta")  # there must be something to exit
            del events[:]
        _record(entry)(client, ident)
    return events


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("entry", ENTRY_POINTS)
@pytest.mark.parametrize(("ident", "expected"), ACCEPTED, ids=lambda v: repr(v)[:20])
def test_an_accepted_id_arrives_as_its_canonical_string_at_every_entry_point(
    entry: str, path: str, ident: Any, expected: str, prompts_file: str
) -> None:
    events = run(entry, ident, path, strict=True, prompts=prompts_file, canonical=expected)
    assert len(events) == 1, entry
    assert recorded_id(events, entry) == expected


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("entry", ENTRY_POINTS)
@pytest.mark.parametrize("ident", REFUSED, ids=lambda v: repr(v)[:20])
def test_a_refused_id_raises_the_one_rule_in_strict_mode_at_every_entry_point(
    entry: str, path: str, ident: Any, prompts_file: str
) -> None:
    with pytest.raises(InvalidEventError) as raised:
        run(entry, ident, path, strict=True, prompts=prompts_file)
    assert raised.value.rule.startswith(ID_RULE)
    assert raised.value.field in ("user_id", "account_id", "session_id")


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("entry", ENTRY_POINTS)
@pytest.mark.parametrize("ident", REFUSED, ids=lambda v: repr(v)[:20])
def test_a_refused_id_never_reaches_an_event_and_is_logged_in_production_mode(
    entry: str, path: str, ident: Any, prompts_file: str, caplog: pytest.LogCaptureFixture
) -> None:
    events = run(entry, ident, path, strict=False, prompts=prompts_file)
    if entry == "identify":
        # identify() wraps request handlers: the scope goes on without the bad id.
        assert [e.user_id for e in events] == [None]
    else:
        assert list(events) == []
    assert ID_RULE in caplog.text


def test_the_id_bound_counts_towards_an_event_at_the_call() -> None:
    # Before the rule, a 100 KB user id was queued as it was (issue 11): now it is refused.
    with capture() as events:
        assert cs_sdk.milestone("m", user_id="x" * 100_000) is None
        stats = cs_sdk.stats()
    assert list(events) == [] and stats["dropped"]["invalid"] == 1
