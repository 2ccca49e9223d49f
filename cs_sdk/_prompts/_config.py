"""The pilot/prompt configuration document: loading, parsing and clear errors.

A pilot manager writes it (TOML or JSON; YAML with the ``yaml`` extra) and the SDK loads it
from the ``prompts=`` option. A mistake becomes one :class:`~cs_sdk.PromptConfigError` that
lists every problem with the file, the path in the document and what is wrong::

    pilots.toml: invalid pilot/prompt configuration (1 problem)
      prompts[2].throttle.max_shows: input should be greater than or equal to 1 (got 0)

    >>> config = parse_config('{"pilots": [{"id": "beta"}]}', source="inline.json")
    >>> config.pilots[0].id
    'beta'

The models themselves are in ``_document.py`` (re-exported here).
"""

from __future__ import annotations

import difflib
import importlib
import json
import typing
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from .._errors import PromptConfigError

# The models live in ._document; they are re-exported here, where their users import them.
from ._document import (
    MAX_DOCUMENT_BYTES,
    Format,
    GlobalThrottle,
    PilotSpec,
    PromptConfig,
    PromptSpec,
    RoutingSpec,
    SuccessMetric,
    Targeting,
    TeamSpec,
    Throttle,
)

__all__ = [
    "GlobalThrottle",
    "PilotSpec",
    "PromptConfig",
    "PromptSpec",
    "RoutingSpec",
    "SuccessMetric",
    "Targeting",
    "TeamSpec",
    "Throttle",
    "format_of",
    "load_config",
    "parse_config",
]


def format_of(name: str, content_type: str | None = None) -> Format | None:
    """The format a file name or HTTP content type announces, or ``None`` when neither does."""
    lowered = name.lower().split("?", 1)[0]
    for suffix, fmt in ((".json", "json"), (".toml", "toml"), (".yaml", "yaml"), (".yml", "yaml")):
        if lowered.endswith(suffix):
            return fmt  # type: ignore[return-value]
    media = (content_type or "").split(";", 1)[0].strip().lower()
    for marker, fmt in (("json", "json"), ("toml", "toml"), ("yaml", "yaml")):
        if marker in media:
            return fmt  # type: ignore[return-value]
    return None


def load_config(path: str | Path) -> PromptConfig:
    """Read and validate the document at ``path`` (format from the file name).

    Raises:
        PromptConfigError: the file cannot be read, parsed or validated.
    """
    try:
        with open(path, "rb") as file:
            # At most the limit and one byte more: a huge file is refused, never read whole.
            data = file.read(MAX_DOCUMENT_BYTES + 1)
    except OSError as error:
        raise PromptConfigError(f"{path}: cannot read the configuration: {error}") from None
    if len(data) > MAX_DOCUMENT_BYTES:
        raise PromptConfigError(
            f"{path}: the configuration is larger than {MAX_DOCUMENT_BYTES} bytes"
        )
    return parse_config(data, source=str(path), fmt=format_of(str(path)))


def parse_config(
    data: str | bytes, *, source: str = "<configuration>", fmt: Format | None = None
) -> PromptConfig:
    """Parse and validate a document. Without ``fmt``, JSON is tried when it looks like JSON.

    Raises:
        PromptConfigError: naming ``source``, the path in the document and each problem.
    """
    try:
        text = data.decode("utf-8-sig") if isinstance(data, bytes) else data
    except UnicodeDecodeError as error:
        raise PromptConfigError(
            f"{source}: not valid UTF-8 (byte {error.start}: {error.reason})"
        ) from None
    if fmt is None:
        fmt = "json" if text.lstrip().startswith("{") else "toml"
    try:
        raw = _decode(text, source, fmt)
    except RecursionError:
        # json, tomllib and PyYAML all recurse per level: 10^5 nested "[" is an attack.
        raise PromptConfigError(f"{source}: the document is nested too deeply") from None
    if not isinstance(raw, dict):
        raise PromptConfigError(f"{source}: the document must be a table/object at the top level")
    try:
        config = PromptConfig.model_validate(raw)
    except ValidationError as error:
        raise _config_error(source, [_describe(e) for e in error.errors()]) from None
    problems = cross_check(config)
    if problems:
        raise _config_error(source, problems)
    return config


