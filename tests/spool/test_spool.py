"""The durable spool: order, bounds, leases, persistence, privacy, errors, processes."""

from __future__ import annotations

import doctest
import multiprocessing
import os
import signal
import sqlite3
import stat
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from _processes import wait_for_exit

import cs_sdk
from cs_sdk._spool import FILE_NAME, Spool, SpoolError, _sqlite_spool

# Bounds for anything that waits on another process: a hang fails the test, never the run.
PROCESS_TIMEOUT = 60.0


class Clock:
    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


def add(spool: Spool, label: bytes, records: int = 1) -> int:
    return spool.append(label, records, "application/x-protobuf", "gzip")


def drain(spool: Spool) -> list[bytes]:
    payloads = []
    while (batch := spool.claim()) is not None:
        payloads.append(batch.payload)
        spool.ack(batch.id)
    return payloads


@pytest.fixture
def spool(tmp_path: Path) -> Iterator[Spool]:
    spool = Spool(tmp_path, max_bytes=10_000)
    yield spool
    spool.close()


# -- order and bounds ------------------------------------------------------------------------


def test_batches_come_back_oldest_first_with_their_labels(spool: Spool) -> None:
    clock_before = time.time()
    spool.append(b"one", 1, "application/x-protobuf", "gzip")
    spool.append(b"two", 2, "application/json", None)
    spool.append(b"three", 3, "application/x-protobuf", None)
    batches = []
    while (batch := spool.claim()) is not None:
        batches.append(batch)
        spool.ack(batch.id)
    assert [(b.payload, b.records, b.content_type, b.content_encoding) for b in batches] == [
        (b"one", 1, "application/x-protobuf", "gzip"),
        (b"two", 2, "application/json", None),
        (b"three", 3, "application/x-protobuf", None),
    ]
    assert [b.id for b in batches] == sorted(b.id for b in batches)
    assert all(clock_before <= b.created_at <= time.time() for b in batches)
    assert spool.pending() == (0, 0, 0)


def test_pending_counts_batches_records_and_bytes_leased_or_not(spool: Spool) -> None:
    add(spool, b"a" * 10, records=3)
    add(spool, b"b" * 20, records=4)
    assert spool.claim() is not None
    assert spool.pending() == (2, 7, 30)


def test_when_full_the_oldest_batches_are_dropped_and_their_records_returned(
    tmp_path: Path,
) -> None:
    spool = Spool(tmp_path, max_bytes=100)
    assert add(spool, b"a" * 30, records=4) == 0
    assert add(spool, b"b" * 30, records=5) == 0
    assert add(spool, b"c" * 30, records=6) == 0
    assert add(spool, b"d" * 10, records=7) == 0  # exactly full: nothing dropped
    assert spool.pending() == (4, 22, 100)
    assert add(spool, b"e" * 55, records=8) == 4 + 5  # "a" and "b" made room
    assert spool.pending() == (3, 21, 95)
    assert drain(spool) == [b"c" * 30, b"d" * 10, b"e" * 55]


def test_a_batch_larger_than_the_whole_spool_is_refused_and_keeps_the_rest(
    tmp_path: Path,
) -> None:
    spool = Spool(tmp_path, max_bytes=100)
    add(spool, b"kept", records=2)
    assert add(spool, b"x" * 101, records=9) == 9
    assert add(spool, b"y" * 100, records=5) == 2  # a batch of exactly max_bytes fits
    assert drain(spool) == [b"y" * 100]


def test_many_threads_appending_at_once_lose_nothing(spool: Spool) -> None:
    def writer(index: int) -> None:
        for step in range(50):
            add(spool, b"%d-%d" % (index, step))

    threads = [threading.Thread(target=writer, args=(index,)) for index in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=PROCESS_TIMEOUT)
    assert spool.pending()[:2] == (400, 400)
    payloads = drain(spool)
    assert len(set(payloads)) == 400
    for index in range(8):  # each writer's batches keep its order
        mine = [p for p in payloads if p.startswith(b"%d-" % index)]
        assert mine == [b"%d-%d" % (index, step) for step in range(50)]


