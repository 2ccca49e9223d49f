"""The code each racing process runs (importable, as the spawn start method requires)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from cs_sdk._prompts import Prompts, parse_config
from cs_sdk.state import open_store

# Two show-once prompts and a one-day wait between any two prompts for one user.
CONFIG = """{
  "throttle": {"global_wait_days": 1},
  "prompts": [
    {"id": "nps", "kind": "nps", "question": "Recommend us?", "priority": 10,
     "throttle": {"max_shows": 1}},
    {"id": "csat", "kind": "csat", "question": "Satisfied?", "throttle": {"max_shows": 1}}
  ]
}"""
NOW = dt.datetime(2025, 3, 1, 12, 0, tzinfo=dt.timezone.utc)


def users(round_: int, count: int) -> list[str]:
    """The users of one round: new ones each round, so every round is a fresh race."""
    return [f"r{round_}-u{k}" for k in range(count)]


def race(
    state_url: str, index: int, rounds: int, user_count: int, barrier: Any, results: Any
) -> None:
    """Open the store, then for each round wait for everyone and try to prompt each user.

    Even processes go through next_for() then shown(); odd ones show the other prompt
    directly, so the global wait is raced as well as max_shows. Each process starts at a
    different user, so every pair of processes meets on some user first. Reports the
    ``(round, user)`` pairs this process won.
    """
    won: list[tuple[int, str]] = []
    try:
        store = open_store(state_url)
        prompts = Prompts(store, source=parse_config(CONFIG), clock=lambda: NOW, cache_ttl=0.0)
        for round_ in range(rounds):
            barrier.wait(timeout=30)
            group = users(round_, user_count)
            for k in range(user_count):
                user = group[(k + index) % user_count]
                if index % 2 == 0:
                    prompt = prompts.next_for(user)
                    shown = prompt is not None and prompts.shown(prompt.id, user)
                else:
                    shown = prompts.shown("csat", user)
                if shown:
                    won.append((round_, user))
        store.close()
    finally:
        results.put((index, won))
