"""Targeting and throttling rules, and the compiled form of the configuration they read.

Each rule is a small function ``(prompt, evaluation) -> bool``. A document is compiled once
into :class:`CompiledPrompt` objects that carry only the rules they need, sorted by priority,
so evaluating a user is a short loop of cheap calls (see bench/prompts.py)::

    >>> from cs_sdk._prompts import parse_config
    >>> compiled = compile_config(parse_config('''{
    ...   "pilots": [{"id": "beta"}],
    ...   "prompts": [{"id": "nps", "kind": "nps", "question": "Recommend us?",
    ...                "targeting": {"pilots": ["beta"]}}]}'''))
    >>> [name for name, _ in compiled.prompts[0].rules]
    ['pilot', 'max_shows', 'answered', 'dismiss_cooldown']

Times are seconds since the epoch; the clock is the engine's (injectable), never read here.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from ..events._builtin_rules import FeedbackKind
from ..state import ShowRules, UserState

if TYPE_CHECKING:  # the compiled rules are plain dataclasses: no pydantic at run time
    from ._config import PromptConfig, PromptSpec

__all__ = [
    "CompiledConfig",
    "CompiledPrompt",
    "answer_problem",
    "Evaluation",
    "Prompt",
    "compile_config",
    "evaluate",
    "explain",
    "rollout_bucket",
]

DAY = 86_400.0
BUCKETS = 10_000  # rollout granularity: 0.01 percentage point


@dataclass(frozen=True, slots=True)
class Prompt:
    """A prompt to show: what the application renders.

    Attributes:
        id: pass it to ``shown()``, ``dismissed()`` and ``feedback(..., prompt_id=...)``.
        kind: the feedback kind (``nps``, ``csat``, ``ces``, ``rating``, ``thumbs``, ``text``).
        question: the text to show.
        priority: higher wins when several prompts are eligible.
        pilot: the pilot through which the user qualified, when the prompt targets pilots.
        area: the product area the answer is about, for ``feedback(..., area=...)``.
    """

    id: str
    kind: FeedbackKind
    question: str
    priority: int = 0
    pilot: str | None = None
    area: str | None = None


def rollout_bucket(prompt_id: str, user_id: str) -> int:
    """The user's stable bucket (0-9999) for one prompt's percentage rollout.

    Hashing the prompt id with the user id gives each prompt an independent sample, so a
    10% prompt and another 10% prompt do not always reach the same users.
    """
    digest = hashlib.blake2b(f"{prompt_id}:{user_id}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") % BUCKETS


class UserEntry:
    """One user's cached state, with the derived lookups the rules use."""

    __slots__ = ("buckets", "pilots", "state")

    def __init__(self, state: UserState) -> None:
        self.state = state
        # pilot id -> (cohort, enrolled at)
        self.pilots: dict[str, tuple[str | None, float]] = {
            m.pilot: (m.cohort, m.enrolled_ts) for m in state.memberships
        }
        self.buckets: dict[str, int] = {}


class Evaluation:
    """The inputs of one ``next_for`` call: one user, one instant."""

    __slots__ = ("account_id", "entry", "now", "user_id", "windows")

    def __init__(
        self,
        user_id: str,
        account_id: str | None,
        now: float,
        entry: UserEntry,
        windows: Mapping[str, tuple[float, float]],
    ) -> None:
        self.user_id = user_id
        self.account_id = account_id
        self.now = now
        self.entry = entry
        self.windows = windows


Check = Callable[["CompiledPrompt", Evaluation], bool]


@dataclass(frozen=True, slots=True)
class CompiledPrompt:
    """One prompt of the document, ready to evaluate."""

    prompt: Prompt
    order: int
    enabled: bool
    pilots: tuple[str, ...]
    cohorts: frozenset[str]
    accounts: frozenset[str]
    threshold: int
    milestones: frozenset[str]
    min_enrolled: float | None
    active_from: float | None
    active_until: float | None
    show_rules: ShowRules
    rules: tuple[tuple[str, Check], ...] = field(default=())

    @property
    def id(self) -> str:
        return self.prompt.id


# -- the rules ---------------------------------------------------------------------------


def in_active_window(p: CompiledPrompt, ev: Evaluation) -> bool:
    """``active_from <= now < active_until``."""
    now = ev.now
    return (p.active_from is None or now >= p.active_from) and (
        p.active_until is None or now < p.active_until
    )