# -- leases ----------------------------------------------------------------------------------


def test_a_leased_batch_is_skipped_until_released(spool: Spool) -> None:
    add(spool, b"first")
    add(spool, b"second")
    first = spool.claim()
    second = spool.claim()
    assert first is not None and first.payload == b"first"
    assert second is not None and second.payload == b"second"
    assert spool.claim() is None  # everything is leased
    spool.release(second.id)
    again = spool.claim()
    assert again is not None and again.payload == b"second"


def test_an_expired_lease_is_claimed_again(tmp_path: Path) -> None:
    clock = Clock()
    spool = Spool(tmp_path, max_bytes=10_000, clock=clock)
    add(spool, b"first")
    assert spool.claim(lease_seconds=30) is not None
    clock.now += 29.9
    assert spool.claim() is None
    clock.now += 0.1  # the owner died: its lease ran out
    expired = spool.claim()
    assert expired is not None and expired.payload == b"first"


def test_a_clock_gone_back_does_not_strand_leased_batches(tmp_path: Path) -> None:
    clock = Clock()
    spool = Spool(tmp_path, max_bytes=10_000, clock=clock)
    add(spool, b"first")
    assert spool.claim(lease_seconds=30) is not None
    clock.now -= 2 * 3600  # the lease now ends further ahead than any lease is granted
    assert spool.claim() is not None


def test_release_by_a_former_owner_leaves_the_new_lease_alone(tmp_path: Path) -> None:
    clock = Clock()
    slow = Spool(tmp_path, max_bytes=10_000, clock=clock)
    other = Spool(tmp_path, max_bytes=10_000, clock=clock)
    add(slow, b"batch")
    mine = slow.claim(lease_seconds=30)
    assert mine is not None
    clock.now += 31
    theirs = other.claim(lease_seconds=30)
    assert theirs is not None and theirs.id == mine.id
    slow.release(mine.id)  # too late: the batch is someone else's now
    assert other.claim() is None and slow.claim() is None


def test_an_ack_after_drop_oldest_never_deletes_a_newer_batch(tmp_path: Path) -> None:
    spool = Spool(tmp_path, max_bytes=10)
    add(spool, b"x" * 10)
    batch = spool.claim()
    assert batch is not None
    add(spool, b"y" * 10)  # drops the leased batch
    spool.ack(batch.id)
    assert drain(spool) == [b"y" * 10]


# -- durability ------------------------------------------------------------------------------


def test_batches_and_totals_survive_close_and_reopen(tmp_path: Path) -> None:
    spool = Spool(tmp_path, max_bytes=10_000)
    add(spool, b"acked", records=1)
    add(spool, b"kept", records=3)
    acked = spool.claim()
    assert acked is not None
    spool.ack(acked.id)
    spool.close()
    reopened = Spool(tmp_path, max_bytes=10_000)
    assert reopened.pending() == (1, 3, 4)
    add(reopened, b"later")
    first = reopened.claim()
    assert first is not None and (first.payload, first.records) == (b"kept", 3)
    later = reopened.claim()
    assert later is not None and later.id > first.id > acked.id  # ids are never reused
    reopened.close()


