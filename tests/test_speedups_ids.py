"""Event ids from the C path are the Python method's: ``hex(_id_base + sequence)``.

The C path formats the client's random high half once (and again whenever ``_id_high``
changes: a fork reseeds it) and advances the client's own sequence counter directly.
"""

from __future__ import annotations

import pytest
from _accelerator import needs_accelerator
from _differential import ListPipeline

import cs_sdk
from cs_sdk._record import record_of

pytestmark = needs_accelerator


@pytest.mark.parametrize("speedups", [True, False])
def test_ids_are_the_high_half_then_the_sequence_even_after_a_reseed(speedups: bool) -> None:
    pipeline = ListPipeline()
    client = cs_sdk.Client(
        service_name="test", environ={}, speedups=speedups, _pipeline_factory=lambda *a: pipeline
    )
    try:
        assert client._accelerated is speedups
        ids = [client.milestone("report_created", user_id="u1") for _ in range(3)]
        base = client._id_base
        assert ids == [hex(base + seq)[2:] for seq in range(3)]
        client._reseed_ids()  # what a forked child does
        assert client._id_base != base
        after = client.feedback("nps", score=9, user_id="u1")
        assert after == hex(client._id_base + 3)[2:]
        # The id as the worker reads it (record_of), whichever form the event was queued in.
        assert [record_of(queued).event_id for queued in pipeline.events] == [*ids, after]
        assert client.stats()["recorded"] == 4
        assert client.stats()["debug"]["fallbacks"] == {}
    finally:
        client.shutdown(0)
