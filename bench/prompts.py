"""How long does ``prompts.next_for`` take with a warm cache? Run: python bench/prompts.py

Ten prompts, each with ten targeting and throttling rules, for an enrolled user who is
eligible for none of them but the last, so every rule of every prompt runs (the worst case). The
user's state comes from the engine's in-process cache, as it does in the steady state.
"""

from __future__ import annotations

import datetime as dt
import json
import statistics
import timeit

from cs_sdk._prompts import Prompts, parse_config
from cs_sdk.state import Membership, MemoryStore

PROMPTS = 10
NOW = dt.datetime(2025, 3, 1, 12, tzinfo=dt.timezone.utc)


def build() -> Prompts:
    prompts = [
        {
            "id": f"prompt-{i}",
            "kind": "nps",
            "question": f"Question {i}?",
            "priority": PROMPTS - i,
            "active_from": "2025-01-01T00:00:00Z",
            "targeting": {
                "pilots": ["beta", "gamma"],
                "cohorts": ["wave-1"],
                "accounts": ["acme", "globex"],
                "milestones": ["first_report"],
                "min_days_enrolled": 1,
                # All but the last leave the user out of their rollout: the last rule to run,
                # so every rule of every prompt is evaluated.
                "percentage": 0 if i < PROMPTS - 1 else 100,
            },
            "throttle": {"max_shows": 3, "dismiss_cooldown_days": 7},
        }
        for i in range(PROMPTS)
    ]
    document = {
        "pilots": [{"id": "beta", "cohorts": ["wave-1"]}, {"id": "gamma"}],
        "prompts": prompts,
    }
    store = MemoryStore()
    store.put_membership("u1", Membership("beta", "wave-1", NOW - dt.timedelta(days=5)))
    store.add_milestone("u1", "first_report", NOW.timestamp())
    engine = Prompts(
        store, source=parse_config(json.dumps(document)), clock=lambda: NOW, cache_ttl=3600
    )
    assert engine.explain("u1", account_id="acme")[f"prompt-{PROMPTS - 1}"] == "eligible"
    return engine


def main() -> None:
    engine = build()
    found = engine.next_for("u1", account_id="acme")  # warms the cache
    assert found is not None and found.id == f"prompt-{PROMPTS - 1}"
    number = 20_000
    runs = timeit.repeat(lambda: engine.next_for("u1", account_id="acme"), number=number, repeat=5)
    per_call = min(runs) / number * 1e6
    median = statistics.median(runs) / number * 1e6
    print(f"next_for over {PROMPTS} prompts, warm cache: {per_call:.2f} µs per call (best), "
          f"{median:.2f} µs (median)")  # fmt: skip
    print(f"per prompt evaluated: {per_call / PROMPTS:.2f} µs")


if __name__ == "__main__":
    main()
