"""Every store behaves the same: memberships, milestones, prompt history, atomic shows."""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import re
import sqlite3
import stat
from pathlib import Path

import pytest

import cs_sdk
from cs_sdk import ConfigError
from cs_sdk.state import (
    Membership,
    MemoryStore,
    PilotPeriod,
    PromptHistory,
    RedisStore,
    ShowRules,
    SqliteStore,
    StateStore,
    open_store,
)

T0 = dt.datetime(2025, 3, 1, 12, 0, tzinfo=dt.timezone.utc)
NOW = T0.timestamp()
DAY = 86_400.0


def test_every_store_implements_the_protocol(store: StateStore) -> None:
    assert isinstance(store, StateStore)


def test_enrolment_is_stored_listed_and_removed(store: StateStore) -> None:
    membership, changed = store.put_membership("u1", Membership("beta", "wave-1", T0))
    assert changed and membership == Membership("beta", "wave-1", T0)
    store.put_membership("u1", Membership("alpha", None, T0 + dt.timedelta(days=1)))
    assert store.memberships("u1") == (
        Membership("beta", "wave-1", T0),
        Membership("alpha", None, T0 + dt.timedelta(days=1)),
    )
    assert store.memberships("u2") == ()
    assert store.remove_membership("u1", "beta") == Membership("beta", "wave-1", T0)
    assert store.remove_membership("u1", "beta") is None
    assert [m.pilot for m in store.memberships("u1")] == ["alpha"]


def test_enrolling_again_keeps_the_first_enrolment_time(store: StateStore) -> None:
    store.put_membership("u1", Membership("beta", "wave-1", T0))
    later = T0 + dt.timedelta(days=3)
    same, changed = store.put_membership("u1", Membership("beta", "wave-1", later))
    assert (same, changed) == (Membership("beta", "wave-1", T0), False)
    moved, changed = store.put_membership("u1", Membership("beta", "wave-2", later))
    assert (moved, changed) == (Membership("beta", "wave-2", T0), True)
    to_none, changed = store.put_membership("u1", Membership("beta", None, later))
    assert (to_none, changed) == (Membership("beta", None, T0), True)
    assert store.memberships("u1") == (Membership("beta", None, T0),)


def test_cohorts_with_unusual_characters_round_trip(store: StateStore) -> None:
    for cohort in ("", "a|b", "=x", "ünïcode/é", '"quoted"'):
        store.put_membership("u1", Membership("beta", cohort, T0))
        assert store.memberships("u1")[0].cohort == cohort


def test_an_exit_keeps_the_finished_period_for_tagging(store: StateStore) -> None:
    store.put_membership("u1", Membership("beta", "a|=b", T0))
    store.put_membership("u1", Membership("gamma", None, T0))
    assert sorted(store.pilot_periods("u1"), key=lambda p: p.pilot) == [
        PilotPeriod("beta", "a|=b", NOW),
        PilotPeriod("gamma", None, NOW),
    ]
    store.remove_membership("u1", "beta", NOW + DAY)
    store.put_membership("u1", Membership("beta", None, T0 + dt.timedelta(days=2)))
    assert sorted(store.pilot_periods("u1"), key=lambda p: (p.pilot, p.enrolled_at)) == [
        PilotPeriod("beta", "a|=b", NOW, NOW + DAY),  # finished, still known
        PilotPeriod("beta", None, NOW + 2 * DAY),  # enrolled again
        PilotPeriod("gamma", None, NOW),
    ]
    assert store.remove_membership("u1", "beta", NOW + 3 * DAY) is not None
    assert PilotPeriod("beta", None, NOW + 2 * DAY, NOW + 3 * DAY) in store.pilot_periods("u1")
    assert len(store.pilot_periods("u1")) == 2  # the latest finished period per pilot
    assert store.pilot_periods("u2") == ()
    assert store.remove_membership("u2", "beta") is None  # not enrolled: nothing to keep
    assert store.pilot_periods("u2") == ()
    assert [m.pilot for m in store.memberships("u1")] == ["gamma"]  # exits are not members


