"""Odd ids given to pilots and prompts: nothing raises in production, nothing is stored.

Applications pass what their framework hands them: ``None`` for an anonymous user, ``""``
for a missing header, bytes, a float. Every public call must then do nothing (and log
once); only ``strict=True`` raises, and only ``InvalidEventError``. An int user or account
id (a database key) is not odd: as in the recording calls, it stands for its digits.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import cs_sdk
from cs_sdk import InvalidEventError
from cs_sdk._pilots import Pilots
from cs_sdk._prompts import Prompts, parse_config
from cs_sdk.events import Event
from cs_sdk.state import Membership, MemoryStore, ShowRules

CONFIG = parse_config(
    json.dumps(
        {
            "throttle": {"global_wait_days": 0},
            "pilots": [{"id": "beta"}],
            "prompts": [{"id": "nps", "kind": "nps", "question": "Recommend us?"}],
        }
    )
)
ODD: list[Any] = [None, 42, "", "x" * 300, b"u1", ["u1"], 4.2, True]
ODD_OPTIONAL = [value for value in ODD if value is not None]  # None means "not given" there
VALID = "ünï"


class WatchedStore(MemoryStore):
    """Keeps the name of every write."""

    def __init__(self) -> None:
        super().__init__()
        self.writes: list[str] = []

    def put_membership(self, user_id: str, membership: Membership) -> tuple[Membership, bool]:
        self.writes.append("put_membership")
        return super().put_membership(user_id, membership)

    def remove_membership(
        self, user_id: str, pilot_id: str, at: float | None = None
    ) -> Membership | None:
        self.writes.append("remove_membership")
        return super().remove_membership(user_id, pilot_id, at)

    def try_show(self, user_id: str, prompt_id: str, now: float, rules: ShowRules) -> bool:
        self.writes.append("try_show")
        return super().try_show(user_id, prompt_id, now, rules)

    def record_answered(self, user_id: str, prompt_id: str, at: float) -> None:
        self.writes.append("record_answered")
        super().record_answered(user_id, prompt_id, at)

    def record_dismissed(self, user_id: str, prompt_id: str, at: float) -> None:
        self.writes.append("record_dismissed")
        super().record_dismissed(user_id, prompt_id, at)


class Recorder:
    def __init__(self) -> None:
        self.events: list[Event] = []

    def track(self, event: Event, **identity: Any) -> str:
        self.events.append(event)
        return "id"


Call = Callable[[Pilots, Prompts, Any], Any]

# (call, what it returns when it does nothing). Each puts the odd value in one argument.
REQUIRED: dict[str, tuple[Call, Any]] = {
    "enroll(user_id)": (lambda pi, pr, v: pi.enroll(v, "beta"), None),
    "enroll(pilot_id)": (lambda pi, pr, v: pi.enroll("u1", v), None),
    "exit(user_id)": (lambda pi, pr, v: pi.exit(v, "beta"), False),
    "exit(pilot_id)": (lambda pi, pr, v: pi.exit("u1", v), False),
    "of(user_id)": (lambda pi, pr, v: pi.of(v), []),
    "next_for(user_id)": (lambda pi, pr, v: pr.next_for(v), None),
    "explain(user_id)": (lambda pi, pr, v: pr.explain(v), {}),
    "shown(prompt_id)": (lambda pi, pr, v: pr.shown(v, "u1"), False),
    "shown(user_id)": (lambda pi, pr, v: pr.shown("nps", v), False),
    "dismissed(prompt_id)": (lambda pi, pr, v: pr.dismissed(v, "u1"), None),
    "dismissed(user_id)": (lambda pi, pr, v: pr.dismissed("nps", v), None),
    "answered(prompt_id)": (lambda pi, pr, v: pr.answered(v, "u1"), None),
}
OPTIONAL: dict[str, tuple[Call, Any]] = {
    "enroll(cohort)": (lambda pi, pr, v: pi.enroll("u1", "beta", cohort=v), None),
    "enroll(account_id)": (lambda pi, pr, v: pi.enroll("u1", "beta", account_id=v), None),
    "exit(reason)": (lambda pi, pr, v: pi.exit("u1", "beta", reason=v), False),
    "exit(account_id)": (lambda pi, pr, v: pi.exit("u1", "beta", account_id=v), False),
    "next_for(account_id)": (lambda pi, pr, v: pr.next_for("u1", account_id=v), None),
    "shown(account_id)": (lambda pi, pr, v: pr.shown("nps", "u1", account_id=v), False),
    "dismissed(account_id)": (lambda pi, pr, v: pr.dismissed("nps", "u1", account_id=v), None),
    "answered(user_id)": (lambda pi, pr, v: pr.answered("nps", v), None),  # None: the scope's
}


def odd_for(name: str, values: list[Any]) -> list[Any]:
    if name.endswith(("(user_id)", "(account_id)")):
        values = [value for value in values if type(value) is not int]  # 42 means "42"
    if name == "exit(reason)":
        values = [value for value in values if value != "x" * 300]  # reasons may be 1024 long
    return values


CASES = [
    (name, call, nothing, value)
    for calls, values in ((REQUIRED, ODD), (OPTIONAL, ODD_OPTIONAL))
    for name, (call, nothing) in calls.items()
    for value in odd_for(name, values)
]


def engines(strict: bool) -> tuple[Pilots, Prompts, WatchedStore, Recorder]:
    store, recorder = WatchedStore(), Recorder()
    prompts = Prompts(store, source=CONFIG, recorder=recorder, strict=strict)
    pilots = Pilots(store, recorder=recorder, strict=strict, on_change=prompts.invalidate)
    pilots.enroll("u1", "beta")  # so that exit() would have something to remove
    store.writes.clear()
    recorder.events.clear()
    return pilots, prompts, store, recorder


def case_id(case: tuple[str, Call, Any, Any]) -> str:
    name, _, _, value = case
    return f"{name}={value!r:.12}"


@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_an_odd_id_does_nothing_in_production_and_raises_only_when_strict(
    case: tuple[str, Call, Any, Any],
) -> None:
    _, call, nothing, value = case
    pilots, prompts, store, recorder = engines(strict=False)
    assert call(pilots, prompts, value) == nothing
    assert store.writes == [] and recorder.events == []
    pilots, prompts, store, recorder = engines(strict=True)
    with pytest.raises(InvalidEventError):
        call(pilots, prompts, value)
    assert store.writes == [] and recorder.events == []


@pytest.mark.parametrize("name", [*REQUIRED, *OPTIONAL])
def test_any_non_empty_string_is_a_valid_id(name: str) -> None:
    call, _ = {**REQUIRED, **OPTIONAL}[name]
    pilots, prompts, _, _ = engines(strict=True)
    call(pilots, prompts, VALID)  # does not raise


@settings(max_examples=200, deadline=None)
@given(
    name=st.sampled_from([*REQUIRED, *OPTIONAL]),
    value=st.one_of(
        st.none(),
        st.integers(),
        st.floats(),
        st.text(max_size=300),
        st.binary(max_size=8),
        st.lists(st.text(max_size=3), max_size=2),
        st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
    ),
)
def test_nothing_but_invalid_event_error_escapes(name: str, value: Any) -> None:
    call, _ = {**REQUIRED, **OPTIONAL}[name]
    pilots, prompts, _, _ = engines(strict=False)
    call(pilots, prompts, value)  # production: never raises
    pilots, prompts, _, _ = engines(strict=True)
    with contextlib.suppress(InvalidEventError):  # strict: that one, and only that one
        call(pilots, prompts, value)


def test_an_int_user_or_account_id_stands_for_its_digits() -> None:
    pilots, prompts, store, _ = engines(strict=True)
    assert pilots.enroll(42, "beta", account_id=7) is not None  # type: ignore[arg-type]
    assert pilots.of(42) == pilots.of("42") != []  # type: ignore[arg-type]
    assert prompts.next_for(42) is not None  # type: ignore[arg-type]
    assert prompts.shown("nps", 42, account_id=7)  # type: ignore[arg-type]
    assert store.history("42", "nps").shows == 1
    prompts.answered("nps", 42)  # type: ignore[arg-type]
    assert store.history("42", "nps").answered_at is not None
    assert pilots.exit(42, "beta")  # type: ignore[arg-type]
    assert pilots.of("42") == []


def test_a_strict_client_makes_prompts_strict_too() -> None:
    with cs_sdk.Client(environ={}, strict=True) as client:
        with pytest.raises(InvalidEventError, match="prompt_id"):
            client.prompts.shown("", "u1")
        with pytest.raises(InvalidEventError, match="user_id"):
            client.pilots.enroll(b"u1", "beta")  # type: ignore[arg-type]
    with cs_sdk.Client(environ={}) as client:
        assert client.prompts.shown("", "u1") is False
        assert client.prompts.dismissed("x" * 300, "u1") is None
        assert client.prompts._store.user_state("u1").history == {}  # nothing written
