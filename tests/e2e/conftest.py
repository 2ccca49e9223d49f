from __future__ import annotations

from collections.abc import Iterator

import pytest

from cs_sdk.collector import LocalCollector


@pytest.fixture
def collector() -> Iterator[LocalCollector]:
    """A real OTLP/HTTP receiver on 127.0.0.1 that decodes with opentelemetry-proto."""
    with LocalCollector() as running:
        yield running
