"""The durable spool: order, bounds, leases, persistence, privacy, processes."""

from __future__ import annotations

import multiprocessing
import os
import stat
from pathlib import Path

import pytest

from cs_sdk._spool import FILE_NAME, Spool


class Clock:
    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


def add(spool: Spool, label: bytes, records: int = 1) -> int:
    return spool.append(label, records, "application/x-protobuf", "gzip")


def test_batches_come_back_oldest_first_and_leave_when_acked(tmp_path: Path) -> None:
    spool = Spool(tmp_path, max_bytes=10_000)
    for label in (b"one", b"two", b"three"):
        add(spool, label)
    seen = []
    while (batch := spool.claim()) is not None:
        seen.append(batch.payload)
        assert batch.content_type == "application/x-protobuf"
        assert batch.content_encoding == "gzip"
        spool.ack(batch.id)
    assert seen == [b"one", b"two", b"three"]
    assert spool.pending() == (0, 0, 0)


def test_when_full_the_oldest_batches_are_dropped_and_counted(tmp_path: Path) -> None:
    spool = Spool(tmp_path, max_bytes=100)
    assert add(spool, b"a" * 40, records=4) == 0
    assert add(spool, b"b" * 40, records=5) == 0
    assert add(spool, b"c" * 40, records=6) == 4  # "a" made room
    assert spool.pending() == (2, 11, 80)
    assert add(spool, b"x" * 101, records=9) == 9  # larger than the whole spool: refused


def test_a_released_or_expired_lease_is_claimed_again(tmp_path: Path) -> None:
    clock = Clock()
    spool = Spool(tmp_path, max_bytes=10_000, clock=clock)
    add(spool, b"first")
    add(spool, b"second")
    first = spool.claim(lease_seconds=30)
    assert first is not None and first.payload == b"first"
    second = spool.claim(lease_seconds=30)
    assert second is not None and second.payload == b"second"  # the first is leased
    assert spool.claim() is None
    spool.release(second.id)
    again = spool.claim()
    assert again is not None and again.payload == b"second"
    clock.now += 31  # the first lease expired (its owner died)
    expired = spool.claim()
    assert expired is not None and expired.payload == b"first"


def test_batches_survive_close_and_reopen(tmp_path: Path) -> None:
    spool = Spool(tmp_path, max_bytes=10_000)
    add(spool, b"kept", records=3)
    spool.close()
    reopened = Spool(tmp_path, max_bytes=10_000)
    batch = reopened.claim()
    assert batch is not None and (batch.payload, batch.records) == (b"kept", 3)


def test_files_are_private(tmp_path: Path) -> None:
    directory = tmp_path / "spool"
    spool = Spool(directory, max_bytes=10_000)
    add(spool, b"x")
    assert stat.S_IMODE(directory.stat().st_mode) == 0o700
    for path in directory.iterdir():
        assert path.name.startswith(FILE_NAME)
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path


def _claim_all(directory: str, queue: multiprocessing.Queue) -> None:  # type: ignore[type-arg]
    spool = Spool(directory, max_bytes=10_000_000)
    claimed = []
    while (batch := spool.claim(lease_seconds=300)) is not None:
        claimed.append(batch.id)
    queue.put(claimed)


def test_processes_sharing_a_spool_never_claim_the_same_batch(tmp_path: Path) -> None:
    spool = Spool(tmp_path, max_bytes=10_000_000)
    for index in range(200):
        add(spool, b"batch-%d" % index)
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    workers = [context.Process(target=_claim_all, args=(str(tmp_path), queue)) for _ in range(3)]
    for worker in workers:
        worker.start()
    results = [queue.get(timeout=60) for _ in workers]
    for worker in workers:
        worker.join(timeout=30)
    claimed = [batch_id for result in results for batch_id in result]
    assert len(claimed) == len(set(claimed)) == 200


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_a_forked_child_reopens_its_own_connection(tmp_path: Path) -> None:
    spool = Spool(tmp_path, max_bytes=10_000)
    add(spool, b"parent-before")
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            spool.reopen_after_fork()
            add(spool, b"child")
            code = 0
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    add(spool, b"parent-after")  # the parent's connection still works
    payloads = []
    while (batch := spool.claim()) is not None:
        payloads.append(batch.payload)
        spool.ack(batch.id)
    assert sorted(payloads) == [b"child", b"parent-after", b"parent-before"]