def test_milestones_are_remembered_once_per_user(store: StateStore) -> None:
    store.add_milestone("u1", "first_report", NOW)
    store.add_milestone("u1", "first_report", NOW + 5)
    store.add_milestone("u1", "invited_team", NOW)
    assert store.has_milestone("u1", "first_report")
    assert not store.has_milestone("u2", "first_report")
    assert store.milestones("u1") == {"first_report", "invited_team"}
    assert store.milestones("u2") == frozenset()


def test_prompt_history_records_shows_answers_and_dismissals(store: StateStore) -> None:
    assert store.history("u1", "nps") == PromptHistory()
    assert store.last_prompt_at("u1") is None
    assert store.try_show("u1", "nps", NOW, ShowRules())
    assert store.try_show("u1", "nps", NOW + 10, ShowRules())
    store.record_dismissed("u1", "nps", NOW + 20)
    store.record_answered("u1", "csat", NOW + 30)
    assert store.history("u1", "nps") == PromptHistory(2, NOW + 10, None, NOW + 20)
    assert store.history("u1", "csat") == PromptHistory(0, None, NOW + 30, None)
    assert store.last_prompt_at("u1") == NOW + 10


def test_user_state_reads_everything_at_once(store: StateStore) -> None:
    store.put_membership("u1", Membership("beta", "wave-1", T0))
    store.add_milestone("u1", "first_report", NOW)
    store.try_show("u1", "nps", NOW, ShowRules())
    store.record_answered("u1", "nps", NOW + 1)
    state = store.user_state("u1")
    assert state.memberships == (Membership("beta", "wave-1", T0),)
    assert state.milestones == {"first_report"}
    assert dict(state.history) == {"nps": PromptHistory(1, NOW, NOW + 1, None)}
    assert state.last_prompt_at == NOW
    empty = store.user_state("nobody")
    assert (empty.memberships, empty.milestones, dict(empty.history)) == ((), frozenset(), {})
    assert empty.last_prompt_at is None


def test_try_show_enforces_max_shows(store: StateStore) -> None:
    rules = ShowRules(max_shows=2)
    assert [store.try_show("u1", "nps", NOW + i, rules) for i in range(4)] == [
        True, True, False, False
    ]  # fmt: skip
    assert store.history("u1", "nps").shows == 2


def test_try_show_enforces_the_global_wait_across_prompts(store: StateStore) -> None:
    rules = ShowRules(global_wait=DAY)
    assert store.try_show("u1", "nps", NOW, rules)
    assert not store.try_show("u1", "csat", NOW + DAY - 1, rules)
    assert store.try_show("u2", "csat", NOW + 1, rules)  # another user is not affected
    assert store.try_show("u1", "csat", NOW + DAY, rules)
    assert store.history("u1", "csat").shows == 1


def test_try_show_stops_after_an_answer(store: StateStore) -> None:
    store.record_answered("u1", "nps", NOW)
    assert not store.try_show("u1", "nps", NOW + 1, ShowRules(stop_after_answer=True))
    assert store.try_show("u1", "nps", NOW + 1, ShowRules(stop_after_answer=False))


def test_try_show_waits_for_the_dismissal_cooldown(store: StateStore) -> None:
    store.record_dismissed("u1", "nps", NOW)
    rules = ShowRules(dismiss_cooldown=7 * DAY)
    assert not store.try_show("u1", "nps", NOW + 7 * DAY - 1, rules)
    assert store.try_show("u1", "nps", NOW + 7 * DAY, rules)


def test_show_rules_allow_mirrors_each_limit() -> None:
    shown_once = PromptHistory(shows=1, last_shown_at=NOW)
    assert ShowRules().allows(shown_once, NOW, NOW)
    assert not ShowRules(max_shows=1).allows(shown_once, None, NOW)
    assert not ShowRules(global_wait=10).allows(PromptHistory(), NOW, NOW + 9)
    assert ShowRules(global_wait=10).allows(PromptHistory(), NOW, NOW + 10)


