"""The first hour, as a newcomer lives it, in real processes: the README quickstart, a client
pointed at the URL ``cs-sdk collector`` prints, a script that forgets ``init()`` and one that
makes the usual mistakes. Each mistake gives exactly one clear line; ``flush()`` and
``stats()`` tell the truth."""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from _processes import CliProcess

from cs_sdk.collector import SqliteStore

ROOT = Path(__file__).parents[2]
HANG_GUARD = 120.0  # seconds: far above the few seconds each script takes

FORGETS_INIT = """
import json
import cs_sdk

cs_sdk.milestone("first_report_created", user_id="u1")
cs_sdk.feedback("nps", score=9, user_id="u1")
membership = cs_sdk.pilots.enroll("u1", "new-dashboard")
delivered = cs_sdk.flush(timeout=2)
stats = cs_sdk.stats()
print(json.dumps({"enroll": membership, "flush": delivered, "recorded": stats["recorded"],
                  "sent": stats["sent"], "refused": stats["dropped"]["not_initialized"]}))
"""

MAKES_MISTAKES = """
import json, logging, sys
logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
import cs_sdk

url, prompts, state = sys.argv[1:4]
try:
    cs_sdk.init(service_name="first-hour", endpoint=url.split("://", 1)[1])  # no scheme
except cs_sdk.ConfigError as error:
    print(json.dumps({"config_error": str(error)}))
cs_sdk.init(service_name="first-hour", endpoint=url, prompts=prompts, state=state)
with cs_sdk.identify(user_id="u1", account_id="acme"):
    cs_sdk.milestone("first_report_created")
    prompt = cs_sdk.prompts.next_for()
    shown = prompt is not None and cs_sdk.prompts.shown(prompt.id)
    cs_sdk.feedback("csat", score=4, prompt_id="nps-after-first-report")  # not the prompt's kind
    cs_sdk.feedback("nps", score=9, comment="slow " * 20000, prompt_id="nps-after-first-report")
delivered = cs_sdk.flush(timeout=10)
stats = cs_sdk.stats()
cs_sdk.shutdown(timeout=5)
print(json.dumps({"prompt": prompt and prompt.id, "shown": shown, "flush": delivered,
                  "recorded": stats["recorded"], "sent": stats["sent"],
                  "dropped": stats["dropped_total"], "warnings": stats["warnings"]}))
"""

PROMPTS = {
    "throttle": {"global_wait_days": 0},
    "prompts": [
        {
            "id": "nps-after-first-report",
            "kind": "nps",
            "question": "How likely are you to recommend us?",
            "targeting": {"milestones": ["first_report_created"]},
        }
    ],
}


def run(script: Path, *args: str) -> tuple[dict[str, Any], list[str], list[str]]:
    """Run ``script``; (its last JSON line, its other stdout lines, its stderr lines)."""
    done = subprocess.run(
        [sys.executable, str(script), *args],
        capture_output=True,
        text=True,
        timeout=HANG_GUARD,
        cwd=script.parent,
    )
    assert done.returncode == 0, done.stderr
    *others, last = done.stdout.splitlines()
    return json.loads(last), others, done.stderr.splitlines()


@pytest.fixture
def collector(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """``cs-sdk collector`` as a developer starts it; the URL it prints and its database."""
    db = tmp_path / "events.db"
    process = CliProcess("collector", "--port", "0", "--db", str(db), timeout=HANG_GUARD)
    try:
        printed = process.next_line()
        found = re.search(r"http://127\.0\.0\.1:\d+\S*", printed)
        assert found, printed
        yield found.group(0), db
        code, _, stderr = process.finish(signal.SIGTERM)
        assert code == 0, stderr
    finally:
        process.kill()


def test_the_readme_quickstart_runs_quietly_and_delivers() -> None:
    done = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "quickstart.py")],
        capture_output=True,
        text=True,
        timeout=HANG_GUARD,
    )
    assert done.returncode == 0, done.stderr
    assert "delivered: True" in done.stdout
    assert done.stderr == ""  # no warning for a newcomer who did everything right


def test_forgetting_init_says_so_once_and_flush_and_stats_tell_the_truth(tmp_path: Path) -> None:
    script = tmp_path / "forgets_init.py"
    script.write_text(FORGETS_INIT)
    result, _, stderr = run(script)
    # No logging configured: Python's last-resort handler shows the SDK's one line.
    (line,) = stderr
    assert "cs_sdk.milestone() was called before cs_sdk.init()" in line
    assert "Call cs_sdk.init(service_name=..., endpoint=...)" in line
    assert result == {"enroll": None, "flush": False, "recorded": 0, "sent": 0, "refused": 3}


def test_a_client_pointed_at_the_printed_url_and_every_mistake_one_line(
    tmp_path: Path, collector: tuple[str, Path]
) -> None:
    url, db = collector
    (tmp_path / "pilots.json").write_text(json.dumps(PROMPTS))
    script = tmp_path / "makes_mistakes.py"
    script.write_text(textwrap.dedent(MAKES_MISTAKES))
    state = f"sqlite:///{tmp_path / 'state.db'}"
    result, others, stderr = run(script, url, "pilots.json", state)

    (config_error,) = [json.loads(line)["config_error"] for line in others]
    given = url.split("://", 1)[1]
    assert f"got {given!r}" in config_error and f"did you mean 'http://{given}'" in config_error

    # The application logs at INFO: one line per mistake from cs_sdk, none from httpx.
    assert [line for line in stderr if line.startswith("INFO httpx")] == []
    sdk_lines = [line for line in stderr if line.startswith("WARNING cs_sdk")]
    assert len(sdk_lines) == 2, stderr
    assert "feedback kind 'csat' does not match prompt 'nps-after-first-report'" in sdk_lines[0]
    assert "was cut to 65536" in sdk_lines[1] and "score is kept" in sdk_lines[1]

    assert result["prompt"] == "nps-after-first-report"  # the milestone counted at once
    assert result["shown"] is True
    assert result["flush"] is True
    assert (result["recorded"], result["sent"], result["dropped"]) == (4, 4, 0)
    assert result["warnings"] == {
        "comment_truncated": 1,
        "feedback_kind_mismatch": 1,
        "unknown_prompt": 0,
    }
    store = SqliteStore(db)
    try:
        names = sorted(row["name"] for row in store.rows())
    finally:
        store.close()
    assert names == ["csat", "first_report_created", "nps", "nps-after-first-report"]