def test_a_batch_appended_just_before_sigkill_is_there_after_reopening(tmp_path: Path) -> None:
    # The child kills itself the moment append() returns: no close, no checkpoint, no atexit.
    child = textwrap.dedent(
        """
        import os, signal, sys
        from cs_sdk._spool import Spool
        spool = Spool(sys.argv[1], max_bytes=10_000_000)
        for index in range(20):
            spool.append(b"batch-%d" % index * 1000, index, "application/x-protobuf", "gzip")
        os.kill(os.getpid(), signal.SIGKILL)
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", child, str(tmp_path)], timeout=PROCESS_TIMEOUT, check=False
    )
    assert done.returncode == -signal.SIGKILL
    assert Path(f"{tmp_path / FILE_NAME}-wal").exists()  # the commits were still in the WAL
    expected = [b"batch-%d" % index * 1000 for index in range(20)]
    spool = Spool(tmp_path, max_bytes=10_000_000)
    assert spool.pending() == (20, sum(range(20)), sum(map(len, expected)))
    assert drain(spool) == expected
    spool.close()


# -- privacy ---------------------------------------------------------------------------------


@pytest.mark.parametrize("umask", [0o000, 0o022, 0o277])
def test_the_directory_and_files_are_private_whatever_the_umask(tmp_path: Path, umask: int) -> None:
    directory = tmp_path / "nested" / "spool"
    previous = os.umask(umask)
    try:
        spool = Spool(directory, max_bytes=10_000)
        add(spool, b"x")
    finally:
        os.umask(previous)
    assert stat.S_IMODE(directory.stat().st_mode) == 0o700
    names = sorted(path.name for path in directory.iterdir())
    assert names == [FILE_NAME, f"{FILE_NAME}-shm", f"{FILE_NAME}-wal"]
    for name in names:
        assert stat.S_IMODE((directory / name).stat().st_mode) == 0o600, name
    spool.close()


def test_an_existing_directory_keeps_its_mode(tmp_path: Path) -> None:
    directory = tmp_path / "shared"
    directory.mkdir()
    directory.chmod(0o750)
    Spool(directory, max_bytes=10_000).close()
    assert stat.S_IMODE(directory.stat().st_mode) == 0o750
    assert stat.S_IMODE((directory / FILE_NAME).stat().st_mode) == 0o600


# -- errors ----------------------------------------------------------------------------------


def test_an_unusable_directory_raises_spool_error(tmp_path: Path) -> None:
    not_a_directory = tmp_path / "file"
    not_a_directory.write_text("")
    with pytest.raises(SpoolError):
        Spool(not_a_directory, max_bytes=10_000)


def test_a_file_that_is_not_a_database_raises_spool_error(tmp_path: Path) -> None:
    (tmp_path / FILE_NAME).write_bytes(b"this is not SQLite" * 100)
    with pytest.raises(SpoolError):
        Spool(tmp_path, max_bytes=10_000)


def test_a_closed_spool_raises_spool_error_and_closes_once(spool: Spool) -> None:
    spool.close()
    spool.close()
    with pytest.raises(SpoolError):
        add(spool, b"x")
    with pytest.raises(SpoolError):
        spool.pending()


def test_a_spool_locked_by_another_process_fails_within_the_timeout(tmp_path: Path) -> None:
    spool = Spool(tmp_path, max_bytes=10_000, timeout=0.2)
    blocker = sqlite3.connect(tmp_path / FILE_NAME, isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")  # holds the write lock, as a stuck process would
    try:
        started = time.monotonic()
        with pytest.raises(SpoolError):
            add(spool, b"x")
        assert time.monotonic() - started < 5.0  # a hang guard, 25x the 0.2 s budget
        assert spool.pending() == (0, 0, 0)  # reads are not blocked by a writer
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()
    assert add(spool, b"x") == 0  # and the spool works again
    spool.close()


# -- processes -------------------------------------------------------------------------------


def _claim_all(
    directory: str, start: threading.Barrier, queue: multiprocessing.Queue[list[int] | str]
) -> None:
    try:
        spool = Spool(directory, max_bytes=100_000_000)
        start.wait(PROCESS_TIMEOUT)  # all open first, then claim at the same moment
        claimed = []
        while (batch := spool.claim(lease_seconds=300)) is not None:
            claimed.append(batch.id)
            # A send takes a while. Without it one process may take all: SQLite's busy
            # handler backs off while the lock holder retakes the lock at once.
            time.sleep(0.001)
        spool.close()
    except Exception as error:  # reported, so the parent fails fast instead of timing out
        queue.put(repr(error))
        raise
    queue.put(claimed)


def test_processes_sharing_a_spool_never_claim_the_same_batch(tmp_path: Path) -> None:
    spool = Spool(tmp_path, max_bytes=100_000_000)
    for index in range(600):
        add(spool, b"batch-%d" % index)
    context = multiprocessing.get_context("spawn")
    start = context.Barrier(4)
    queue: multiprocessing.Queue[list[int] | str] = context.Queue()
    workers = [
        context.Process(target=_claim_all, args=(str(tmp_path), start, queue))
        for _ in range(start.parties)
    ]
    try:
        for worker in workers:
            worker.start()
        results = [queue.get(timeout=PROCESS_TIMEOUT) for _ in workers]
        for worker in workers:
            worker.join(timeout=PROCESS_TIMEOUT)
    finally:
        for worker in workers:
            if worker.is_alive():
                worker.kill()
                worker.join(timeout=5)
    assert not [result for result in results if isinstance(result, str)]
    claimed = [batch_id for result in results for batch_id in result]
    assert len(claimed) == len(set(claimed)) == 600
    assert sum(1 for result in results if result) >= 2  # they really did compete
    # The workers ended holding their leases: those batches are orphans, claimable again.
    orphan = spool.claim()
    assert orphan is not None and orphan.id == min(claimed)
    spool.close()


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
@pytest.mark.filterwarnings("ignore:This process .* is multi-threaded:DeprecationWarning")
@pytest.mark.parametrize("explicit", [True, False], ids=["reopen_after_fork", "pid-check"])
def test_a_forked_child_writes_through_its_own_connection(tmp_path: Path, explicit: bool) -> None:
    spool = Spool(tmp_path, max_bytes=10_000)
    add(spool, b"parent-before")
    parent_db = spool._db
    pid = os.fork()
    if pid == 0:  # the child: never returns into pytest
        code = 1
        try:
            if explicit:
                spool.reopen_after_fork()
            add(spool, b"child")
            code = 0 if spool._db is not parent_db else 2
        finally:
            os._exit(code)
    assert wait_for_exit(pid, PROCESS_TIMEOUT) == 0
    add(spool, b"parent-after")  # the parent's connection still works and sees the child's
    assert spool._db is parent_db
    assert drain(spool) == [b"parent-before", b"child", b"parent-after"]
    spool.close()


# -- docs ------------------------------------------------------------------------------------


def test_the_module_docstring_example_runs(tmp_path: Path) -> None:
    finder = doctest.DocTestFinder(recurse=False)
    [test] = finder.find(_sqlite_spool, globs={**vars(_sqlite_spool), "directory": tmp_path})
    result = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS).run(test)
    assert result.failed == 0 and result.attempted > 0


def test_a_lease_of_a_process_that_died_is_claimed_at_once(tmp_path: Path) -> None:
    spool = Spool(tmp_path, max_bytes=2**20)
    spool.append(b"batch", 3, "application/x-protobuf", None)
    spool.close()
    child = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys; from cs_sdk._spool import Spool; "
            "Spool(sys.argv[1], 2**20).claim(lease_seconds=3600)",  # and dies holding it
            str(tmp_path),
        ],
        timeout=30,
        check=True,
    )
    assert child.returncode == 0
    spool = Spool(tmp_path, max_bytes=2**20)
    batch = spool.claim()
    assert batch is not None and batch.payload == b"batch"
    assert spool.claim() is None  # now leased to this live process
    spool.close()


def test_a_client_flush_waits_for_a_batch_another_live_process_holds(tmp_path: Path) -> None:
    holder = Spool(tmp_path, max_bytes=2**20)
    holder.append(b"held", 1, "application/x-protobuf", None)
    assert holder.claim(lease_seconds=3600) is not None  # this process is alive: lease stands
    client = cs_sdk.Client(
        environ={},
        spool_dir=str(tmp_path),
        http_client=httpx.Client(transport=httpx.MockTransport(lambda r: httpx.Response(200))),
    )
    assert client.flush(timeout=0.5) is False  # not delivered: still on disk, leased
    client.shutdown(timeout=1)
    holder.close()
