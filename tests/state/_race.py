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


def race(state_url: str, index: int, barrier: Any, results: Any) -> None:
    """Open the store, wait for everyone, then try to show a prompt to user u1.

    Even processes go through next_for() then shown(); odd ones show the other prompt
    directly, so the global wait is raced as well as max_shows.
    """
    won = False
    try:
        store = open_store(state_url)
        prompts = Prompts(store, source=parse_config(CONFIG), clock=lambda: NOW)
        barrier.wait(timeout=30)
        if index % 2 == 0:
            prompt = prompts.next_for("u1")
            won = prompt is not None and prompts.shown(prompt.id, "u1")
        else:
            won = prompts.shown("csat", "u1")
        store.close()
    finally:
        results.put((index, won))
