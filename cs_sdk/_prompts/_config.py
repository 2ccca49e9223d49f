"""The pilot/prompt configuration document: pydantic models, parsing and clear errors.

A pilot manager writes it (TOML or JSON; YAML with the ``yaml`` extra) and the SDK loads it
from the ``prompts=`` option. A mistake becomes one :class:`~cs_sdk.PromptConfigError` that
lists every problem with the file, the path in the document and what is wrong::

    pilots.toml: invalid pilot/prompt configuration (1 problem)
      prompts[2].throttle.max_shows: input should be greater than or equal to 1 (got 0)

    >>> config = parse_config('{"pilots": [{"id": "beta"}]}', source="inline.json")
    >>> config.pilots[0].id
    'beta'

The models are the user's edge only: the engine compiles them once into slotted dataclasses
(see ``_rules.py``), so validation is never paid on the hot path.
"""

from __future__ import annotations

import datetime as _dt
import difflib
import importlib
import json
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, ValidationError

from .._errors import PromptConfigError
from ..events._builtin import FeedbackKind

__all__ = [
    "GlobalThrottle",
    "PilotSpec",
    "PromptConfig",
    "PromptSpec",
    "SuccessMetric",
    "Targeting",
    "Throttle",
    "format_of",
    "load_config",
    "parse_config",
]

Format = Literal["json", "toml", "yaml"]

# Ids appear in event attributes, store keys and reports: no spaces, no surprises.
Id = Annotated[str, Field(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:-]*$")]
Name = Annotated[str, Field(min_length=1, max_length=256)]
Days = Annotated[float, Field(ge=0, allow_inf_nan=False)]
# A document with hundreds of prompts and pilots is a few tens of KiB; files and answers
# over this are refused. Lists are bounded too: pilots, prompts, cohorts and targeting
# lists; an account allow-list may be longer.
MAX_DOCUMENT_BYTES = 1 << 20
_MAX_ITEMS = 1000
_MAX_ACCOUNTS = 10_000


def _utc(value: _dt.datetime | None) -> _dt.datetime | None:
    # A datetime without a zone (TOML local datetimes, "2025-03-01T09:00") is read as UTC.
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=_dt.timezone.utc)
    return value


Instant = Annotated[_dt.datetime | None, AfterValidator(_utc)]


class _Model(BaseModel):
    # Unknown fields are errors: a misspelt "max_show" must not silently mean "no limit".
    model_config = ConfigDict(extra="forbid", frozen=True)


class SuccessMetric(_Model):
    """The pilot's single success metric: reaching ``milestone`` within ``within_days``."""

    milestone: Name
    within_days: Annotated[float, Field(gt=0, allow_inf_nan=False)]


class PilotSpec(_Model):
    """A pilot: who runs it, its cohorts, when it runs (UTC dates, inclusive), its success."""

    id: Id
    name: str | None = None
    owner: str | None = None
    cohorts: list[Id] = Field(default_factory=list, max_length=_MAX_ITEMS)
    start: _dt.date | None = None
    end: _dt.date | None = None
    success: SuccessMetric | None = None


class Targeting(_Model):
    """Who may see a prompt. Every condition given must hold; empty lists mean anyone."""

    pilots: list[Id] = Field(default_factory=list, max_length=_MAX_ITEMS)
    cohorts: list[Id] = Field(default_factory=list, max_length=_MAX_ITEMS)
    accounts: list[Name] = Field(default_factory=list, max_length=_MAX_ACCOUNTS)
    percentage: Annotated[float, Field(ge=0, le=100, allow_inf_nan=False)] = 100.0
    milestones: list[Name] = Field(default_factory=list, max_length=_MAX_ITEMS)
    min_days_enrolled: Days | None = None


def _unlimited(value: object) -> object:
    # TOML has no null: "unlimited" says "no limit" in every format.
    return None if value == "unlimited" else value


class Throttle(_Model):
    """How often one user may see one prompt."""

    max_shows: Annotated[Annotated[int, Field(ge=1)] | None, BeforeValidator(_unlimited)] = 1
    stop_after_answer: bool = True
    dismiss_cooldown_days: Days | None = 14.0


class GlobalThrottle(_Model):
    """Limits across every prompt of the document."""

    global_wait_days: Days = 3.0


class PromptSpec(_Model):
    """A feedback prompt: what to ask, whom, how often, when."""

    id: Id
    kind: FeedbackKind
    question: Annotated[str, Field(min_length=1, max_length=1000)]
    area: Id | None = None
    enabled: bool = True
    priority: int = 0
    active_from: Instant = None
    active_until: Instant = None
    targeting: Targeting = Field(default_factory=Targeting)
    throttle: Throttle = Field(default_factory=Throttle)


class PromptConfig(_Model):
    """The whole document."""

    version: Literal[1] = 1
    throttle: GlobalThrottle = Field(default_factory=GlobalThrottle)
    pilots: list[PilotSpec] = Field(default_factory=list, max_length=_MAX_ITEMS)
    prompts: list[PromptSpec] = Field(default_factory=list, max_length=_MAX_ITEMS)


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
        PromptConfig, GlobalThrottle, PilotSpec, SuccessMetric, PromptSpec, Targeting, Throttle
    ]  # fmt: skip
    return sorted({name for model in models for name in model.model_fields})


def _describe(error: Any) -> tuple[str, str]:
    loc = error["loc"]
    kind = error["type"]
    if kind == "extra_forbidden":
        field = str(loc[-1]) if loc else ""
        close = difflib.get_close_matches(field, _all_field_names(), n=1)
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
