"""Through a real client: events of enrolled users carry their pilots, and the history step
remembers milestones and answers for the prompt rules."""

from __future__ import annotations

import json
import logging
import os
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import cs_sdk
from cs_sdk import ConfigError, PromptConfigError
from cs_sdk.events._builtin import Feedback, Milestone
from cs_sdk.state import Membership, MemoryStore
from cs_sdk.testing import capture

CONFIG = {
    "throttle": {"global_wait_days": 0},
    "pilots": [
        {"id": "beta", "cohorts": ["wave-1"], "success": {"milestone": "won", "within_days": 7}}
    ],
    "prompts": [
        {
            "id": "nps",
            "kind": "nps",
            "question": "Recommend us?",
            "targeting": {"pilots": ["beta"], "milestones": ["first_report"]},
        }
    ],
}


@pytest.fixture
def config_path(tmp_path: Path) -> Path:
    path = tmp_path / "pilots.json"
    path.write_text(json.dumps(CONFIG))
    return path


@pytest.fixture
def make_client() -> Iterator[Any]:
    clients: list[cs_sdk.Client] = []

    def make(**options: Any) -> cs_sdk.Client:
        options.setdefault("endpoint", "http://127.0.0.1:9")  # never the default :4318
        client = cs_sdk.Client(environ={}, service_name="test", **options)
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.shutdown(timeout=1.0)


def test_events_of_an_enrolled_user_carry_pilots_and_cohorts(make_client: Any) -> None:
    client = make_client()
    with capture(client) as events:
        client.pilots.enroll("u1", "beta", cohort="wave-1", account_id="acme")
        client.pilots.enroll("u1", "gamma")
        client.milestone("first_report", user_id="u1")
        client.milestone("first_report", user_id="u2")
        client.pilots.exit("u1", "beta", reason="finished")
        client.milestone("after_exit", user_id="u1")
    enrolled, _, tagged, untagged, exited, after = events
    assert (enrolled.schema_name, enrolled.name, enrolled.account_id) == (
        "cs.pilot.enrolled", "beta", "acme"
    )  # fmt: skip
    assert enrolled.attributes["cs.pilot.cohort"] == "wave-1"
    assert tagged.pilots == {"beta": "wave-1", "gamma": None}
    assert tagged.attributes["cs.pilot.ids"] == ["beta", "gamma"]
    assert tagged.attributes["cs.pilot.cohorts"] == ["wave-1", ""]
    assert untagged.pilots == {} and "cs.pilot.ids" not in untagged.attributes
    assert exited.schema_name == "cs.pilot.exited"
    assert exited.attributes["cs.pilot.exit_reason"] == "finished"
    assert after.pilots == {"gamma": None}
    (membership,) = client.pilots.of("u1")
    assert membership == Membership("gamma", None, membership.enrolled_at)


def test_the_identify_scope_user_is_tagged(make_client: Any) -> None:
    client = make_client()
    client.pilots.enroll("u1", "beta")
    with capture(client) as events, cs_sdk.identify(user_id="u1"):
        client.feedback("thumbs", score=1)
    assert events[0].pilots == {"beta": None}


def test_an_int_user_id_is_the_same_user_for_pilots_and_events(make_client: Any) -> None:
    client = make_client()
    client.pilots.enroll(42, "beta")  # e.g. request.user.pk
    with capture(client) as events:
        client.milestone("first_report", user_id=42)
    assert events[0].user_id == "42" and events[0].pilots == {"beta": None}