def _decode(text: str, source: str, fmt: Format) -> Any:
    if fmt == "json":
        try:
            return json.loads(text)
        except json.JSONDecodeError as error:
            raise PromptConfigError(f"{source}: not valid JSON: {error}") from None
    if fmt == "toml":
        return _decode_toml(text, source)
    try:
        yaml = importlib.import_module("yaml")
    except ImportError:
        raise PromptConfigError(
            f"{source}: YAML needs PyYAML: pip install 'cs-sdk[yaml]' (or use TOML or JSON)"
        ) from None
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise PromptConfigError(f"{source}: not valid YAML: {error}") from None


def _toml_module() -> Any:
    # tomllib from Python 3.11; tomli, its origin with the same API, on 3.10 (a dependency
    # there). Imported by name so mypy, which checks against 3.10, needs neither.
    for name in ("tomllib", "tomli"):
        try:
            return importlib.import_module(name)
        except ImportError:
            continue
    return None


def _decode_toml(text: str, source: str) -> Any:
    toml = _toml_module()
    if toml is None:
        raise PromptConfigError(
            f"{source}: TOML needs Python 3.11 or later, or the tomli package on Python 3.10 "
            "(pip install tomli); or write the configuration as JSON"
        )
    try:
        return toml.loads(text)
    except toml.TOMLDecodeError as error:
        raise PromptConfigError(f"{source}: not valid TOML: {error}") from None


def _config_error(source: str, problems: Sequence[tuple[str, str]]) -> PromptConfigError:
    count = f"{len(problems)} problem{'s' if len(problems) != 1 else ''}"
    lines = [f"  {path}: {message}" for path, message in problems]
    return PromptConfigError(
        f"{source}: invalid pilot/prompt configuration ({count})\n" + "\n".join(lines)
    )


def path_of(loc: Iterable[int | str]) -> str:
    """``("prompts", 2, "throttle", "max_shows")`` -> ``"prompts[2].throttle.max_shows"``."""
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "(document)"


def _all_field_names() -> list[str]:
    models: list[type[BaseModel]] = [
        PromptConfig, GlobalThrottle, PilotSpec, SuccessMetric, PromptSpec, Targeting, Throttle,
        TeamSpec, RoutingSpec,
    ]  # fmt: skip
    return sorted({name for model in models for name in model.model_fields})


