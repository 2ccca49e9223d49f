"""A child forked while a parent thread is inside redis-py's connection pool still works."""

from __future__ import annotations

import datetime as dt
import os

import pytest

from cs_sdk.state import Membership, RedisStore, ShowRules

from ._forking import fork_while_held

T0 = dt.datetime(2025, 3, 1, 12, 0, tzinfo=dt.timezone.utc)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
@pytest.mark.filterwarnings("ignore:This process .* is multi-threaded:DeprecationWarning")
def test_a_forked_child_gets_its_own_redis_client(fresh_redis_url: str) -> None:
    store = RedisStore(fresh_redis_url)
    store.put_membership("u1", Membership("beta", None, T0))  # the pool has a connection now
    pool_lock = store._redis.connection_pool._lock  # redis-py resets its pool under it

    def child() -> None:
        assert [m.pilot for m in store.memberships("u1")] == ["beta"]
        assert store.try_show("u2", "nps", T0.timestamp(), ShowRules(max_shows=1))
        store.close()

    assert fork_while_held([pool_lock], child) == 0
    # The parent's connections were left alone, and it sees what the child wrote.
    assert store.history("u2", "nps").shows == 1
    assert not store.try_show("u2", "nps", T0.timestamp(), ShowRules(max_shows=1))
    store.close()
