"""Forgetting ``init()`` is said once, counted, and never reported as success."""

from __future__ import annotations

import logging

import pytest

import cs_sdk
from cs_sdk.collector import LocalCollector


def _sdk_lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "cs_sdk"]


def test_recording_before_init_warns_once_counts_and_flush_is_false(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.WARNING, logger="cs_sdk"):
        assert cs_sdk.milestone("first_report_created", user_id="u1") is None
        assert cs_sdk.outcome("renewal", account_id="acme", value=1.0) is None
        assert cs_sdk.feedback("nps", score=9, user_id="u1") is None
        assert cs_sdk.flush(timeout=1) is False
    (line,) = _sdk_lines(caplog)
    assert "cs_sdk.milestone() was called before cs_sdk.init()" in line
    assert "cs_sdk.init(service_name=..., endpoint=...)" in line
    stats = cs_sdk.stats()
    assert stats["recorded"] == 0 and stats["sent"] == 0
    assert stats["dropped"]["not_initialized"] >= 3  # the no-op client's counts are global


def test_enrolling_before_init_says_it_did_nothing(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="cs_sdk"):
        assert cs_sdk.pilots.enroll("u1", "new-dashboard", cohort="wave-1") is None
    (line,) = _sdk_lines(caplog)
    assert "cs_sdk.pilots.enroll() was called before cs_sdk.init()" in line
    assert cs_sdk.pilots.of("u1") == []


def test_asking_for_a_prompt_before_init_says_why_there_is_none(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.WARNING, logger="cs_sdk"):
        assert cs_sdk.prompts.next_for("u1") is None
        assert cs_sdk.prompts.shown("nps", "u1") is False
        cs_sdk.prompts.dismissed("nps", "u1")
    (line,) = _sdk_lines(caplog)
    assert "cs_sdk.prompts.next_for() was called before cs_sdk.init()" in line


def test_after_shutdown_the_same_answer(caplog: pytest.LogCaptureFixture) -> None:
    with LocalCollector() as collector:
        cs_sdk.init(service_name="t", endpoint=collector.endpoint)
        assert cs_sdk.flush(timeout=5) is True
        cs_sdk.shutdown(timeout=5)
    with caplog.at_level(logging.WARNING, logger="cs_sdk"):
        assert cs_sdk.milestone("late") is None
        assert cs_sdk.flush(timeout=1) is False
    assert len(_sdk_lines(caplog)) == 1


def test_strict_mode_without_a_client_comes_from_cs_sdk_strict(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("CS_SDK_STRICT", "true")
    with pytest.raises(cs_sdk.ConfigError, match=r"before cs_sdk\.init\(\)"):
        cs_sdk.milestone("first_report_created", user_id="u1")
    with pytest.raises(cs_sdk.ConfigError):
        cs_sdk.pilots.enroll("u1", "new-dashboard")
    # The same variable makes a client strict when strict= is not given.
    client = cs_sdk.Client(service_name="t", disabled=True)
    assert client.config.strict is True
    assert cs_sdk.Client(environ={"CS_SDK_STRICT": "false"}, disabled=True).config.strict is False


def test_a_disabled_client_enrols_nobody() -> None:
    client = cs_sdk.Client(environ={}, service_name="t", disabled=True)
    assert client.pilots.enroll("u1", "new-dashboard") is None
