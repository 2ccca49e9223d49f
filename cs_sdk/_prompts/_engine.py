"""``Prompts``: which feedback prompt a user should see now, and what happened to it.

    prompt = client.prompts.next_for("u1")
    if prompt and client.prompts.shown(prompt.id, "u1"):
        render(prompt.kind, prompt.question)       # the application's own UI
        # later: client.feedback(prompt.kind, score=9, user_id="u1", prompt_id=prompt.id)
        # or:    client.prompts.dismissed(prompt.id, "u1")

``next_for`` reads a user's state from a short-lived in-process cache, so in the steady state
it costs a few microseconds per prompt and no store round trip. That cache can be a few
seconds stale about other processes; :meth:`Prompts.shown` is therefore the authority: it
checks the throttle again *atomically in the store* and returns False when another process
or server got there first.

Like the recording calls, no method raises into the application: an invalid id is logged
once and the call does nothing (``strict=True`` raises :class:`~cs_sdk.InvalidEventError`
instead), and a store outage is logged once and means no prompt.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

from .._context import current_identity
from .._fork import register_for_fork
from .._log import logger, warn_once
from ..state import MemoryStore, PromptHistory, ShowRules, StateStore, TtlCache
from ._args import as_id, scoped_ids, valid_ids
from ._recent import RecentMilestones
from ._rules import (
    CompiledConfig,
    Evaluation,
    Prompt,
    UserEntry,
    answer_problem,
    compile_config,
    evaluate,
    explain,
)
from ._seams import Clock, Recorder, utc_now
from ._source import ConfigSource, StaticSource

if TYPE_CHECKING:
    from typing_extensions import TypeIs

    from ._config import PromptConfig


__all__ = ["Clock", "Prompts", "Recorder", "utc_now"]


def _is_document(value: object) -> TypeIs[PromptConfig]:
    """``isinstance(value, PromptConfig)`` without importing pydantic to answer "no": a
    document exists only once its module (``_document.py``) was imported."""
    document = sys.modules.get(__name__.rpartition(".")[0] + "._document")
    return document is not None and isinstance(value, document.PromptConfig)


# How long this process remembers writing an answer. An event reaches the worker within
# seconds (past this, its repeat is one harmless store write); short enough that a prompt
# allowing several answers records each later one's time.
_ANSWER_MEMO_TTL = 600.0


class Prompts:
    """The prompt engine of one client (``client.prompts``; ``cs_sdk.prompts`` globally).

    Args:
        store: where prompt history, memberships and milestones live.
        source: the configuration: a :class:`~cs_sdk._prompts.PromptConfig`, a source that
            reloads it, or ``None`` (no prompts).
        recorder: records ``cs.prompt.shown`` / ``cs.prompt.dismissed`` events (the client).
        clock: returns the current aware ``datetime``; inject one in tests.
        cache_ttl: seconds a user's state is reused before it is read from the store again.
        cache_size: users kept in the cache.
        strict: raise :class:`~cs_sdk.InvalidEventError` on invalid ids.
    """

    def __init__(
        self,
        store: StateStore,
        *,
        source: ConfigSource | PromptConfig | None = None,
        recorder: Recorder | None = None,
        clock: Clock | None = None,
        cache_ttl: float = 5.0,
        cache_size: int = 10_000,
        enabled: bool = True,
        strict: bool = False,
    ) -> None:
        if source is None or _is_document(source):
            source = StaticSource(source)
        self._store = store
        self._source: ConfigSource = source
        self._recorder = recorder
        self._clock: Clock = clock or utc_now
        self._cache: TtlCache[str, UserEntry] = TtlCache(cache_size, cache_ttl)
        self._enabled = enabled
        self._strict = strict
        self._compiled: CompiledConfig | None = None
        self._compile_lock = threading.Lock()
        # (user, prompt) answers this process already wrote: feedback() writes an answer at
        # once and the worker's history step sees the same answer again moments later.
        self._answers: TtlCache[tuple[str, str], bool] = TtlCache(cache_size, _ANSWER_MEMO_TTL)
        self._recent = RecentMilestones(cache_size, _ANSWER_MEMO_TTL)
        self._on_watched: Callable[[frozenset[str]], None] | None = None
        register_for_fork(self)

    def _reinit_after_fork(self) -> None:
        self._compile_lock = threading.Lock()

    @classmethod
    def noop(cls) -> Prompts:
        """An engine that never offers a prompt (before ``init()``, or when disabled)."""
        return cls(MemoryStore(), enabled=False)

    def __repr__(self) -> str:
        config = self.config
        count = len(config.prompts) if config else 0
        return f"<cs_sdk Prompts: {count} prompts from {self._source!r}>"

    # -- configuration -------------------------------------------------------------------

    @property
    def config(self) -> PromptConfig | None:
        """The configuration document in force (``None`` when there is none)."""
        return self._source.document

    def reload(self) -> bool:
        """Check the file or URL for a new version now; True when a new one is in force.

        A new version that fails validation is logged and ignored.
        """
        try:
            return self._source.reload()
        except Exception:
            logger.debug("reloading the prompt configuration failed", exc_info=True)
            return False

    def _current(self) -> CompiledConfig | None:
        self._source.poll()
        document = self._source.document
        compiled = self._compiled
        if compiled is not None and compiled.document is document:
            return compiled
        if document is None:
            return None
        with self._compile_lock:
            if self._compiled is None or self._compiled.document is not document:
                self._compiled = compile_config(document)
                if self._on_watched is not None:
                    self._on_watched(self._compiled.watched_milestones)
            return self._compiled

    def watched_milestones(self) -> frozenset[str]:
        """Milestones some prompt or pilot depends on: these are remembered per user."""
        compiled = self._current()
        return compiled.watched_milestones if compiled else frozenset()

    def answer_problem(self, prompt_id: str, kind: str) -> tuple[str, str] | None:
        """``(reason, message)`` when feedback of ``kind`` cannot be the answer to
        ``prompt_id`` under the configuration in force, else ``None`` (also when no
        configuration is loaded: then no prompt id can be checked).

        Reasons: ``unknown_prompt``, ``feedback_kind_mismatch``.
        """
        if not self._enabled:
            return None
        compiled = self._current()
        return None if compiled is None else answer_problem(compiled, prompt_id, kind)

    def on_watched_change(self, callback: Callable[[frozenset[str]], None]) -> None:
        """Call ``callback`` with the watched milestones now, and again whenever a new
        version of the configuration changes them (the client routes those milestones
        through :meth:`milestone_reached` on the caller's thread)."""
        self._on_watched = callback
        try:
            callback(self.watched_milestones())
        except Exception:
            logger.debug("reading the watched milestones failed", exc_info=True)

    def milestone_reached(self, name: str, user_id: str | None = None) -> None:
        """Remember now, in this process, that ``user_id`` reached the watched milestone
        ``name``, so that ``next_for()`` right after the ``milestone()`` call sees it, as
        under ``testing.capture()``. An in-memory set per user, no store I/O: the worker's
        ``prompt_history`` step writes the milestone to the store as before, which is what
        other processes read. ``user_id`` defaults to the ``identify()`` scope's.
        """
        if not self._enabled:
            return
        user_id, _ = scoped_ids(user_id, None)
        if type(user_id) is not str or not user_id:
            return  # anonymous, or invalid (the recording call judged it already)
        self._recent.add(user_id, name)

    # -- evaluation ----------------------------------------------------------------------

    def _entry(self, user_id: str) -> UserEntry:
        entry = self._cache.get(user_id)
        if entry is None:
            token = self._cache.token()
            entry = UserEntry(self._store.user_state(user_id))
            self._cache.put(user_id, entry, token)
        return self._recent.merged_into(entry, user_id)

    def _evaluation(
        self, compiled: CompiledConfig, user_id: str, account_id: str | None
    ) -> Evaluation:
        if account_id is None:
            account_id = current_identity().account_id
        now = self._clock().timestamp()
        return Evaluation(user_id, account_id, now, self._entry(user_id), compiled.windows)

    def next_for(
        self, user_id: str | None = None, *, account_id: str | None = None
    ) -> Prompt | None:
        """The best eligible prompt for ``user_id`` now, or ``None``.

        ``user_id`` and ``account_id`` default to those of the ``identify()`` scope. Never
        raises: a store outage means no prompt (logged once).
        """
        user_id, account_id = scoped_ids(user_id, account_id)
        if not self._enabled or not valid_ids(
            "prompts.next_for", self._strict, optional=("account_id",),
            user_id=user_id, account_id=account_id,
        ):  # fmt: skip
            return None
        try:
            compiled = self._current()
            if compiled is None or not compiled.prompts:
                return None
            evaluation = self._evaluation(compiled, user_id, account_id)
            if evaluation.entry.state.opted_out:
                return None  # and shown() is refused by the store
            return evaluate(compiled, evaluation)
        except Exception:
            warn_once("prompts:next_for", "cs_sdk: prompt evaluation failed; no prompt offered")
            logger.debug("next_for failed", exc_info=True)
            return None

    def explain(
        self, user_id: str | None = None, *, account_id: str | None = None
    ) -> dict[str, str]:
        """Why each prompt is or is not offered: ``{prompt_id: "eligible" | failed rule}``.

        >>> client.prompts.explain("u1")  # doctest: +SKIP
        {'nps-after-first-report': 'milestones', 'csat-exports': 'eligible'}
        """
        user_id, account_id = scoped_ids(user_id, account_id)
        if not self._enabled or not valid_ids(
            "prompts.explain", self._strict, optional=("account_id",),
            user_id=user_id, account_id=account_id,
        ):  # fmt: skip
            return {}
        try:
            compiled = self._current()
            if compiled is None:
                return {}
            return explain(compiled, self._evaluation(compiled, user_id, account_id))
        except Exception:
            warn_once("prompts:explain", "cs_sdk: prompt evaluation failed; nothing to explain")
            logger.debug("explain failed", exc_info=True)
            return {}

    # -- history -------------------------------------------------------------------------

    def shown(
        self, prompt_id: str, user_id: str | None = None, *, account_id: str | None = None
    ) -> bool:
        """Record that the prompt is being shown; False when it must not be after all.

        The throttle (max shows, global wait, answer, dismissal cooldown) is checked again
        atomically in the store, so of several servers racing to show a show-once prompt
        exactly one gets True. Render the prompt only then. Records ``cs.prompt.shown``.
        ``user_id`` and ``account_id`` default to those of the ``identify()`` scope.
        """
        user_id, account_id = scoped_ids(user_id, account_id)
        if not self._enabled or not self._valid("prompts.shown", prompt_id, user_id, account_id):
            return False
        try:
            now = self._clock()
            compiled = self._current()
            target = compiled.by_id.get(prompt_id) if compiled else None
            if target is None:
                warn_once(
                    f"prompts:unknown:{prompt_id}",
                    "cs_sdk: shown() for prompt %r, which the configuration does not define",
                    prompt_id,
                )
                rules = ShowRules(global_wait=compiled.global_wait if compiled else 0.0)
            else:
                rules = target.show_rules
            won = self._store.try_show(user_id, prompt_id, now.timestamp(), rules)
            self._cache.invalidate(user_id)
        except Exception:
            warn_once("prompts:shown", "cs_sdk: recording a prompt show failed")
            logger.debug("shown failed", exc_info=True)
            return False
        if won and self._recorder is not None:
            # Here, not at the top: the models need pydantic, which `import cs_sdk` avoids.
            from ..events._builtin import PromptShown

            kind = target.prompt.kind if target is not None else None
            self._recorder.track(
                PromptShown(prompt_id=prompt_id, kind=kind),
                user_id=user_id,
                account_id=account_id,
                timestamp=now,
            )
        return won

    def dismissed(
        self, prompt_id: str, user_id: str | None = None, *, account_id: str | None = None
    ) -> None:
        """Record that the user closed the prompt without answering (``cs.prompt.dismissed``).

        ``user_id`` and ``account_id`` default to those of the ``identify()`` scope.
        """
        user_id, account_id = scoped_ids(user_id, account_id)
        if not self._enabled or not self._valid(
            "prompts.dismissed", prompt_id, user_id, account_id
        ):
            return
        try:
            now = self._clock()
            self._store.record_dismissed(user_id, prompt_id, now.timestamp())
            self._cache.invalidate(user_id)
        except Exception:
            warn_once("prompts:dismissed", "cs_sdk: recording a prompt dismissal failed")
            logger.debug("dismissed failed", exc_info=True)
            return
        if self._recorder is not None:
            from ..events._builtin import PromptDismissed  # pydantic, on first use

            self._recorder.track(
                PromptDismissed(prompt_id=prompt_id),
                user_id=user_id,
                account_id=account_id,
                timestamp=now,
            )

    def answered(
        self, prompt_id: str, user_id: str | None = None, *, at: float | None = None
    ) -> None:
        """Remember now that ``user_id`` answered ``prompt_id`` ("never again after an answer").

        ``client.feedback(kind, ..., prompt_id=...)`` calls it, so that ``next_for()`` and
        ``shown()`` right after the answer no longer offer the prompt; the worker's
        ``prompt_history`` step calls it again with the event's time, which then costs
        nothing. ``user_id`` defaults to the one of the ``identify()`` scope; ``at``
        (seconds since the epoch) to now. Records no event: the feedback event is the answer.

        >>> client.prompts.answered("nps-after-first-report", "u1")  # doctest: +SKIP
        """
        if not self._enabled:
            return
        if user_id is None:
            user_id = current_identity().user_id
            if user_id is None:
                return  # anonymous feedback: there is no history to keep
        user_id = as_id(user_id)
        if not valid_ids("prompts.answered", self._strict, prompt_id=prompt_id, user_id=user_id):
            return
        key = (user_id, prompt_id)
        if self._answers.get(key):
            return
        try:
            token = self._answers.token()
            when = self._clock().timestamp() if at is None else at
            self._store.record_answered(user_id, prompt_id, when)
            self._answers.put(key, True, token)
            self._cache.invalidate(user_id)
        except Exception:
            warn_once("prompts:answered", "cs_sdk: recording a prompt answer failed")
            logger.debug("answered failed", exc_info=True)

    def _valid(self, call: str, prompt_id: object, user_id: object, account_id: object) -> bool:
        return valid_ids(
            call, self._strict, optional=("account_id",),
            prompt_id=prompt_id, user_id=user_id, account_id=account_id,
        )  # fmt: skip

    def history(self, prompt_id: str, user_id: str) -> PromptHistory | None:
        """What happened between ``user_id`` and ``prompt_id`` (shows, answer, dismissal),
        read from the store, the authority across processes: the feedback route refuses an
        answer to a prompt the user was never shown. ``None`` when the store cannot be read
        (logged once) or the ids are invalid.

        >>> client.prompts.history("nps-after-first-report", "u1")  # doctest: +SKIP
        PromptHistory(shows=1, last_shown_at=1767268801.0, answered_at=None, dismissed_at=None)
        """
        user_id = as_id(user_id)
        if not self._enabled or not valid_ids(
            "prompts.history", self._strict, prompt_id=prompt_id, user_id=user_id
        ):
            return None
        try:
            return self._store.history(user_id, prompt_id)
        except Exception:
            warn_once("prompts:history", "cs_sdk: reading prompt history failed")
            logger.debug("history failed", exc_info=True)
            return None

    def invalidate(self, user_id: str) -> None:
        """Forget the cached state of ``user_id`` (after a change made in this process)."""
        self._cache.invalidate(user_id)

    def close(self) -> None:
        """Stop reloading the configuration."""
        self._source.close()
