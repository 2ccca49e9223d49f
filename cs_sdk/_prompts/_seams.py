"""The seams of the prompt and pilot engines: what tells the time and what records events."""

from __future__ import annotations

import datetime as _dt
from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from ..events._base import Event

__all__ = ["Clock", "Recorder", "utc_now"]

Clock = Callable[[], _dt.datetime]


def utc_now() -> _dt.datetime:
    """The default clock."""
    return _dt.datetime.now(_dt.timezone.utc)


class Recorder(Protocol):
    """Records events: a :class:`cs_sdk.Client` (or a test double)."""

    def track(
        self,
        event: Event,
        *,
        user_id: str | None = None,
        account_id: str | None = None,
        session_id: str | None = None,
        timestamp: _dt.datetime | float | None = None,
    ) -> str | None: ...