def matching_pilot(p: CompiledPrompt, ev: Evaluation, cohort: bool, days: bool) -> str | None:
    """The first targeted pilot the user is in while it runs, optionally in a targeted
    cohort and enrolled long enough. The three pilot rules below are this, ever stricter,
    so each can be tested alone and together they hold for one and the same membership."""
    memberships = ev.entry.pilots
    now = ev.now
    for pilot in p.pilots:
        membership = memberships.get(pilot)
        if membership is None:
            continue
        window = ev.windows.get(pilot)
        if window is not None and not window[0] <= now < window[1]:
            continue
        if cohort and p.cohorts and membership[0] not in p.cohorts:
            continue
        if days and p.min_enrolled is not None and now - membership[1] < p.min_enrolled:
            continue
        return pilot
    return None


def in_pilot(p: CompiledPrompt, ev: Evaluation) -> bool:
    """Enrolled in one of the targeted pilots, and that pilot is running."""
    return matching_pilot(p, ev, False, False) is not None


def in_cohort(p: CompiledPrompt, ev: Evaluation) -> bool:
    """...and in one of the targeted cohorts."""
    return matching_pilot(p, ev, True, False) is not None


def enrolled_long_enough(p: CompiledPrompt, ev: Evaluation) -> bool:
    """...and enrolled at least ``min_days_enrolled`` ago."""
    return matching_pilot(p, ev, True, True) is not None


def in_account(p: CompiledPrompt, ev: Evaluation) -> bool:
    return ev.account_id in p.accounts


def milestones_reached(p: CompiledPrompt, ev: Evaluation) -> bool:
    return p.milestones <= ev.entry.state.milestones


def in_rollout(p: CompiledPrompt, ev: Evaluation) -> bool:
    buckets = ev.entry.buckets
    bucket = buckets.get(p.prompt.id)
    if bucket is None:
        bucket = buckets[p.prompt.id] = rollout_bucket(p.prompt.id, ev.user_id)
    return bucket < p.threshold


def under_max_shows(p: CompiledPrompt, ev: Evaluation) -> bool:
    history = ev.entry.state.history.get(p.prompt.id)
    limit = p.show_rules.max_shows
    return history is None or limit is None or history.shows < limit


def not_answered(p: CompiledPrompt, ev: Evaluation) -> bool:
    history = ev.entry.state.history.get(p.prompt.id)
    return history is None or history.answered_at is None


def dismissal_cooled_down(p: CompiledPrompt, ev: Evaluation) -> bool:
    history = ev.entry.state.history.get(p.prompt.id)
    cooldown = p.show_rules.dismiss_cooldown
    if history is None or history.dismissed_at is None or cooldown is None:
        return True
    return ev.now - history.dismissed_at >= cooldown


def global_wait_passed(global_wait: float, ev: Evaluation) -> bool:
    """No prompt at all within ``global_wait`` seconds of the user's last one."""
    last = ev.entry.state.last_prompt_at
    return last is None or ev.now - last >= global_wait


# -- compiling ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CompiledConfig:
    """A validated document turned into what the engine evaluates."""

    document: PromptConfig
    prompts: tuple[CompiledPrompt, ...]  # enabled only, best first
    by_id: Mapping[str, CompiledPrompt]  # every prompt, for shown() and dismissed()
    global_wait: float
    windows: Mapping[str, tuple[float, float]]  # running pilots: [start, end) in seconds
    watched_milestones: frozenset[str]  # what the history step remembers per user


def _ts(value: _dt.datetime | None) -> float | None:
    return None if value is None else value.timestamp()


def _day_start(day: _dt.date) -> float:
    return _dt.datetime.combine(day, _dt.time(), _dt.timezone.utc).timestamp()


