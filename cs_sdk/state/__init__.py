"""Where pilot memberships and prompt history live: memory, SQLite or Redis.

    from cs_sdk.state import open_store

    store = open_store("sqlite:///cs_state.db")
    store.put_membership("u1", Membership("new-dashboard", "wave-1", enrolled_at))
    store.try_show("u1", "nps-after-first-report", time.time(), ShowRules(max_shows=1))

A client opens its store from the ``state=`` option; most applications never touch a store
directly.
"""

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
from ._redis import RedisStore
from ._sqlite import SqliteStore

__all__ = [
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
