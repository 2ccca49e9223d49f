"""The pilot/prompt configuration document's models (pydantic): what a pilot manager may
write, with its limits. Loading a document and explaining its mistakes is ``_config.py``.

The models are the user's edge only: the engine compiles them once into slotted dataclasses
(see ``_rules.py``), so validation is never paid on the hot path.
"""

from __future__ import annotations

import datetime as _dt
import re
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field

from ..events._builtin_rules import FeedbackKind

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
    """A pilot: who runs it, its cohorts, when it runs (UTC dates, inclusive), its success,
    the problem it solves and the milestone path to success the report draws as a funnel."""

    id: Id
    name: str | None = None
    owner: str | None = None
    problem: Annotated[str, Field(min_length=1, max_length=1000)] | None = None
    cohorts: list[Id] = Field(default_factory=list, max_length=_MAX_ITEMS)
    start: _dt.date | None = None
    end: _dt.date | None = None
    path: list[Name] = Field(default_factory=list, max_length=_MAX_ITEMS)
    success: SuccessMetric | None = None

    @property
    def success_milestone(self) -> str | None:
        """The success milestone: ``success.milestone``, else the last step of ``path``."""
        if self.success is not None:
            return self.success.milestone
        return self.path[-1] if self.path else None


def _regex(value: str) -> str:
    # Checked here so a broken pattern is a configuration error, not a report failure.
    try:
        re.compile(value)
    except re.error as error:
        raise ValueError(f"not a valid regular expression: {error}") from None
    return value


class TeamSpec(_Model):
    """A team and what it owns: product ``areas``, and comments matching ``match``.

    ``match`` is a regular expression searched in the feedback's comment, case-insensitively;
    a match routes the feedback to this team whatever its area (the first matching team in
    document order wins)."""

    name: Id
    areas: list[Id] = Field(default_factory=list, max_length=_MAX_ITEMS)
    match: Annotated[str, Field(min_length=1, max_length=1000), AfterValidator(_regex)] | None = (
        None
    )


class RoutingSpec(_Model):
    """Where feedback goes that no team's ``match`` or ``areas`` claims."""

    default_team: Id | None = None


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
    teams: list[TeamSpec] = Field(default_factory=list, max_length=_MAX_ITEMS)
    routing: RoutingSpec = Field(default_factory=RoutingSpec)
