"""The durable spool: batches that cannot be delivered now wait on disk, oldest first.

    spool = Spool("/var/lib/myapp/cs_sdk", max_bytes=256 * 2**20)
    dropped = spool.append(payload, records=500, content_type="application/x-protobuf",
                           content_encoding="gzip")
    batch = spool.claim()          # the oldest batch, leased to this process
    ...send it...
    spool.ack(batch.id)            # delivered: gone;  spool.release(batch.id): try later

Why SQLite in WAL mode rather than an append-only segment log: a committed transaction
survives SIGKILL of the process (``synchronous=NORMAL`` in WAL mode only risks the last
transactions on power loss), several processes sharing a ``spool_dir`` (gunicorn workers)
claim batches atomically with ``BEGIN IMMEDIATE`` instead of needing file locks and a
compaction scheme, and size accounting with a drop-oldest policy is one indexed query.
The payload is the exact wire body (already redacted and compressed), so a replay is a
plain POST and the disk holds nothing that would not have left the process anyway.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

FILE_NAME = "cs_sdk-spool.db"

_SCHEMA = """
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
"""


class SpoolError(OSError):
    """The spool could not be read or written."""


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
    """A bounded, durable FIFO of encoded batches in ``<directory>/cs_sdk-spool.db``."""

    def __init__(
        self,
        directory: str | os.PathLike[str],
        max_bytes: int,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.directory = Path(directory)
        self.path = self.directory / FILE_NAME
        self.max_bytes = max_bytes
        self._clock = clock
        self._lock = threading.Lock()
        self._owner = f"{os.getpid()}-{id(self)}"
        try:
            self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
            if not self.path.exists():
                # Private from the first byte: batches hold user ids and feedback text.
                os.close(os.open(self.path, os.O_CREAT | os.O_WRONLY, 0o600))
            self._db = self._connect()
        except (OSError, sqlite3.Error) as error:
            raise SpoolError(f"cannot open the spool at {self.path}: {error}") from error

    def _connect(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.path, timeout=5.0, check_same_thread=False, isolation_level=None)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")
        db.execute("PRAGMA busy_timeout=5000")
        db.executescript(_SCHEMA)
        for suffix in ("-wal", "-shm"):
            side = Path(f"{self.path}{suffix}")
            if side.exists():
                os.chmod(side, 0o600)
        return db

    def append(
        self, payload: bytes, records: int, content_type: str, content_encoding: str | None
    ) -> int:
        """Store one batch; returns how many records were dropped to make room (oldest first).

        A batch larger than the whole spool is refused, and its own records are returned.
        """
        size = len(payload)
        if size > self.max_bytes:
            return records
        with self._lock:
            try:
                db = self._db
                db.execute("BEGIN IMMEDIATE")
                try:
                    total = db.execute("SELECT coalesce(sum(bytes), 0) FROM batches").fetchone()[0]
                    dropped = 0
                    while total + size > self.max_bytes:
                        oldest = db.execute(
                            "SELECT id, records, bytes FROM batches ORDER BY id LIMIT 1"
                        ).fetchone()
                        if oldest is None:
                            break
                        db.execute("DELETE FROM batches WHERE id = ?", (oldest[0],))
                        dropped += oldest[1]
                        total -= oldest[2]
                    db.execute(
                        "INSERT INTO batches (created_at, records, bytes, content_type, "
                        "content_encoding, payload) VALUES (?, ?, ?, ?, ?, ?)",
                        (self._clock(), records, size, content_type, content_encoding, payload),
                    )
                    db.execute("COMMIT")
                except BaseException:
                    db.execute("ROLLBACK")
                    raise
            except sqlite3.Error as error:
                raise SpoolError(f"cannot write to the spool: {error}") from error
        return dropped

    def claim(self, lease_seconds: float = 60.0) -> SpooledBatch | None:
        """Lease the oldest batch no live lease holds; ``None`` when nothing is waiting."""
        now = self._clock()
        with self._lock:
            try:
                db = self._db
                db.execute("BEGIN IMMEDIATE")
                try:
                    row = db.execute(
                        "SELECT id, payload, records, content_type, content_encoding, created_at "
                        "FROM batches WHERE lease_until <= ? ORDER BY id LIMIT 1",
                        (now,),
                    ).fetchone()
                    if row is not None:
                        db.execute(
                            "UPDATE batches SET lease_until = ?, lease_owner = ? WHERE id = ?",
                            (now + lease_seconds, self._owner, row[0]),
                        )
                    db.execute("COMMIT")
                except BaseException:
                    db.execute("ROLLBACK")
                    raise
            except sqlite3.Error as error:
                raise SpoolError(f"cannot read the spool: {error}") from error
        if row is None:
            return None
        return SpooledBatch(row[0], bytes(row[1]), row[2], row[3], row[4], row[5])

    def ack(self, batch_id: int) -> None:
        """The batch was delivered (or refused for good): remove it."""
        self._execute("DELETE FROM batches WHERE id = ?", (batch_id,))

    def release(self, batch_id: int) -> None:
        """The batch could not be delivered: keep it for a later try."""
        self._execute(
            "UPDATE batches SET lease_until = 0, lease_owner = NULL WHERE id = ?", (batch_id,)
        )

    def pending(self) -> tuple[int, int, int]:
        """``(batches, records, bytes)`` waiting, leased or not."""
        with self._lock:
            try:
                row = self._db.execute(
                    "SELECT count(*), coalesce(sum(records), 0), coalesce(sum(bytes), 0) "
                    "FROM batches"
                ).fetchone()
            except sqlite3.Error as error:
                raise SpoolError(f"cannot read the spool: {error}") from error
        return int(row[0]), int(row[1]), int(row[2])

    def _execute(self, sql: str, parameters: tuple[object, ...]) -> None:
        with self._lock:
            try:
                self._db.execute(sql, parameters)
            except sqlite3.Error as error:
                raise SpoolError(f"spool operation failed: {error}") from error

    def reopen_after_fork(self) -> None:
        """In a forked child: open a new connection, leaving the parent's untouched.

        Closing the inherited connection could run SQLite's cleanup on state the parent still
        uses, so it is deliberately abandoned instead.
        """
        self._lock = threading.Lock()
        self._owner = f"{os.getpid()}-{id(self)}"
        self._db = self._connect()

    def close(self) -> None:
        with self._lock, contextlib.suppress(sqlite3.Error):
            self._db.close()