def _model_in(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in typing.get_args(annotation):
        found = _model_in(arg)
        if found is not None:
            return found
    return None


def _fields_at(loc: Sequence[int | str]) -> list[str]:
    """The field names of the model at ``loc`` in the document (for suggestions), so that
    ``teams[0].areaz`` suggests ``areas`` (a team's field), not ``area`` (a prompt's)."""
    model: type[BaseModel] | None = PromptConfig
    for part in loc:
        if isinstance(part, int):
            continue
        info = model.model_fields.get(part) if model else None
        model = _model_in(info.annotation) if info else None
        if model is None:
            return []
    return list(model.model_fields) if model else []


def _describe(error: Any) -> tuple[str, str]:
    loc = error["loc"]
    kind = error["type"]
    if kind == "extra_forbidden":
        field = str(loc[-1]) if loc else ""
        close = difflib.get_close_matches(field, _fields_at(loc[:-1]), n=1)
        close = close or difflib.get_close_matches(field, _all_field_names(), n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        return path_of(loc), f"unknown field{hint}"
    if kind == "missing":
        return path_of(loc), "required field is missing"
    message = str(error["msg"])
    message = message[:1].lower() + message[1:]
    value = error.get("input")
    if isinstance(value, str | int | float | bool) and kind != "string_pattern_mismatch":
        message += f" (got {value!r})"
    elif kind == "string_pattern_mismatch":
        message = (
            f"{value!r} is not a valid id: use letters, digits, '_', '.', ':' and '-', "
            "starting with a letter or digit"
        )
    return path_of(loc), message


def cross_check(config: PromptConfig) -> list[tuple[str, str]]:
    """Rules that span fields: unique ids, references to pilots and cohorts, date order."""
    problems: list[tuple[str, str]] = []
    pilots: dict[str, PilotSpec] = {}
    for i, pilot in enumerate(config.pilots):
        if pilot.id in pilots:
            problems.append((f"pilots[{i}].id", f"duplicate pilot id {pilot.id!r}"))
        pilots.setdefault(pilot.id, pilot)
        if len(set(pilot.cohorts)) != len(pilot.cohorts):
            problems.append((f"pilots[{i}].cohorts", "cohort ids must be unique"))
        if pilot.start and pilot.end and pilot.end < pilot.start:
            problems.append((f"pilots[{i}].end", f"{pilot.end} is before start {pilot.start}"))
        problems.extend(_check_path(f"pilots[{i}]", pilot))
    problems.extend(_check_teams(config))
    known = f"defined: {', '.join(pilots)}" if pilots else "no pilots are defined"
    seen: set[str] = set()
    for i, prompt in enumerate(config.prompts):
        where = f"prompts[{i}]"
        if prompt.id in seen:
            problems.append((f"{where}.id", f"duplicate prompt id {prompt.id!r}"))
        seen.add(prompt.id)
        if prompt.active_from and prompt.active_until and prompt.active_until <= prompt.active_from:
            problems.append((f"{where}.active_until", "must be after active_from"))
        targeting = prompt.targeting
        for j, pilot_id in enumerate(targeting.pilots):
            if pilot_id not in pilots:
                problems.append(
                    (f"{where}.targeting.pilots[{j}]", f"unknown pilot {pilot_id!r} ({known})")
                )
        if (targeting.cohorts or targeting.min_days_enrolled is not None) and not targeting.pilots:
            field = "cohorts" if targeting.cohorts else "min_days_enrolled"
            problems.append((f"{where}.targeting.{field}", "needs targeting.pilots as well"))
            continue
        cohorts = {c for p in targeting.pilots if p in pilots for c in pilots[p].cohorts}
        for j, cohort in enumerate(targeting.cohorts):
            if cohort not in cohorts:
                problems.append(
                    (
                        f"{where}.targeting.cohorts[{j}]",
                        f"{cohort!r} is not a cohort of the targeted pilots "
                        f"({', '.join(sorted(cohorts)) or 'they define no cohorts'})",
                    )
                )
    return problems


def _check_path(where: str, pilot: PilotSpec) -> list[tuple[str, str]]:
    problems: list[tuple[str, str]] = []
    if len(set(pilot.path)) != len(pilot.path):
        problems.append((f"{where}.path", "each milestone may appear once in the path"))
    if pilot.success is not None and pilot.path and pilot.success.milestone not in pilot.path:
        close = difflib.get_close_matches(pilot.success.milestone, pilot.path, n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        problems.append(
            (
                f"{where}.success.milestone",
                f"{pilot.success.milestone!r} is not a step of path "
                f"({', '.join(pilot.path)}){hint}",
            )
        )
    return problems


def _check_teams(config: PromptConfig) -> list[tuple[str, str]]:
    problems: list[tuple[str, str]] = []
    names: set[str] = set()
    owner: dict[str, str] = {}
    for i, team in enumerate(config.teams):
        if team.name in names:
            problems.append((f"teams[{i}].name", f"duplicate team name {team.name!r}"))
        names.add(team.name)
        if not team.areas and team.match is None:
            problems.append((f"teams[{i}]", "give the team areas, a match pattern or both"))
        for j, area in enumerate(team.areas):
            if owner.setdefault(area, team.name) != team.name:
                problems.append(
                    (f"teams[{i}].areas[{j}]", f"area {area!r} is already owned by {owner[area]!r}")
                )
    return problems
