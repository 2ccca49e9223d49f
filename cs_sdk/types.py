"""The types the public API takes and returns, for annotations in applications::

    from cs_sdk.types import ClientOptions, Membership, Prompt, StatsSnapshot

    def show(prompt: Prompt | None) -> None: ...

``cs_sdk.pilots`` is a :class:`Pilots`, ``cs_sdk.prompts`` a :class:`Prompts`;
``pilots.of()`` returns :class:`Membership` objects, ``prompts.next_for()`` a :class:`Prompt`
(or ``None``), ``stats()`` a :class:`StatsSnapshot`, and ``init()`` / ``Client()`` take the
keywords of :class:`ClientOptions`.
"""

from __future__ import annotations

from ._config import Config
from ._context import Identity
from ._options import ClientOptions
from ._pilots import Pilots
from ._prompts import Prompt, Prompts
from ._record import EventRecord
from ._stats import StatsSnapshot
from .state import Membership

__all__ = [
    "ClientOptions",
    "Config",
    "EventRecord",
    "Identity",
    "Membership",
    "Pilots",
    "Prompt",
    "Prompts",
    "StatsSnapshot",
]