def compile_prompt(spec: PromptSpec, order: int, global_wait: float) -> CompiledPrompt:
    targeting, throttle = spec.targeting, spec.throttle
    cooldown = throttle.dismiss_cooldown_days
    base = CompiledPrompt(
        prompt=Prompt(spec.id, spec.kind, spec.question, spec.priority, None, spec.area),
        order=order,
        enabled=spec.enabled,
        pilots=tuple(targeting.pilots),
        cohorts=frozenset(targeting.cohorts),
        accounts=frozenset(targeting.accounts),
        threshold=round(targeting.percentage * BUCKETS / 100),
        milestones=frozenset(targeting.milestones),
        min_enrolled=None
        if targeting.min_days_enrolled is None
        else targeting.min_days_enrolled * DAY,
        active_from=_ts(spec.active_from),
        active_until=_ts(spec.active_until),
        show_rules=ShowRules(
            max_shows=throttle.max_shows,
            global_wait=global_wait,
            stop_after_answer=throttle.stop_after_answer,
            dismiss_cooldown=None if cooldown is None else cooldown * DAY,
        ),
    )
    # Only the rules this prompt needs, cheapest and most selective first.
    candidates: list[tuple[str, Check, bool]] = [
        (
            "active_window",
            in_active_window,
            base.active_from is not None or base.active_until is not None,
        ),
        ("pilot", in_pilot, bool(base.pilots)),
        ("cohort", in_cohort, bool(base.cohorts)),
        ("account", in_account, bool(base.accounts)),
        ("milestones", milestones_reached, bool(base.milestones)),
        ("min_days_enrolled", enrolled_long_enough, base.min_enrolled is not None),
        ("max_shows", under_max_shows, throttle.max_shows is not None),
        ("answered", not_answered, throttle.stop_after_answer),
        ("dismiss_cooldown", dismissal_cooled_down, cooldown is not None),
        ("rollout", in_rollout, base.threshold < BUCKETS),
    ]
    rules = tuple((name, check) for name, check, needed in candidates if needed)
    return replace(base, rules=rules)


def compile_config(document: PromptConfig) -> CompiledConfig:
    """Compile a validated document (see ``_config.parse_config``)."""
    global_wait = document.throttle.global_wait_days * DAY
    compiled = [compile_prompt(spec, i, global_wait) for i, spec in enumerate(document.prompts)]
    enabled = sorted(
        (p for p in compiled if p.enabled), key=lambda p: (-p.prompt.priority, p.order)
    )
    windows = {
        pilot.id: (
            _day_start(pilot.start) if pilot.start else float("-inf"),
            _day_start(pilot.end) + DAY if pilot.end else float("inf"),  # end date inclusive
        )
        for pilot in document.pilots
        if pilot.start or pilot.end
    }
    watched = {m for p in document.prompts for m in p.targeting.milestones}
    watched.update(pilot.success.milestone for pilot in document.pilots if pilot.success)
    return CompiledConfig(
        document=document,
        prompts=tuple(enabled),
        by_id={p.prompt.id: p for p in compiled},
        global_wait=global_wait,
        windows=windows,
        watched_milestones=frozenset(watched),
    )


# -- evaluating --------------------------------------------------------------------------


def evaluate(compiled: CompiledConfig, ev: Evaluation) -> Prompt | None:
    """The best eligible prompt: highest priority, then document order."""
    if compiled.global_wait > 0 and not global_wait_passed(compiled.global_wait, ev):
        return None
    for candidate in compiled.prompts:
        for _, check in candidate.rules:
            if not check(candidate, ev):
                break
        else:
            prompt = candidate.prompt
            if candidate.pilots:
                pilot = matching_pilot(candidate, ev, True, True)
                return replace(prompt, pilot=pilot)
            return prompt
    return None


def explain(compiled: CompiledConfig, ev: Evaluation) -> dict[str, str]:
    """For every prompt in document order: ``"eligible"`` or the first rule that failed."""
    waiting = compiled.global_wait > 0 and not global_wait_passed(compiled.global_wait, ev)
    reasons: dict[str, str] = {}
    for prompt_id, candidate in compiled.by_id.items():
        if not candidate.enabled:
            reasons[prompt_id] = "disabled"
            continue
        if waiting:
            reasons[prompt_id] = "global_wait"
            continue
        failed = next((name for name, check in candidate.rules if not check(candidate, ev)), None)
        reasons[prompt_id] = failed or "eligible"
    return reasons


def answer_problem(compiled: CompiledConfig, prompt_id: str, kind: str) -> tuple[str, str] | None:
    """``(reason, message)`` when feedback of ``kind`` cannot be the answer to ``prompt_id``
    under ``compiled``, else ``None``. Reasons: ``unknown_prompt``, ``feedback_kind_mismatch``.
    """
    target = compiled.by_id.get(prompt_id)
    if target is None:
        known = ", ".join(sorted(compiled.by_id)) or "none"
        return (
            "unknown_prompt",
            f"prompt_id {prompt_id!r} is not a prompt of the configuration in force "
            f"(defined: {known})",
        )
    expected = target.prompt.kind
    if kind != expected:
        return (
            "feedback_kind_mismatch",
            f"feedback kind {kind!r} does not match prompt {prompt_id!r}, which asks for "
            f"{expected!r}: pass prompt.kind",
        )
    return None
