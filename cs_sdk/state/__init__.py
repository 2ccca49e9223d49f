"""Where pilot memberships and prompt history live: memory, SQLite or Redis.

    from cs_sdk.state import open_store

    store = open_store("sqlite:///cs_state.db")
    store.put_membership("u1", Membership("new-dashboard", "wave-1", enrolled_at))
    store.try_show("u1", "nps-after-first-report", time.time(), ShowRules(max_shows=1))

A client opens its store from the ``state=`` option; most applications never touch a store
directly.
"""

from typing import TYPE_CHECKING, Any

from .._lazy import load_lazily
from ._answers import Answer, FeedbackSummary
from ._base import (
    Membership,
    PilotPeriod,
    PromptHistory,
    ShowRules,
    StateStore,
    UserState,
    Versions,
)
from ._cache import TtlCache
from ._memory import MemoryStore
from ._open import open_store

if TYPE_CHECKING:
    from ._redis import RedisStore
    from ._sqlite import SqliteStore

__all__ = [
    "Answer",
    "FeedbackSummary",
    "Membership",
    "MemoryStore",
    "PilotPeriod",
    "PromptHistory",
    "RedisStore",
    "ShowRules",
    "SqliteStore",
    "StateStore",
    "TtlCache",
    "UserState",
    "Versions",
    "open_store",
]


# Loaded when first named (PEP 562): the default memory store needs neither (open_store()
# imports the one a state= URL names).
_LAZY = {"RedisStore": "._redis", "SqliteStore": "._sqlite"}


def __getattr__(name: str) -> Any:
    return load_lazily(__name__, _LAZY, globals(), name)


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
