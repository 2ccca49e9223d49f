"""Opt-outs live in the store: shared, persistent, and nothing new is stored about the user."""

from __future__ import annotations

import datetime as dt

from cs_sdk.state import Membership, ShowRules, StateStore

T0 = dt.datetime(2025, 3, 1, 12, 0, tzinfo=dt.timezone.utc)
NOW = T0.timestamp()


def test_an_opt_out_is_stored_listed_and_undone(store: StateStore) -> None:
    before = store.versions()
    assert store.set_opted_out("u1", True, NOW)
    assert not store.set_opted_out("u1", True, NOW + 1)  # already: no change, no bump
    assert store.is_opted_out("u1") and not store.is_opted_out("u2")
    assert store.opted_out_users() == frozenset({"u1"})
    assert store.user_state("u1").opted_out
    middle = store.versions()
    assert middle.opt_outs == before.opt_outs + 1
    assert middle.memberships == before.memberships
    assert store.set_opted_out("u1", False, NOW + 2)
    assert store.opted_out_users() == frozenset()
    assert not store.user_state("u1").opted_out
    assert store.versions().opt_outs == before.opt_outs + 2


def test_nothing_new_is_stored_about_an_opted_out_user(store: StateStore) -> None:
    store.set_opted_out("u1", True, NOW)
    _, changed = store.put_membership("u1", Membership("beta", None, T0))
    assert not changed
    assert store.memberships("u1") == ()
    assert not store.try_show("u1", "nps", NOW, ShowRules())  # shown() records nothing
    store.record_answered("u1", "nps", NOW)
    store.record_dismissed("u1", "csat", NOW)
    store.add_milestone("u1", "first_report", NOW)
    state = store.user_state("u1")
    assert state.memberships == () and state.milestones == frozenset()
    assert dict(state.history) == {} and state.last_prompt_at is None
    # Opted back in: stored again.
    store.set_opted_out("u1", False, NOW)
    assert store.try_show("u1", "nps", NOW, ShowRules())
    assert store.put_membership("u1", Membership("beta", None, T0))[1]


def test_membership_changes_move_the_marker_and_reads_do_not(store: StateStore) -> None:
    start = store.versions()
    store.put_membership("u1", Membership("beta", None, T0))
    after_enrol = store.versions()
    assert after_enrol.memberships > start.memberships
    store.put_membership("u1", Membership("beta", None, T0))  # the same again: no change
    store.pilot_periods("u1")
    store.try_show("u1", "nps", NOW, ShowRules())
    assert store.versions() == after_enrol
    store.remove_membership("u1", "beta", NOW)
    assert store.versions().memberships > after_enrol.memberships
    assert store.versions().opt_outs == start.opt_outs
