"""Fixtures for the integration tests: a prompt configuration every user qualifies for."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

PROMPTS = {
    "version": 1,
    "throttle": {"global_wait_days": 0},
    "prompts": [
        {
            "id": "nps-dashboard",
            "kind": "nps",
            "question": "How likely are you to recommend the new dashboard?",
            "area": "reports",
            "priority": 10,
        },
        {"id": "thumbs-export", "kind": "thumbs", "question": "Was the export useful?"},
    ],
}


@pytest.fixture
def prompts_file(tmp_path: Path) -> str:
    path = tmp_path / "prompts.json"
    path.write_text(json.dumps(PROMPTS))
    return str(path)
