"""Each targeting and throttling rule alone, then together, with a controllable clock."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

import cs_sdk
from cs_sdk._prompts import Prompt, rollout_bucket
from cs_sdk.state import Membership, MemoryStore

from .conftest import EngineFactory, FakeClock

PILOTS = [
    {"id": "beta", "cohorts": ["wave-1", "wave-2"], "start": "2025-02-01", "end": "2025-03-31"},
    {"id": "gamma"},
]


def doc(*prompts: dict[str, Any], wait: float = 0) -> dict[str, Any]:
    return {"throttle": {"global_wait_days": wait}, "pilots": PILOTS, "prompts": list(prompts)}


def prompt(id: str = "p", **fields: Any) -> dict[str, Any]:
    throttle = fields.pop("throttle", {"max_shows": None, "dismiss_cooldown_days": None})
    return {"id": id, "kind": "nps", "question": "Recommend us?", "throttle": throttle, **fields}


def enrol(store: MemoryStore, clock: FakeClock, pilot: str, cohort: str | None = None) -> None:
    store.put_membership("u1", Membership(pilot, cohort, clock.now))


def test_a_prompt_without_conditions_is_offered_to_anyone(make_engine: EngineFactory) -> None:
    engine = make_engine(doc(prompt()))
    assert engine.next_for("u1") == Prompt("p", "nps", "Recommend us?", 0, None, None)
    assert engine.explain("u1") == {"p": "eligible"}


def test_a_disabled_prompt_is_never_offered(make_engine: EngineFactory) -> None:
    engine = make_engine(doc(prompt(enabled=False)))
    assert engine.next_for("u1") is None
    assert engine.explain("u1") == {"p": "disabled"}


def test_active_window_includes_its_start_and_excludes_its_end(
    make_engine: EngineFactory, clock: FakeClock
) -> None:
    engine = make_engine(
        doc(prompt(active_from="2025-03-02T00:00:00Z", active_until="2025-03-03T00:00:00Z"))
    )
    clock.now = dt.datetime(2025, 3, 1, 23, 59, 59, tzinfo=dt.timezone.utc)
    assert engine.explain("u1") == {"p": "active_window"}
    clock.advance(seconds=1)
    assert engine.next_for("u1") is not None
    clock.advance(days=1)
    assert engine.next_for("u1") is None


def test_pilot_targeting_needs_an_enrolment_while_the_pilot_runs(
    make_engine: EngineFactory, clock: FakeClock
) -> None:
    store = MemoryStore()
    engine = make_engine(doc(prompt(targeting={"pilots": ["beta"]})), store)
    assert engine.explain("u1") == {"p": "pilot"}
    enrol(store, clock, "gamma")
    assert engine.next_for("u1") is None
    enrol(store, clock, "beta")
    found = engine.next_for("u1")
    assert found is not None and found.pilot == "beta"
    clock.now = dt.datetime(2025, 3, 31, 23, 59, tzinfo=dt.timezone.utc)  # end date inclusive
    assert engine.next_for("u1") is not None
    clock.advance(minutes=1)
    assert engine.explain("u1") == {"p": "pilot"}
    clock.now = dt.datetime(2025, 1, 31, 23, 59, tzinfo=dt.timezone.utc)  # not started yet
    assert engine.next_for("u1") is None


def test_cohort_targeting(make_engine: EngineFactory, clock: FakeClock) -> None:
    store = MemoryStore()
    engine = make_engine(doc(prompt(targeting={"pilots": ["beta"], "cohorts": ["wave-2"]})), store)
    enrol(store, clock, "beta", "wave-1")
    assert engine.explain("u1") == {"p": "cohort"}
    enrol(store, clock, "beta", "wave-2")
    assert engine.next_for("u1") is not None


def test_account_targeting_uses_the_argument_or_the_identify_scope(
    make_engine: EngineFactory,
) -> None:
    engine = make_engine(doc(prompt(targeting={"accounts": ["acme"]})))
    assert engine.explain("u1") == {"p": "account"}
    assert engine.next_for("u1", account_id="globex") is None
    assert engine.next_for("u1", account_id="acme") is not None
    with cs_sdk.identify(account_id="acme"):
        assert engine.next_for("u1") is not None


def test_every_required_milestone_must_be_reached(
    make_engine: EngineFactory, clock: FakeClock
) -> None:
    store = MemoryStore()
    engine = make_engine(doc(prompt(targeting={"milestones": ["created", "shared"]})), store)
    store.add_milestone("u1", "created", clock.now.timestamp())
    assert engine.explain("u1") == {"p": "milestones"}
    store.add_milestone("u1", "shared", clock.now.timestamp())
    assert engine.next_for("u1") is not None


def test_minimum_days_since_enrolment(make_engine: EngineFactory, clock: FakeClock) -> None:
    store = MemoryStore()
    engine = make_engine(doc(prompt(targeting={"pilots": ["beta"], "min_days_enrolled": 3})), store)
    enrol(store, clock, "beta")
    clock.advance(days=3, seconds=-1)
    assert engine.explain("u1") == {"p": "min_days_enrolled"}
    clock.advance(seconds=1)
    assert engine.next_for("u1") is not None


def test_max_shows_per_prompt(make_engine: EngineFactory, clock: FakeClock) -> None:
    engine = make_engine(doc(prompt(throttle={"max_shows": 2, "dismiss_cooldown_days": None})))
    assert engine.shown("p", "u1") and engine.shown("p", "u1")
    assert engine.explain("u1") == {"p": "max_shows"}
    assert not engine.shown("p", "u1")


def test_never_again_after_an_answer_unless_told_otherwise(
    make_engine: EngineFactory, clock: FakeClock
) -> None:
    store = MemoryStore()
    once = prompt("once", throttle={"max_shows": None, "stop_after_answer": True})
    again = prompt("again", throttle={"max_shows": None, "stop_after_answer": False})
    engine = make_engine(doc(once, again), store)
    store.record_answered("u1", "once", clock.now.timestamp())
    store.record_answered("u1", "again", clock.now.timestamp())
    assert engine.explain("u1") == {"once": "answered", "again": "eligible"}


def test_cooldown_after_a_dismissal(make_engine: EngineFactory, clock: FakeClock) -> None:
    engine = make_engine(doc(prompt(throttle={"max_shows": None, "dismiss_cooldown_days": 7})))
    engine.dismissed("p", "u1")
    clock.advance(days=7, seconds=-1)
    assert engine.explain("u1") == {"p": "dismiss_cooldown"}
    clock.advance(seconds=1)
    assert engine.next_for("u1") is not None


def test_global_wait_between_any_two_prompts(make_engine: EngineFactory, clock: FakeClock) -> None:
    engine = make_engine(doc(prompt("a"), prompt("b"), wait=2))
    assert engine.shown("a", "u1")
    clock.advance(days=2, seconds=-1)
    assert engine.explain("u1") == {"a": "global_wait", "b": "global_wait"}
    assert engine.next_for("u1") is None
    assert not engine.shown("b", "u1")  # the store enforces it too
    clock.advance(seconds=1)
    assert engine.next_for("u1") is not None


def test_highest_priority_wins_then_document_order(make_engine: EngineFactory) -> None:
    urgent = prompt("urgent", priority=5, throttle={"max_shows": 1})
    engine = make_engine(doc(prompt("first"), urgent, prompt("second")))
    found = engine.next_for("u1")
    assert found is not None and (found.id, found.priority) == ("urgent", 5)
    assert engine.shown("urgent", "u1")
    found = engine.next_for("u1")
    assert found is not None and found.id == "first"


def test_rollout_is_deterministic_and_close_to_its_percentage(
    make_engine: EngineFactory,
) -> None:
    users = [f"user-{i}" for i in range(100_000)]
    buckets = [rollout_bucket("nps", user) for user in users]
    assert buckets == [rollout_bucket("nps", user) for user in users]  # stable
    for percentage in (1, 10, 30, 50, 97.5):
        share = sum(b < percentage * 100 for b in buckets) / len(users) * 100
        assert abs(share - percentage) <= 2, (percentage, share)
    # Each prompt samples independently: two 50% prompts do not reach the same half.
    other = [rollout_bucket("csat", user) < 5000 for user in users]
    overlap = sum(b < 5000 and o for b, o in zip(buckets, other, strict=True)) / len(users)
    assert abs(overlap - 0.25) <= 0.02
    engine = make_engine(doc(prompt(targeting={"percentage": 30})))
    offered = {u for u in users[:2000] if engine.next_for(u) is not None}
    assert offered == {u for u in users[:2000] if rollout_bucket("p", u) < 3000}


@pytest.mark.parametrize(
    ("prompt_id", "user_id", "bucket"),
    [
        ("nps", "u1", 5168),
        ("nps", "u2", 6115),
        ("csat-exports", "u1", 8860),
        ("nps-after-first-report", "acme:42", 250),
        ("ünï", "ü", 177),
    ],
)
def test_rollout_buckets_never_change(prompt_id: str, user_id: str, bucket: int) -> None:
    # Golden values: a change to the hash would silently move users in and out of every
    # running rollout. The rule is blake2b-64 of "<prompt id>:<user id>" (UTF-8), big-endian,
    # modulo 10,000.
    assert rollout_bucket(prompt_id, user_id) == bucket


@pytest.mark.parametrize(("percentage", "offered"), [(0, False), (100, True)])
def test_rollout_extremes(make_engine: EngineFactory, percentage: float, offered: bool) -> None:
    engine = make_engine(doc(prompt(targeting={"percentage": percentage})))
    assert all((engine.next_for(f"u{i}") is not None) is offered for i in range(200))


def test_all_rules_together_over_a_participants_journey(
    make_engine: EngineFactory, clock: FakeClock
) -> None:
    """Enrol, wait, reach the milestone, see it, dismiss, cool down, see it again, answer."""
    store = MemoryStore()
    nps = prompt(
        "nps",
        priority=10,
        targeting={
            "pilots": ["beta"], "cohorts": ["wave-1"], "accounts": ["acme"],
            "milestones": ["first_report"], "min_days_enrolled": 2, "percentage": 100,
        },
        throttle={"max_shows": 2, "stop_after_answer": True, "dismiss_cooldown_days": 5},
    )  # fmt: skip
    thumbs = prompt("thumbs", targeting={"pilots": ["gamma"]})
    engine = make_engine(doc(nps, thumbs, wait=1), store)
    clock.now = dt.datetime(2025, 2, 3, 9, tzinfo=dt.timezone.utc)
    ask = {"account_id": "acme"}

    store.put_membership("u1", Membership("beta", "wave-1", clock.now))
    assert engine.explain("u1", **ask)["nps"] == "milestones"
    store.add_milestone("u1", "first_report", clock.now.timestamp())
    assert engine.explain("u1", **ask)["nps"] == "min_days_enrolled"
    clock.advance(days=2)
    assert engine.next_for("u1", account_id="other") is None
    found = engine.next_for("u1", **ask)
    assert found is not None and (found.id, found.pilot) == ("nps", "beta")
    assert engine.shown("nps", "u1", **ask)
    engine.dismissed("nps", "u1", **ask)
    clock.advance(days=4)
    assert engine.explain("u1", **ask)["nps"] == "dismiss_cooldown"
    clock.advance(days=1)
    assert engine.next_for("u1", **ask) == found
    assert engine.shown("nps", "u1", **ask)
    store.record_answered("u1", "nps", clock.now.timestamp())
    clock.advance(days=30)
    assert engine.explain("u1", **ask)["nps"] == "max_shows"
    store.put_membership("u1", Membership("gamma", None, clock.now))
    assert engine.next_for("u1", **ask) == Prompt("thumbs", "nps", "Recommend us?", 0, "gamma")
