"""The two enrichment steps pilots and prompts add to a client's processor chain.

Both run on the SDK's worker thread (``ProcessorChain`` steps), never on the caller's, and
both always return the record: they enrich or observe, they never drop an event.

- ``pilots``: sets ``record.pilots`` to the ``((pilot, cohort), ...)`` the user was in when
  the event was recorded (``record.time_unix_nano``), not when the worker gets to it; the
  exporter maps it to ``cs.pilot.ids`` / ``cs.pilot.cohorts``.
- ``prompt_history``: remembers, per user in the store, the milestones some prompt or pilot
  depends on, and the answers to prompts (``feedback(..., prompt_id=...)``). The client
  already wrote the answer when ``feedback()`` was called (:meth:`Prompts.answered`); seeing
  it again here costs nothing, and covers answers recorded through ``track(Feedback(...))``.
"""

from __future__ import annotations

from .._attributes import PROMPT_ID
from .._log import logger, warn_once
from .._processors import Processor
from .._prompts import Prompts
from .._record import EventRecord
from ..events import is_event
from ..state import StateStore, TtlCache
from ._pilots import Pilots

__all__ = ["PromptHistoryStep", "pilot_tagger"]

_MILESTONE = "cs.milestone"
_FEEDBACK = "cs.feedback"
_PROMPT_ID = PROMPT_ID


def pilot_tagger(pilots: Pilots) -> Processor:
    """The ``pilots`` step: tag each event of an enrolled user with their memberships."""
    tags = pilots.tags_at_ns

    def tag_pilots(record: EventRecord) -> EventRecord:
        user_id = record.user_id
        if user_id is not None:
            found = tags(user_id, record.time_unix_nano)
            if found:
                record.pilots = found
        return record

    return tag_pilots


class PromptHistoryStep:
    """The ``prompt_history`` step: milestones rules depend on, and answers to prompts."""

    def __init__(self, store: StateStore, prompts: Prompts, *, seen_size: int = 50_000) -> None:
        self._store = store
        self._prompts = prompts
        # (user, milestone) pairs already written by this process: a milestone recorded on
        # every page view must not become a store write on every page view.
        self._seen: TtlCache[tuple[str, str], bool] = TtlCache(seen_size, 3600.0)

    def __call__(self, record: EventRecord) -> EventRecord:
        user_id = record.user_id
        if user_id is None:
            return record
        schema = record.schema.name
        if schema != _MILESTONE and schema != _FEEDBACK:
            return record
        try:
            body = record.body
            if body is not None and type(body) is not dict and is_event(body):
                # track(Milestone(...)) / track(Feedback(...)): the name and the prompt id
                # are only known once the model is serialised (the "typed" step would do it
                # next; doing it here is the same, idempotent work).
                record.resolve_typed_body()
            if schema == _MILESTONE:
                self._milestone(user_id, record.name, record.time_unix_nano)
            else:
                prompt_id = (record.attributes or {}).get(_PROMPT_ID)
                if isinstance(prompt_id, str):
                    self._prompts.answered(prompt_id, user_id, at=record.time_unix_nano / 1e9)
        except Exception:
            warn_once("prompt_history", "cs_sdk: remembering a milestone or answer failed")
            logger.debug("prompt_history step failed", exc_info=True)
        return record

    def _milestone(self, user_id: str, name: str, time_unix_nano: int) -> None:
        # Most milestones no rule watches: that test first, it is a frozenset lookup.
        if name not in self._prompts.watched_milestones():
            return
        key = (user_id, name)
        if self._seen.get(key):
            return
        token = self._seen.token()
        self._store.add_milestone(user_id, name, time_unix_nano / 1e9)
        self._seen.put(key, True, token)
        self._prompts.invalidate(user_id)
