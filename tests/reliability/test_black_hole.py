"""A collector that accepts the connection and never answers: shutdown() is bounded, and the
batch it holds is spooled or counted before shutdown() returns (issue 11, section 1)."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from _books import assert_balanced

import cs_sdk
from cs_sdk.collector import BlackHole, FaultPlan, LocalCollector

EVENTS = 1_000


def in_flight_to_a_black_hole(endpoint: str, **options: object) -> tuple[cs_sdk.Client, set[str]]:
    """A client whose batch of EVENTS is in flight, its request held by the collector."""
    client = cs_sdk.Client(environ={}, endpoint=endpoint, schedule_delay=60, timeout=30, **options)  # type: ignore[arg-type]
    ids = {client.milestone("held", properties={"i": i}) for i in range(EVENTS)}
    assert client.flush(timeout=0.3) is False  # the batch went out and is held
    stats = client.stats()
    assert stats["in_flight"] == EVENTS, stats
    assert_balanced(stats)
    assert None not in ids
    return client, ids  # type: ignore[return-value]


def delivered_from_spool(spool_dir: Path) -> set[str]:
    """What a restarted application sends from ``spool_dir`` to a collector that answers."""
    with LocalCollector() as collector:
        client = cs_sdk.Client(environ={}, endpoint=collector.endpoint, spool_dir=str(spool_dir))
        assert client.flush(timeout=30)
        client.shutdown(timeout=5)
        return {record.event_id for record in collector.records}


@pytest.mark.parametrize("timeout", [0.5, 1.0, 2.0])
@pytest.mark.parametrize("with_spool", [False, True], ids=["memory", "spool"])
def test_the_batch_held_by_a_black_hole_is_counted_or_spooled_before_shutdown_returns(
    tmp_path: Path, timeout: float, with_spool: bool
) -> None:
    spool_dir = tmp_path / "spool"
    options: dict[str, object] = {"spool_dir": str(spool_dir)} if with_spool else {}
    with LocalCollector(faults=FaultPlan().always(BlackHole())) as collector:
        client, ids = in_flight_to_a_black_hole(collector.endpoint, **options)
        started = time.monotonic()
        delivered = client.shutdown(timeout=timeout)
        elapsed = time.monotonic() - started
        stats = client.stats()  # read before the collector lets the connection go
    print(f"shutdown({timeout}) against a black hole: {elapsed:.3f} s, spool={with_spool}")
    assert elapsed < 10 * max(timeout, 1.0)  # a hang guard; the figures are in bench/
    assert delivered is False  # nothing could be delivered
    assert_balanced(stats)
    assert stats["in_flight"] == stats["queued"] == stats["sent"] == 0
    if with_spool:
        assert stats["spool_pending"] == EVENTS
        assert stats["dropped_total"] == 0
        assert delivered_from_spool(spool_dir) == ids  # every held event was on disk
    else:
        assert stats["dropped"]["shutdown_timeout"] == EVENTS


_AT_EXIT = textwrap.dedent(
    """
    import sys, cs_sdk
    endpoint, spool_dir, EVENTS = sys.argv[1], sys.argv[2], int(sys.argv[3])
    client = cs_sdk.init(
        environ={}, endpoint=endpoint, spool_dir=spool_dir, schedule_delay=60, timeout=30,
        shutdown_timeout=1.0,
    )
    for i in range(EVENTS):
        print(cs_sdk.milestone("held", properties={"i": i}))
    assert cs_sdk.flush(timeout=0.3) is False  # in flight, held by the black hole
    # no shutdown(): the interpreter exits and the SDK's exit hook has 1 s
    """
)


def test_at_interpreter_exit_every_event_held_by_a_black_hole_is_on_disk(tmp_path: Path) -> None:
    spool_dir = tmp_path / "spool"
    with LocalCollector(faults=FaultPlan().always(BlackHole())) as collector:
        started = time.monotonic()
        child = subprocess.run(
            [sys.executable, "-c", _AT_EXIT, collector.endpoint, str(spool_dir), str(EVENTS)],
            capture_output=True,
            text=True,
            timeout=60,  # a hang guard: the exit hook's budget is 1 s
        )
        elapsed = time.monotonic() - started
    assert child.returncode == 0, child.stderr
    ids = set(child.stdout.split())
    print(f"exit with a request held by a black hole: {elapsed:.2f} s")
    assert len(ids) == EVENTS
    assert delivered_from_spool(spool_dir) == ids
