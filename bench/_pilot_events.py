"""A simulated pilot stored as cs-sdk collector stores it, for the report's benchmark and
tests: two cohorts, a path with drop-off, prompts, scored and commented feedback, outcomes,
team answers, and filler product events up to the number of events asked for.

Wave 2 does better than wave 1 (more reach the success milestone, fewer complain about slow
exports), so the report has a change to find. Deterministic for a seed.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from pathlib import Path

from cs_sdk.collector._decode import ReceivedRecord
from cs_sdk.collector._store import SqliteStore

DAY = 86_400 * 10**9
T0 = 1_793_577_600 * 10**9  # 2026-11-02 00:00 UTC
PATH = ("signed_up", "data_connected", "first_report_created")

CONFIG = """
[[pilots]]
id = "new-dashboard"
name = "New reporting dashboard"
problem = "Finance teams spend a day a month building the board report by hand."
cohorts = ["wave-1", "wave-2"]
path = ["signed_up", "data_connected", "first_report_created"]
success = { milestone = "first_report_created", within_days = 14 }

[[teams]]
name = "reports-team"
areas = ["reports", "exports"]
[[teams]]
name = "platform-team"
match = "slow|timeout|lag|crash"
[[teams]]
name = "sales-team"
match = "pricing|invoice"
[routing]
default_team = "product-team"
"""

PAIN = [
    ("exports", "Export is slow and times out on big reports"),
    ("exports", "The PDF export crashed again"),
    ("reports", "Charts lag when I change the filter"),
    ("billing", "The pricing is unclear and the invoice was wrong"),
]
PRAISE = [
    ("reports", "Love the new dashboard, the board report takes minutes now"),
    ("reports", "Great charts and the report templates save me hours"),
    ("onboarding", "Connecting our data was easy"),
]
NEUTRAL = [("reports", "It works, but I miss a dark mode"), ("exports", "Would like CSV export")]


def _record(t: int, name: str, attrs: dict[str, object], rng: random.Random) -> ReceivedRecord:
    attrs = {"cs.event.id": f"{rng.getrandbits(128):032x}", "cs.schema.name": name, **attrs}
    return ReceivedRecord(
        {"service.name": "web"}, "cs_sdk", "0.1.0", t, t, name, 9, "INFO", None, attrs
    )


def participant(i: int, cohort: str, rng: random.Random, filler: int) -> Iterator[ReceivedRecord]:
    """One participant's events."""
    user, account = f"u{i}", f"acct{i // 5}"
    wave2 = cohort == "wave-2"
    start = T0 + (30 * DAY if wave2 else 0) + rng.randrange(0, 5 * DAY)
    base = {
        "user.id": user,
        "cs.account.id": account,
        "cs.pilot.ids": ["new-dashboard"],
        "cs.pilot.cohorts": [cohort],
    }
    yield _record(
        start,
        "cs.pilot.enrolled",
        {
            **base,
            "cs.event.name": "new-dashboard",
            "cs.pilot.id": "new-dashboard",
            "cs.pilot.cohort": cohort,
        },
        rng,
    )
    t = start - rng.randrange(0, 2 * DAY)
    keep = (0.97, 0.8, 0.85) if wave2 else (0.95, 0.6, 0.55)
    reached = 0
    for step, p in zip(PATH, keep, strict=True):
        if rng.random() > p:
            break
        t += rng.randrange(DAY // 4, (3 if wave2 else 6) * DAY)
        reached += 1
        yield _record(t, "cs.milestone", {**base, "cs.event.name": step}, rng)
    for _ in range(filler):
        ft = start + rng.randrange(0, 40 * DAY)
        yield _record(ft, "page.viewed", {**base, "cs.event.name": "page.viewed"}, rng)
    ask = start + 5 * DAY + rng.randrange(0, 5 * DAY)
    yield _record(
        ask,
        "cs.prompt.shown",
        {
            **base,
            "cs.event.name": "nps-pilot",
            "cs.prompt.id": "nps-pilot",
            "cs.feedback.kind": "nps",
        },
        rng,
    )
    if rng.random() < 0.6:
        happy = reached == len(PATH)
        pain_p = (0.15 if wave2 else 0.45) * (0.5 if happy else 1.5)
        roll = rng.random()
        if roll < pain_p:
            area, comment = rng.choice(PAIN)
            score = rng.randint(0, 6)
        elif roll < pain_p + 0.35:
            area, comment = rng.choice(PRAISE)
            score = rng.randint(9, 10)
        else:
            area, comment = rng.choice(NEUTRAL)
            score = rng.randint(6, 8)
        fid = f"{rng.getrandbits(128):032x}"
        attrs = {
            **base,
            "cs.event.id": fid,
            "cs.event.name": "nps",
            "cs.feedback.kind": "nps",
            "cs.feedback.score": score,
            "cs.prompt.id": "nps-pilot",
            "cs.product.area": area,
        }
        if rng.random() < 0.7:
            attrs["cs.feedback.comment"] = comment
        yield _record(ask + 60 * 10**9, "cs.feedback", attrs, rng)
        if score <= 6 and rng.random() < 0.5:
            yield _record(
                ask + rng.randrange(DAY // 2, 6 * DAY),
                "cs.feedback.response",
                {
                    "cs.event.name": "response",
                    "cs.feedback.id": fid,
                    "cs.response.team": "platform-team",
                    "cs.response.status": "planned",
                    "cs.response.message": "Thanks, we are on it",
                },
                rng,
            )
    if i % 5 == 0 and rng.random() < 0.5:
        yield _record(
            start + 20 * DAY,
            "cs.outcome",
            {
                "cs.account.id": account,
                "cs.event.name": "renewal",
                "cs.outcome.value": 12000.0,
                "cs.outcome.unit": "USD",
            },
            rng,
        )


def write(path: Path, participants: int, *, events: int = 0, seed: int = 7) -> int:
    """Store a pilot of ``participants`` (half per cohort) with filler events so that the
    total is at least ``events``; returns how many events were stored."""
    rng = random.Random(seed)
    filler = max(0, round(events / max(1, participants)) - 5)
    store = SqliteStore(path)
    total, batch = 0, []
    for i in range(participants):
        batch.extend(participant(i, "wave-1" if i % 2 == 0 else "wave-2", rng, filler))
        if len(batch) >= 20_000:
            total += store.add(batch)
            batch = []
    total += store.add(batch)
    # Top up with product events of random participants to the exact number asked for.
    while total < events:
        base = {"cs.event.name": "page.viewed"}
        batch = [
            _record(T0 + rng.randrange(0, 60 * DAY), "page.viewed",
                    {**base, "user.id": f"u{rng.randrange(participants)}"}, rng)
            for _ in range(min(20_000, events - total))
        ]  # fmt: skip
        total += store.add(batch)
    store.close()
    return total
