"""Pilots and prompts calls take the ``identify()`` scope's user and account, as recording does."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

import cs_sdk
from cs_sdk.testing import CapturedEvents, CapturePipeline

CONFIG = {
    "pilots": [{"id": "beta"}],
    "prompts": [
        {
            "id": "nps-beta",
            "kind": "nps",
            "question": "Recommend us?",
            "targeting": {"pilots": ["beta"], "accounts": ["acme"]},
            "throttle": {"max_shows": "unlimited", "dismiss_cooldown_days": 0},
        }
    ],
    "throttle": {"global_wait_days": 0},
}


@pytest.fixture
def captured(tmp_path: Path) -> tuple[cs_sdk.Client, CapturedEvents]:
    path = tmp_path / "pilots.json"
    path.write_text(json.dumps(CONFIG))
    events = CapturedEvents()
    client = cs_sdk.Client(
        environ={},
        service_name="t",
        prompts=str(path),
        _pipeline_factory=lambda config, stats, chain: CapturePipeline(chain, events),
    )
    return client, events


def test_enroll_next_for_shown_and_dismissed_take_the_scope(
    captured: tuple[cs_sdk.Client, CapturedEvents], caplog: pytest.LogCaptureFixture
) -> None:
    client, events = captured
    scope = cs_sdk.identify(user_id="u1", account_id="acme")
    with caplog.at_level(logging.WARNING, logger="cs_sdk"), scope:
        membership = client.pilots.enroll(pilot_id="beta", cohort=None)
        assert membership is not None and membership.pilot == "beta"
        prompt = client.prompts.next_for()
        assert prompt is not None and prompt.id == "nps-beta"
        assert client.prompts.explain() == {"nps-beta": "eligible"}
        assert client.prompts.shown(prompt.id) is True
        client.prompts.dismissed(prompt.id)
    assert [p.pilot for p in client.pilots.of("u1")] == ["beta"]
    assert [(e.schema_name, e.user_id, e.account_id) for e in events] == [
        ("cs.pilot.enrolled", "u1", "acme"),
        ("cs.prompt.shown", "u1", "acme"),
        ("cs.prompt.dismissed", "u1", "acme"),
    ]
    problems = [r for r in caplog.records if "state='memory'" not in r.getMessage()]
    assert problems == []
    client.shutdown()


def test_an_explicit_user_wins_over_the_scope(
    captured: tuple[cs_sdk.Client, CapturedEvents],
) -> None:
    client, _ = captured
    client.pilots.enroll("u2", "beta", account_id="acme")
    with cs_sdk.identify(user_id="u1", account_id="acme"):
        assert client.prompts.next_for() is None  # u1 is in no pilot
        prompt = client.prompts.next_for("u2")
    assert prompt is not None
    client.shutdown()


def test_without_a_user_anywhere_the_call_does_nothing_and_says_why(
    captured: tuple[cs_sdk.Client, CapturedEvents], caplog: pytest.LogCaptureFixture
) -> None:
    client, events = captured
    with caplog.at_level(logging.WARNING, logger="cs_sdk"):
        assert client.prompts.next_for() is None
        assert client.prompts.shown("nps-beta") is False
        assert client.pilots.enroll(pilot_id="beta") is None
    assert "user_id" in caplog.text and events == []
    client.shutdown()
