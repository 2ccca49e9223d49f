"""``cs_sdk.pilots``, ``cs_sdk.prompts`` and ``cs_sdk.responses`` before ``init()``.

Built the first time one of them is read before ``init()``, not by ``import cs_sdk``: they are
engines over a state store, and the modules behind them take tens of milliseconds to import.
``_api`` hands in how a refused call is answered (``refuse``: counted and logged; ``warn``:
logged only), so this module never imports it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

from ._pilots import Pilots
from ._prompts import Prompts
from ._responses import Responses
from .state import Answer

Refusal = Callable[[str], None]


class Parts(NamedTuple):
    pilots: Pilots
    prompts: Prompts
    responses: Responses


def uninitialised_parts(refuse: Refusal, warn: Refusal) -> Parts:
    """The three objects the no-op client answers with; see the module docstring."""

    class _UninitialisedPilots(Pilots):
        """``cs_sdk.pilots`` before ``init()``: says it did nothing instead of pretending."""

        def enroll(
            self, user_id: str | None = None, pilot_id: str | None = None, *args: Any, **kw: Any
        ) -> None:
            refuse("pilots.enroll()")
            return None

    class _UninitialisedPrompts(Prompts):
        """``cs_sdk.prompts`` before ``init()``: no prompt, and one line saying why."""

        def next_for(self, user_id: str | None = None, *, account_id: str | None = None) -> None:
            warn("prompts.next_for()")
            return None

        def shown(
            self, prompt_id: str, user_id: str | None = None, *, account_id: str | None = None
        ) -> bool:
            refuse("prompts.shown()")
            return False

        def dismissed(
            self, prompt_id: str, user_id: str | None = None, *, account_id: str | None = None
        ) -> None:
            refuse("prompts.dismissed()")

    class _UninitialisedResponses(Responses):
        """``cs_sdk.responses`` before ``init()``: no answers, and one line saying why."""

        def for_user(self, user_id: str, *, limit: int = 20) -> list[Answer]:
            warn("responses.for_user()")
            return []

    return Parts(
        _UninitialisedPilots.noop(), _UninitialisedPrompts.noop(), _UninitialisedResponses.noop()
    )
