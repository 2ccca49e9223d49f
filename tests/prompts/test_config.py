"""The configuration document: what is accepted, and errors naming file, path and problem."""

from __future__ import annotations

import datetime as dt
import importlib.util
import json
import sys
from pathlib import Path
from typing import Any

import pytest

from cs_sdk import PromptConfigError
from cs_sdk._prompts import PromptConfig, load_config, parse_config
from cs_sdk._prompts._config import format_of

EXAMPLE = Path(__file__).parents[2] / "examples" / "pilot_config.toml"
needs_tomllib = pytest.mark.skipif(
    sys.version_info < (3, 11) and importlib.util.find_spec("tomli") is None,
    reason="TOML needs tomllib (Python 3.11+) or tomli",
)

VALID: dict[str, Any] = {
    "pilots": [{"id": "beta", "cohorts": ["wave-1", "wave-2"]}],
    "prompts": [
        {"id": "nps", "kind": "nps", "question": "Recommend us?"},
        {"id": "csat", "kind": "csat", "question": "Happy?", "targeting": {"pilots": ["beta"]}},
    ],
}


def problems(document: dict[str, Any], source: str = "pilots.json") -> str:
    with pytest.raises(PromptConfigError) as caught:
        parse_config(json.dumps(document), source=source, fmt="json")
    return str(caught.value)


def with_prompt(**fields: Any) -> dict[str, Any]:
    prompt = {"id": "p", "kind": "nps", "question": "Recommend us?", **fields}
    return {"pilots": VALID["pilots"], "prompts": [VALID["prompts"][0], prompt]}


@needs_tomllib
def test_the_example_configuration_is_valid() -> None:
    config = load_config(EXAMPLE)
    assert [p.id for p in config.pilots] == ["new-dashboard", "ai-summaries"]
    assert [p.id for p in config.prompts] == [
        "nps-after-first-report", "ces-export", "thumbs-summaries", "csat-onboarding"
    ]  # fmt: skip
    dashboard = config.pilots[0]
    assert dashboard.start == dt.date(2026, 11, 2)
    assert dashboard.success is not None and dashboard.success.within_days == 14


@needs_tomllib
def test_toml_and_json_give_the_same_document() -> None:
    from_toml = load_config(EXAMPLE)
    as_json = from_toml.model_dump_json()
    assert parse_config(as_json, source="copy.json") == from_toml


def test_defaults_are_the_documented_ones() -> None:
    config = parse_config(json.dumps(VALID))
    assert config.throttle.global_wait_days == 3
    prompt = config.prompts[0]
    assert (prompt.enabled, prompt.priority, prompt.targeting.percentage) == (True, 0, 100)
    throttle = prompt.throttle
    assert (throttle.max_shows, throttle.stop_after_answer, throttle.dismiss_cooldown_days) == (
        1, True, 14
    )  # fmt: skip


def test_a_datetime_without_a_zone_is_read_as_utc() -> None:
    config = parse_config(json.dumps(with_prompt(active_from="2025-03-01T09:00:00")))
    assert config.prompts[1].active_from == dt.datetime(2025, 3, 1, 9, tzinfo=dt.timezone.utc)


def test_an_error_names_the_file_the_path_and_the_problem() -> None:
    document = VALID | {"prompts": [*VALID["prompts"], with_prompt()["prompts"][1]]}
    document["prompts"][2]["throttle"] = {"max_shows": 0}
    message = problems(document, source="/etc/app/pilots.json")
    assert message.splitlines() == [
        "/etc/app/pilots.json: invalid pilot/prompt configuration (1 problem)",
        "  prompts[2].throttle.max_shows: input should be greater than or equal to 1 (got 0)",
    ]


def test_every_problem_is_listed_at_once() -> None:
    message = problems({"prompts": [{"id": "a b", "kind": "survey", "throttle": {"max_show": 2}}]})
    assert "(4 problems)" in message
    assert "prompts[0].id: 'a b' is not a valid id" in message
    assert "prompts[0].kind: input should be 'nps', 'csat', 'ces'" in message
    assert "prompts[0].question: required field is missing" in message
    assert "prompts[0].throttle.max_show: unknown field; did you mean 'max_shows'?" in message


