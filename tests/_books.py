"""The books of ``client.stats()`` (docs/reliability.md, "The books"), checked in one place."""

from __future__ import annotations

from typing import Any


def unbalanced(stats: Any) -> str | None:
    """Why the snapshot's books do not balance, or None when they do."""
    accounted = (
        stats["sent"]
        + stats["dropped_total"]
        + stats["spool_pending"]
        + stats["queued"]
        + stats["in_flight"]
    )
    if min(stats["queued"], stats["in_flight"], stats["spool_pending"]) < 0:
        return f"a negative gauge: {stats}"
    if stats["recorded"] != accounted:
        return f"recorded {stats['recorded']} != {accounted} accounted: {stats}"
    refused = stats["refused"]
    if stats["dropped"]["invalid"] != refused["invalid"] or stats["refused_total"] != sum(
        refused.values()
    ):
        return f"refusals are not apart: {stats}"
    return None


def assert_balanced(stats: Any) -> None:
    problem = unbalanced(stats)
    assert problem is None, problem
