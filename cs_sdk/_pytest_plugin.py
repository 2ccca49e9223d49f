"""The pytest plugin (entry point ``pytest11``): the ``cs_events`` fixture."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from .testing import CapturedEvents, capture


@pytest.fixture
def cs_events() -> Iterator[CapturedEvents]:
    """Events recorded during the test, captured instead of sent (see ``cs_sdk.testing``)."""
    with capture() as events:
        yield events
