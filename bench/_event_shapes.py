"""The event shapes of ``bench/_shapes.py`` recorded on a given cs_sdk client.

    record = shape_calls(client, ["list"])["list"]   # record(i): event i of that shape
    for i in range(n):
        record(i)

``bench/_shapes.py`` defines the shapes once, for every SDK (through its adapter, which
builds a client at the bench's defaults); bench/burst.py, bench/held_memory.py and the
tests in tests/reliability/test_held_and_bursts.py record them on a client of their own.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from ._peers import EVENT, CsSdk
from ._shapes import SHAPES, calls

__all__ = ["SHAPES", "shape_calls"]


class _OnClient(CsSdk):
    """The cs_sdk adapter, on a client built by the caller."""

    def __init__(self, client: Any) -> None:  # no super().__init__: it builds its own client
        self.client = client
        milestone = client.milestone
        self.record = lambda user_id, props: milestone(EVENT, user_id=user_id, properties=props)


def shape_calls(client: Any, wanted: Iterable[str] = SHAPES) -> dict[str, Callable[[int], object]]:
    """Shape -> ``record(i)`` on ``client``."""
    return calls(_OnClient(client), list(wanted))