def test_open_store_understands_each_url(tmp_path: Path) -> None:
    assert isinstance(open_store("memory"), MemoryStore)
    absolute = open_store(f"sqlite:///{tmp_path}/a.db")  # four slashes: absolute
    assert isinstance(absolute, SqliteStore) and absolute.path == tmp_path / "a.db"
    absolute.close()
    previous = os.getcwd()
    os.chdir(tmp_path)
    try:
        relative = open_store("sqlite:///relative.db")
        assert isinstance(relative, SqliteStore) and (tmp_path / "relative.db").exists()
        relative.close()
    finally:
        os.chdir(previous)
    assert isinstance(open_store("redis://127.0.0.1:1/0"), RedisStore)  # connects lazily


@pytest.mark.parametrize("url", ["postgres://x", "sqlite://", "sqlite:///", "/tmp/x.db", ""])
def test_open_store_rejects_other_urls_with_the_accepted_forms(url: str) -> None:
    with pytest.raises(ConfigError, match=r"memory|file path"):
        open_store(url)


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("sqlite:////proc/nope/x.db", r"'/proc/nope/x\.db'.*No such file or directory"),
        ("redis://127.0.0.1:port/0", r"not a valid Redis URL"),
    ],
)
def test_a_store_that_cannot_be_opened_is_a_config_error(url: str, problem: str) -> None:
    shown = url.replace(":port", ":[invalid port]")  # a bad port is not echoed (a password?)
    with pytest.raises(ConfigError, match=rf"state='{re.escape(shown)}'.*{problem}"):
        open_store(url)
    with pytest.raises(ConfigError, match=problem):
        cs_sdk.Client(environ={}, state=url)  # init() raises ConfigError, nothing else


def test_redis_without_its_package_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    import cs_sdk.state._redis as module

    def missing(name: str) -> object:
        raise ImportError(name)

    monkeypatch.setattr(module.importlib, "import_module", missing)
    with pytest.raises(ConfigError, match=r"pip install 'cs-sdk\[redis\]'"):
        open_store("redis://127.0.0.1:6379/0")


def test_sqlite_file_is_private_and_in_wal_mode(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "state.db"
    store = SqliteStore(path)
    store.try_show("u1", "nps", NOW, ShowRules())
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    with contextlib.closing(sqlite3.connect(path)) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    store.close()


def test_sqlite_state_is_shared_by_two_connections(tmp_path: Path) -> None:
    first, second = SqliteStore(tmp_path / "s.db"), SqliteStore(tmp_path / "s.db")
    first.put_membership("u1", Membership("beta", None, T0))
    assert first.try_show("u1", "nps", NOW, ShowRules(max_shows=1))
    assert second.memberships("u1") == (Membership("beta", None, T0),)
    assert not second.try_show("u1", "nps", NOW + 1, ShowRules(max_shows=1))
    first.close()
    second.close()


def test_redis_keys_share_one_hash_tag_per_user(fresh_redis_url: str) -> None:
    import redis

    store = RedisStore(fresh_redis_url, prefix="app:")
    store.put_membership("u1", Membership("beta", None, T0))
    store.add_milestone("u1", "first_report", NOW)
    store.try_show("u1", "nps", NOW, ShowRules())
    client = redis.Redis.from_url(fresh_redis_url, decode_responses=True)
    keys = ["app:{u1}:milestones", "app:{u1}:pilots", "app:{u1}:prompts"]
    # Besides the user's keys, only the change marker, under a hash tag of its own.
    assert sorted(client.keys("*")) == ["app:{cs-meta}:versions", *keys]
    client.close()
    assert "@" not in repr(RedisStore("redis://user:secret@127.0.0.1:1/0"))
    store.close()
