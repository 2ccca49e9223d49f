"""A milestone makes its prompt available at once, in production as under ``capture()``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import cs_sdk
from cs_sdk.collector import LocalCollector
from cs_sdk.testing import capture

CONFIG = {
    "throttle": {"global_wait_days": 0},
    "prompts": [
        {
            "id": "nps-after-first-report",
            "kind": "nps",
            "question": "Recommend us?",
            "targeting": {"milestones": ["first_report_created"]},
        }
    ],
}


@pytest.fixture
def prompts_file(tmp_path: Path) -> str:
    path = tmp_path / "pilots.json"
    path.write_text(json.dumps(CONFIG))
    return str(path)


@pytest.mark.parametrize("speedups", [True, False])
def test_next_for_sees_a_milestone_recorded_the_moment_before(
    prompts_file: str, speedups: bool
) -> None:
    with LocalCollector() as collector:
        client = cs_sdk.Client(
            environ={},
            service_name="t",
            endpoint=collector.endpoint,
            prompts=prompts_file,
            state="memory",
            schedule_delay=60.0,  # the worker would write the milestone a minute from now
            speedups=speedups,
        )
        try:
            assert client.prompts.next_for("u1") is None
            client.milestone("first_report_created", user_id="u1", properties={"pages": 3})
            prompt = client.prompts.next_for("u1")
            assert prompt is not None and prompt.id == "nps-after-first-report"
            assert client.prompts.next_for("u2") is None  # only the user who reached it
            with cs_sdk.identify(user_id="u3"):
                client.milestone("first_report_created")
            assert client.prompts.next_for("u3") is not None
            # Unwatched milestones stay on the fast path and change nothing.
            client.milestone("page_viewed", user_id="u2")
            assert client.prompts.next_for("u2") is None
            assert client.flush(timeout=10)
        finally:
            client.shutdown(timeout=5)
        assert len(collector.records) == 3


def test_capture_and_production_agree(prompts_file: str) -> None:
    client = cs_sdk.Client(
        environ={}, service_name="t", endpoint="http://127.0.0.1:9", prompts=prompts_file
    )
    with capture(client):
        client.milestone("first_report_created", user_id="u1")
        under_capture = client.prompts.next_for("u1")
    client.milestone("first_report_created", user_id="u2")
    in_production = client.prompts.next_for("u2")
    client.shutdown(timeout=1)
    assert under_capture is not None and in_production is not None
    assert under_capture.id == in_production.id
