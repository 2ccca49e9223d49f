"""Feedback that does not match its prompt is said and counted; a long comment keeps its score."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

import cs_sdk
from cs_sdk._validate import MAX_STRING_LENGTH
from cs_sdk.testing import CapturedEvents, CapturePipeline

CONFIG = {"prompts": [{"id": "nps-after-first-report", "kind": "nps", "question": "?"}]}


def make(tmp_path: Path, **options: object) -> tuple[cs_sdk.Client, CapturedEvents]:
    path = tmp_path / "pilots.json"
    path.write_text(json.dumps(CONFIG))
    events = CapturedEvents()
    client = cs_sdk.Client(
        environ={},
        service_name="t",
        prompts=str(path),
        _pipeline_factory=lambda config, stats, chain: CapturePipeline(chain, events),
        **options,  # type: ignore[arg-type]
    )
    return client, events


def _lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if "state='memory'" not in r.getMessage()]


def test_a_kind_other_than_the_prompts_is_recorded_warned_once_and_counted(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    client, events = make(tmp_path)
    with caplog.at_level(logging.WARNING, logger="cs_sdk"):
        for _ in range(3):
            client.feedback("csat", score=4, user_id="u1", prompt_id="nps-after-first-report")
        client.feedback("nps", score=9, user_id="u2", prompt_id="nps-after-first-report")
    (line,) = _lines(caplog)
    assert "'csat'" in line and "'nps-after-first-report'" in line and "'nps'" in line
    assert len(events) == 4  # the customer's answer is kept
    assert client.stats()["warnings"]["feedback_kind_mismatch"] == 3
    client.shutdown()


def test_an_unknown_prompt_id_is_recorded_warned_and_counted(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    client, events = make(tmp_path)
    with caplog.at_level(logging.WARNING, logger="cs_sdk"):
        client.feedback("nps", score=9, user_id="u1", prompt_id="nps-after-first-reprot")
    (line,) = _lines(caplog)
    assert "'nps-after-first-reprot'" in line and "nps-after-first-report" in line
    assert len(events) == 1
    assert client.stats()["warnings"]["unknown_prompt"] == 1
    client.shutdown()


def test_without_a_configuration_no_prompt_id_is_questioned() -> None:
    events = CapturedEvents()
    client = cs_sdk.Client(
        environ={},
        _pipeline_factory=lambda config, stats, chain: CapturePipeline(chain, events),
    )
    client.feedback("csat", score=4, user_id="u1", prompt_id="anything")
    assert client.stats()["warnings"] == dict.fromkeys(client.stats()["warnings"], 0)
    client.shutdown()


def test_strict_mode_raises_on_a_mismatch(tmp_path: Path) -> None:
    client, events = make(tmp_path, strict=True)
    with pytest.raises(cs_sdk.InvalidEventError, match="kind: feedback kind 'csat'"):
        client.feedback("csat", score=4, user_id="u1", prompt_id="nps-after-first-report")
    with pytest.raises(cs_sdk.InvalidEventError, match="prompt_id: prompt_id 'nope'"):
        client.feedback("nps", score=4, user_id="u1", prompt_id="nope")
    assert events == []
    client.shutdown()


def test_a_comment_over_the_limit_keeps_the_score_and_is_cut_with_a_marker(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    client, events = make(tmp_path, redact_pii=False)
    comment = "slow " * (MAX_STRING_LENGTH // 4)
    with caplog.at_level(logging.WARNING, logger="cs_sdk"):
        event_id = client.feedback("nps", score=3, comment=comment, user_id="u1")
    assert event_id is not None
    (event,) = events
    assert event.score == 3
    assert event.comment is not None and len(event.comment) == MAX_STRING_LENGTH
    assert event.comment.startswith("slow slow") and event.comment.endswith("truncated by cs_sdk]")
    assert client.stats()["warnings"]["comment_truncated"] == 1
    assert client.stats()["dropped_total"] == 0
    (line,) = _lines(caplog)
    assert "cut" in line and "score is kept" in line
    client.shutdown()