@pytest.mark.parametrize(
    ("document", "expected"),
    [
        (with_prompt(id="nps"), "prompts[1].id: duplicate prompt id 'nps'"),
        (
            with_prompt(targeting={"pilots": ["gamma"]}),
            "prompts[1].targeting.pilots[0]: unknown pilot 'gamma' (defined: beta)",
        ),
        (
            with_prompt(targeting={"pilots": ["beta"], "cohorts": ["wave-9"]}),
            "prompts[1].targeting.cohorts[0]: 'wave-9' is not a cohort of the targeted pilots "
            "(wave-1, wave-2)",
        ),
        (
            with_prompt(targeting={"cohorts": ["wave-1"]}),
            "prompts[1].targeting.cohorts: needs targeting.pilots as well",
        ),
        (
            with_prompt(targeting={"min_days_enrolled": 3}),
            "prompts[1].targeting.min_days_enrolled: needs targeting.pilots as well",
        ),
        (
            with_prompt(targeting={"percentage": 120}),
            "prompts[1].targeting.percentage: input should be less than or equal to 100 (got 120)",
        ),
        (
            with_prompt(active_from="2025-03-02", active_until="2025-03-01"),
            "prompts[1].active_until: must be after active_from",
        ),
        (
            {"pilots": [{"id": "beta"}, {"id": "beta"}]},
            "pilots[1].id: duplicate pilot id 'beta'",
        ),
        (
            {"pilots": [{"id": "beta", "start": "2025-03-01", "end": "2025-02-01"}]},
            "pilots[0].end: 2025-02-01 is before start 2025-03-01",
        ),
        (
            {"pilots": [{"id": "beta", "success": {"milestone": "x", "within_days": 0}}]},
            "pilots[0].success.within_days: input should be greater than 0 (got 0)",
        ),
        ({"version": 2}, "version: input should be 1 (got 2)"),
    ],
)
def test_cross_field_and_range_problems_are_explained(
    document: dict[str, Any], expected: str
) -> None:
    assert f"  {expected}" in problems(document).splitlines()


def test_syntax_errors_name_the_file_and_the_position(tmp_path: Path) -> None:
    broken = tmp_path / "pilots.json"
    broken.write_text('{"prompts": [\n  {"id": "nps",}\n]}')
    with pytest.raises(PromptConfigError, match=r"pilots\.json: not valid JSON: .*line 2"):
        load_config(broken)
    with pytest.raises(PromptConfigError, match="not valid TOML"):
        parse_config("[[prompts]\nid = 1", source="pilots.toml", fmt="toml")
    with pytest.raises(PromptConfigError, match="must be a table/object at the top level"):
        parse_config("[1, 2]", source="pilots.json", fmt="json")


def test_a_missing_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(PromptConfigError, match=r"missing\.toml: cannot read"):
        load_config(tmp_path / "missing.toml")


def test_yaml_without_pyyaml_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    import cs_sdk._prompts._config as module

    def missing(name: str) -> object:
        raise ImportError(name)

    monkeypatch.setattr(module.importlib, "import_module", missing)
    with pytest.raises(PromptConfigError, match=r"pilots\.yaml: YAML needs PyYAML.*cs-sdk\[yaml\]"):
        parse_config("prompts: []", source="pilots.yaml", fmt="yaml")


def test_toml_on_python_3_10_is_read_with_tomli(monkeypatch: pytest.MonkeyPatch) -> None:
    # Python 3.10 has no tomllib; tomli (its origin, same API) stands in for it.
    tomllib = pytest.importorskip("tomllib")
    monkeypatch.setitem(sys.modules, "tomllib", None)  # `import tomllib` now fails
    monkeypatch.setitem(sys.modules, "tomli", tomllib)
    assert parse_config("version = 1", source="pilots.toml", fmt="toml") == PromptConfig()
    with pytest.raises(PromptConfigError, match=r"pilots\.toml: not valid TOML"):
        parse_config("version = ", source="pilots.toml", fmt="toml")


def test_toml_without_tomllib_or_tomli_says_what_to_install(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "tomllib", None)
    monkeypatch.setitem(sys.modules, "tomli", None)
    with pytest.raises(PromptConfigError, match=r"pilots\.toml: TOML needs .*tomli.*as JSON"):
        parse_config("version = 1", source="pilots.toml", fmt="toml")


def test_the_format_comes_from_the_name_or_the_content_type() -> None:
    assert format_of("a/pilots.TOML") == "toml"
    assert format_of("https://cfg.example/p.json?v=2") == "json"
    assert format_of("p.yml") == format_of("p.yaml") == "yaml"
    assert format_of("/config", "application/toml; charset=utf-8") == "toml"
    assert format_of("/config", "text/plain") is None
    assert parse_config('{"version": 1}') == PromptConfig()  # JSON recognised by its brace
