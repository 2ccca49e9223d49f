"""Every spool a test opens is closed after it (Python 3.13 warns about unclosed SQLite
connections, and warnings are errors here)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from cs_sdk._spool import Spool


@pytest.fixture(autouse=True)
def close_spools(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    opened: list[Spool] = []
    original = Spool.__init__

    def tracked(self: Spool, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)
        opened.append(self)

    monkeypatch.setattr(Spool, "__init__", tracked)
    yield
    for spool in opened:
        spool.close()
