"""docs/pilots.md stays true: its example is the shipped one, its samples run, its error
message is the real one."""

from __future__ import annotations

import ast
import datetime as _dt
import importlib.util
import re
import shutil
import sys
from pathlib import Path
from typing import Any

import pytest

import cs_sdk
from cs_sdk import PromptConfigError
from cs_sdk._pilots import _pilots as _pilots_module
from cs_sdk._prompts import _engine, parse_config
from cs_sdk.testing import CapturedEvents, CapturePipeline

ROOT = Path(__file__).parents[2]
GUIDE = (ROOT / "docs" / "pilots.md").read_text()
EXAMPLE = ROOT / "examples" / "pilot_config.toml"
SAMPLE_DAY = _dt.datetime(2026, 12, 3, 12, 0, tzinfo=_dt.timezone.utc)  # both pilots run

pytestmark = pytest.mark.skipif(
    sys.version_info < (3, 11) and importlib.util.find_spec("tomli") is None,
    reason="TOML needs Python 3.11+ or tomli",
)


def blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", GUIDE, flags=re.DOTALL)


def test_the_guide_shows_the_complete_example_configuration() -> None:
    assert blocks("toml") == [EXAMPLE.read_text()]


def test_the_error_message_in_the_guide_is_the_real_one() -> None:
    text = EXAMPLE.read_text()
    text = text.replace('kind = "nps"', 'kind = "nsp"', 1)
    text = text.replace("max_shows = 5", "max_shows = 0", 1)
    with pytest.raises(PromptConfigError) as caught:
        parse_config(text, source="pilots.toml", fmt="toml")
    assert blocks("text") == [str(caught.value) + "\n"]


class _Facade:
    """Stands in for the ``cs_sdk.pilots`` / ``cs_sdk.prompts`` proxies if not wired yet."""

    def __init__(self, name: str) -> None:
        self._name = name

    def __getattr__(self, attribute: str) -> Any:
        client = cs_sdk.get_client()
        assert client is not None
        return getattr(getattr(client, self._name), attribute)


def test_the_guides_python_samples_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    shutil.copy(EXAMPLE, tmp_path / "pilots.toml")
    monkeypatch.chdir(tmp_path)
    events = CapturedEvents()
    real_init = cs_sdk.init

    def init(**options: Any) -> cs_sdk.Client:
        # The samples' events are captured instead of sent to a collector.
        return real_init(
            _pipeline_factory=lambda config, stats, chain: CapturePipeline(chain, events),
            **options,
        )

    monkeypatch.setattr(cs_sdk, "init", init)
    # The explain() sample's answer depends on the day (pilot dates, active windows).
    monkeypatch.setattr(_engine, "utc_now", lambda: SAMPLE_DAY)
    monkeypatch.setattr(_pilots_module, "utc_now", lambda: SAMPLE_DAY)
    for name in ("pilots", "prompts"):
        if not hasattr(cs_sdk, name):
            monkeypatch.setattr(cs_sdk, name, _Facade(name), raising=False)
    namespace: dict[str, Any] = {}
    *setup, explain_sample = blocks("python")
    for code in setup:
        exec(compile(code, "docs/pilots.md", "exec"), namespace)
    # The explain() sample: its last line's value is the dict its comment shows.
    code, _, comment = explain_sample.partition("\n# ")
    *statements, last = code.strip().splitlines()
    exec(compile("\n".join(statements), "docs/pilots.md", "exec"), namespace)
    shown = eval(compile(last, "docs/pilots.md", "eval"), namespace)
    assert shown == ast.literal_eval(comment.replace("\n# ", " "))
    assert events.named("new-dashboard")[0].schema_name == "cs.pilot.enrolled"
    assert events.named("first_report_created")[0].pilots == {"new-dashboard": "wave-1"}
    assert (tmp_path / "cs_state.db").exists()
    assert set(cs_sdk.prompts.explain("u1")) == {
        "nps-after-first-report", "ces-export", "thumbs-summaries", "csat-onboarding"
    }  # fmt: skip
