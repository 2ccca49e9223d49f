"""The durable spool: batches that cannot be delivered now wait on disk, oldest first.

The worker writes a batch here when the collector is unreachable and replays it later,
in order, by this process or by the next one after a restart. Delivery is at-least-once:
a batch is deleted only after it was acknowledged, and every record keeps its event id so
the rare duplicate (a crash between send and ``ack``) is removed downstream.

Example:
    >>> spool = Spool(directory, max_bytes=256 * 2**20)
    >>> spool.append(b"<otlp body>", 2, "application/x-protobuf", "gzip")  # records dropped
    0
    >>> batch = spool.claim()  # the oldest batch, leased to this process
    >>> (batch.payload, batch.records)
    (b'<otlp body>', 2)
    >>> spool.ack(batch.id)  # delivered: gone (``release(batch.id)``: try again later)
    >>> spool.pending()
    (0, 0, 0)
    >>> spool.close()

Why SQLite in WAL mode rather than an append-only segment log:

* Crash safety. A committed transaction survives SIGKILL of the process: with
  ``synchronous=NORMAL`` the commit is in the ``-wal`` file (the OS page cache) when
  ``append`` returns, and the next open replays it. Only power loss can take the last
  commits, and never corrupts the file. A segment log needs its own torn-write detection
  (lengths, checksums, recovery scan) to say as much.
* Multi-process claims. Several processes sharing a ``spool_dir`` (gunicorn workers)
  lease batches inside ``BEGIN IMMEDIATE``, so no two send the same batch at once, and a
  lease that expires (its owner crashed) is simply claimed again. A segment log would need
  file locks, a shared read cursor and a compaction scheme.
* Size accounting. Totals are kept in one row by triggers, so the ``max_bytes`` check and
  the drop-oldest policy are an indexed range delete, not a directory walk.

The payload is the exact wire body (already redacted and compressed), so a replay is a
plain POST and the disk holds nothing that would not have left the process anyway. The
files are private all the same (directory 0700 when created, files 0600, links refused:
see ``_private_files.py``).
"""

from __future__ import annotations

import contextlib
import os
import socket
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from .._private_files import open_private_file, private_directory, same_file, tighten_sidecars
from .._wal import switch_to_wal

__all__ = ["FILE_NAME", "SpoolError", "Spool", "SpooledBatch"]

FILE_NAME = "cs_sdk-spool.db"

# How long any one operation may wait for another thread or process (lock and busy_timeout).
_DEFAULT_TIMEOUT = 5.0
# Leases are on the wall clock, because they are shared between processes and survive a
# restart. A lease ending further ahead than the longest one ever granted means the clock
# went back; such a batch is claimable instead of stuck until the clock catches up.
_MAX_LEASE_SECONDS = 3600.0

# Version 1. Triggers keep `totals` exact inside the same transaction as each insert and
# delete. AUTOINCREMENT, not a plain rowid: an id is never reused, so a late ack() for a
# batch that drop-oldest already removed cannot delete a newer batch.
_SCHEMA = """
BEGIN IMMEDIATE;
CREATE TABLE IF NOT EXISTS batches (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    created_at REAL NOT NULL,
    records INTEGER NOT NULL,
    bytes INTEGER NOT NULL,
    content_type TEXT NOT NULL,
    content_encoding TEXT,
    payload BLOB NOT NULL,
    lease_until REAL NOT NULL DEFAULT 0,
    lease_owner TEXT
);
CREATE TABLE IF NOT EXISTS totals (
    id INTEGER PRIMARY KEY CHECK (id = 0),
    batches INTEGER NOT NULL,
    records INTEGER NOT NULL,
    bytes INTEGER NOT NULL
);
INSERT OR IGNORE INTO totals
    SELECT 0, count(*), coalesce(sum(records), 0), coalesce(sum(bytes), 0) FROM batches;
CREATE TRIGGER IF NOT EXISTS batches_added AFTER INSERT ON batches BEGIN
    UPDATE totals SET batches = batches + 1, records = records + new.records,
        bytes = bytes + new.bytes;
END;
CREATE TRIGGER IF NOT EXISTS batches_removed AFTER DELETE ON batches BEGIN
    UPDATE totals SET batches = batches - 1, records = records - old.records,
        bytes = bytes - old.bytes;
END;
PRAGMA user_version = 1;
COMMIT;
"""

# Connections a forked child inherited. They are kept referenced for the life of the
# process: letting one be garbage-collected would close it (see reopen_after_fork).
_INHERITED: list[sqlite3.Connection] = []


class SpoolError(OSError):
    """The spool could not be opened, read or written. The caller logs it and counts it."""


@dataclass(frozen=True, slots=True)
class SpooledBatch:
    """One batch waiting on disk: the exact bytes to POST, and how to label them."""

    id: int
    payload: bytes
    records: int
    content_type: str
    content_encoding: str | None
    created_at: float