def test_a_prompt_round_trip_through_the_client(make_client: Any, config_path: Path) -> None:
    client = make_client(prompts=str(config_path))
    with capture(client) as events:
        client.pilots.enroll("u1", "beta")
        assert client.prompts.next_for("u1") is None  # milestone not reached yet
        client.milestone("first_report", user_id="u1")
        prompt = client.prompts.next_for("u1")
        assert prompt is not None and prompt.pilot == "beta"
        assert client.prompts.shown(prompt.id, "u1")
        client.prompts.dismissed(prompt.id, "u1")
        client.feedback(prompt.kind, score=9, user_id="u1", prompt_id=prompt.id)
    assert events.names() == ["beta", "first_report", "nps", "nps", "nps"]
    shown, dismissed, answer = events[2:]
    assert (shown.schema_name, shown.attributes["cs.feedback.kind"]) == ("cs.prompt.shown", "nps")
    assert dismissed.schema_name == "cs.prompt.dismissed"
    assert answer.attributes["cs.prompt.id"] == "nps" and answer.pilots == {"beta": None}
    assert client.prompts.explain("u1") == {"nps": "max_shows"}


def test_the_history_step_remembers_watched_milestones_and_answers(
    make_client: Any, config_path: Path
) -> None:
    client = make_client(prompts=str(config_path))
    store = client.prompts._store  # the memory store attach() opened
    with capture(client):
        client.milestone("first_report", user_id="u1")
        client.milestone("first_report", user_id="u1")
        client.track(Milestone(name="won"), user_id="u1")
        client.milestone("not_watched", user_id="u1")
        client.milestone("first_report")  # no user: nothing to remember
        client.track(Feedback(kind="nps", score=3, prompt_id="nps"), user_id="u1")
        client.feedback("csat", score=4, user_id="u1")  # not an answer to a prompt
    assert store.milestones("u1") == {"first_report", "won"}
    assert store.history("u1", "nps").answered_at is not None
    assert dict(store.user_state("u1").history).keys() == {"nps"}


def test_steps_never_drop_events_even_when_the_store_fails(
    make_client: Any, config_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    class Down(MemoryStore):
        def __getattribute__(self, name: str) -> Any:
            if name.startswith("_") or name == "close":
                return super().__getattribute__(name)
            raise ConnectionError("down")

    client = make_client(prompts=str(config_path))
    for step in client.processors._steps:
        if step.name == "prompt_history":
            step.process._store = Down()  # type: ignore[attr-defined]
    client.pilots._store = Down()
    with caplog.at_level(logging.WARNING, logger="cs_sdk"), capture(client) as events:
        client.milestone("first_report", user_id="u1")
        client.feedback("nps", score=9, user_id="u1", prompt_id="nps")
    assert len(events) == 2
    assert client.stats()["dropped_total"] == 0
    assert "remembering a milestone or answer failed" in caplog.text


def test_pilot_steps_run_before_redaction_and_before_send(make_client: Any) -> None:
    client = make_client(before_send=lambda event: event)
    names = [step.name for step in client.processors._steps]
    assert names.index("pilots") < names.index("prompt_history") < names.index("before_send")
    # The whole order, written once in Client.__init__.
    assert names == [
        "opt_out", "typed", "pilots", "prompt_history", "redact_pii", "before_send"
    ]  # fmt: skip


def attach_to(**options: Any) -> None:
    cs_sdk.Client(environ={}, **options).shutdown(timeout=1.0)  # a bad option raises here


def test_state_and_prompts_options_are_validated(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not a state store URL"):
        attach_to(state="mysql://x")
    broken = tmp_path / "broken.json"
    broken.write_text('{"prompts": [{"id": "x"}]}')
    with pytest.raises(PromptConfigError, match=r"(?s)broken\.json.*prompts\[0\]\.kind"):
        attach_to(prompts=str(broken))


def test_sqlite_state_is_closed_at_shutdown(make_client: Any, tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    client = make_client(state=f"sqlite:///{path}")
    client.pilots.enroll("u1", "beta")
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    store = client.pilots._store
    client.shutdown()
    with pytest.raises(Exception, match="closed"):
        store.memberships("u1")


def test_a_disabled_client_gets_noop_pilots_and_prompts(make_client: Any) -> None:
    client = make_client(disabled=True)
    assert client.pilots.enroll("u1", "beta") is None  # nothing stored: no membership
    assert client.pilots.of("u1") == []
    assert client.prompts.next_for("u1") is None