class Spool:
    """A bounded, durable FIFO of encoded batches in ``<directory>/cs_sdk-spool.db``.

    Args:
        directory: Created (mode 0700) if missing.
        max_bytes: Bound on the payload bytes kept; the oldest batches make room.
        clock: Wall-clock seconds, for ``created_at`` and leases; injected by tests.
        timeout: Longest wait, in seconds, for another thread or process holding the spool.

    Raises:
        SpoolError: From every method but ``close``, for any storage failure.
    """

    def __init__(
        self,
        directory: str | os.PathLike[str],
        max_bytes: int,
        *,
        clock: Callable[[], float] = time.time,
        timeout: float = _DEFAULT_TIMEOUT,
    ) -> None:
        self.directory = Path(directory)
        self.path = self.directory / FILE_NAME
        self.max_bytes = max_bytes
        self._clock = clock
        self._timeout = timeout
        self._closed = False
        try:
            # Checked at every open: a link is refused, a file or directory others may read
            # or write is tightened (see _private_files.py).
            private_directory(self.directory)
            self._file = open_private_file(self.path)
            self._open()
        except (OSError, sqlite3.Error) as error:
            raise SpoolError(f"cannot open the spool at {self.path}: {error}") from error

    def _open(self) -> None:
        self._lock = threading.Lock()
        self._pid = os.getpid()
        # The pid alone could be reused by a later process that finds this one's lease.
        self._owner = f"{_HOST}:{self._pid}:{os.urandom(6).hex()}"
        db = sqlite3.connect(
            self.path, timeout=self._timeout, isolation_level=None, check_same_thread=False
        )
        try:
            db.execute(f"PRAGMA busy_timeout = {int(self._timeout * 1000)}")
            switch_to_wal(db, time.monotonic() + self._timeout)
            db.execute("PRAGMA synchronous = NORMAL")
            # Truncate the -wal after checkpoints instead of letting it keep its peak size.
            db.execute("PRAGMA journal_size_limit = 8388608")
            db.executescript(_SCHEMA)
            # SQLite opened the path itself: make sure it is the file checked above, and
            # that the -wal/-shm it just created are private whatever the umask.
            same_file(self.path, self._file)
            tighten_sidecars(self.path)
        except BaseException:
            db.close()
            raise
        self._db = db

    # -- the API -------------------------------------------------------------------------

    def append(
        self, payload: bytes, records: int, content_type: str, content_encoding: str | None
    ) -> int:
        """Store one batch, making room by dropping the oldest batches.

        Returns:
            How many records were dropped: those of the oldest batches deleted to make room
            (the caller counts them as ``spool_full``), or this batch's own ``records`` when
            it alone is larger than ``max_bytes`` and is refused.
        """
        stored = self.store(payload, records, content_type, content_encoding)
        if stored is None:
            return records
        return sum(count for _, count in stored[1])

    def store(
        self, payload: bytes, records: int, content_type: str, content_encoding: str | None
    ) -> tuple[int, list[tuple[int, int]]] | None:
        """``append`` that says which batches it touched, for a caller keeping its books.

        Returns:
            ``(id of the new batch, [(id, records) of each oldest batch deleted to make
            room])``, or ``None`` when the batch alone is larger than ``max_bytes``.
        """
        size = len(payload)
        if size > self.max_bytes:
            return None
        evicted: list[tuple[int, int]] = []
        with self._transaction() as db:
            used = db.execute("SELECT bytes FROM totals").fetchone()[0]
            excess = used + size - self.max_bytes
            if excess > 0:
                # Walk the oldest batches (small columns only: payloads stay on disk) until
                # enough is freed, then delete them with one range delete.
                last_id = 0
                rows = db.execute("SELECT id, records, bytes FROM batches ORDER BY id")
                for batch_id, batch_records, batch_bytes in rows:
                    last_id = batch_id
                    evicted.append((batch_id, batch_records))
                    excess -= batch_bytes
                    if excess <= 0:
                        break
                rows.close()
                db.execute("DELETE FROM batches WHERE id <= ?", (last_id,))
            cursor = db.execute(
                "INSERT INTO batches (created_at, records, bytes, content_type, "
                "content_encoding, payload) VALUES (?, ?, ?, ?, ?, ?)",
                (self._clock(), records, size, content_type, content_encoding, payload),
            )
            batch_id = cursor.lastrowid
        assert batch_id is not None
        return batch_id, evicted

    def claim(self, lease_seconds: float = 60.0) -> SpooledBatch | None:
        """Lease the oldest batch that no live lease holds.

        The lease is taken atomically, so processes sharing the directory never get the same
        batch while it lasts. Finish with ``ack`` or ``release``; a lease left to expire
        (its owner crashed) makes the batch claimable again.

        Returns:
            The batch, or ``None`` when nothing is waiting or everything is leased.
        """
        lease_seconds = min(lease_seconds, _MAX_LEASE_SECONDS)
        with self._transaction() as db:
            now = self._clock()
            row = db.execute(
                "SELECT id, payload, records, content_type, content_encoding, created_at "
                "FROM batches WHERE lease_until <= ? OR lease_until > ? ORDER BY id LIMIT 1",
                (now, now + _MAX_LEASE_SECONDS),
            ).fetchone()
            if row is None:
                row = self._orphaned(db, now)
            if row is None:
                return None
            db.execute(
                "UPDATE batches SET lease_until = ?, lease_owner = ? WHERE id = ?",
                (now + lease_seconds, self._owner, row[0]),
            )
        return SpooledBatch(row[0], bytes(row[1]), row[2], row[3], row[4], row[5])

    def _orphaned(self, db: sqlite3.Connection, now: float) -> tuple[object, ...] | None:
        """The oldest batch leased by a process of this host that is no longer running.

        Its lease would otherwise keep the batch back until it expires (a minute), though
        its owner, killed while sending it, will never finish: the restarted application
        would then flush "successfully" past a batch still on disk.
        """
        leased = db.execute(
            "SELECT id, lease_owner FROM batches WHERE lease_until > ? ORDER BY id LIMIT 64",
            (now,),
        ).fetchall()
        for batch_id, owner in leased:
            if not _owner_is_dead(str(owner or "")):
                continue
            row: tuple[object, ...] | None = db.execute(
                "SELECT id, payload, records, content_type, content_encoding, created_at "
                "FROM batches WHERE id = ?",
                (batch_id,),
            ).fetchone()
            return row
        return None

    def ack(self, batch_id: int) -> None:
        """The batch was delivered (or refused for good): delete it."""
        with self._connection() as db:
            db.execute("DELETE FROM batches WHERE id = ?", (batch_id,))

    def release(self, batch_id: int) -> None:
        """The batch was not delivered: end this process's lease and keep it for later."""
        with self._connection() as db:
            # Only our own lease: if ours expired and another process claimed the batch,
            # clearing its lease would let a third one send it concurrently.
            db.execute(
                "UPDATE batches SET lease_until = 0, lease_owner = NULL "
                "WHERE id = ? AND lease_owner = ?",
                (batch_id, self._owner),
            )

    def pending(self) -> tuple[int, int, int]:
        """``(batches, records, bytes)`` waiting, leased or not."""
        with self._connection() as db:
            row = db.execute("SELECT batches, records, bytes FROM totals").fetchone()
        return int(row[0]), int(row[1]), int(row[2])

    def reopen_after_fork(self) -> None:
        """In a forked child: open a connection of its own, leaving the parent's alone.

        The inherited connection is neither used nor closed: its memory mirrors the
        parent's locks and maps the same ``-shm`` file, so closing it (which may checkpoint
        and reset the WAL index) could corrupt the parent's view. It is kept referenced so
        garbage collection does not close it either. Other methods call this themselves
        when they notice a new pid, so a missed fork hook costs nothing.
        """
        if self._closed:
            return
        _INHERITED.append(self._db)
        try:
            self._open()
        except (OSError, sqlite3.Error) as error:
            self._closed = True  # never fall back on the inherited connection
            raise SpoolError(f"cannot reopen the spool at {self.path}: {error}") from error

    def close(self) -> None:
        """Close the connection; idempotent, never raises. Later calls raise ``SpoolError``."""
        if self._closed:
            return
        if os.getpid() != self._pid:  # inherited: never close (see reopen_after_fork)
            self._closed = True
            _INHERITED.append(self._db)
            return
        if not self._lock.acquire(timeout=self._timeout):
            return  # a thread is stuck inside SQLite; leave it to finish
        try:
            self._closed = True
            with contextlib.suppress(sqlite3.Error):
                self._db.close()
        finally:
            self._lock.release()

    # -- plumbing ------------------------------------------------------------------------

    @contextlib.contextmanager
    def _connection(self) -> Iterator[sqlite3.Connection]:
        """The connection, held by this thread; SQLite errors become ``SpoolError``."""
        if os.getpid() != self._pid:
            self.reopen_after_fork()
        if not self._lock.acquire(timeout=self._timeout):
            raise SpoolError(f"the spool stayed busy for {self._timeout:g}s")
        try:
            if self._closed:
                raise SpoolError("the spool is closed")
            yield self._db
        except sqlite3.Error as error:
            raise SpoolError(f"spool operation failed: {error}") from error
        finally:
            self._lock.release()

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        """A write transaction: the write lock is taken at BEGIN, so it can wait (up to
        busy_timeout) but never fail half-way on a lock another process holds."""
        with self._connection() as db:
            db.execute("BEGIN IMMEDIATE")
            try:
                yield db
                db.execute("COMMIT")
            except BaseException:
                with contextlib.suppress(sqlite3.Error):
                    db.execute("ROLLBACK")
                raise


_HOST = socket.gethostname()


def _owner_is_dead(owner: str) -> bool:
    """True for a lease owner ``host:pid:token`` of this host whose process has ended.

    Owners of other hosts (a spool on a shared disk) and of the old ``pid:token`` form are
    never judged: their leases simply expire.
    """
    parts = owner.split(":")
    if len(parts) != 3 or parts[0] != _HOST or not parts[1].isdigit():
        return False
    pid = int(parts[1])
    if pid == os.getpid():
        return False  # a lease of this very process (another Spool object): still in use
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except OSError:  # EPERM: it runs, as another user
        return False
    return False
