"""SQLite storage of received events, one row per event with the mapped fields as columns.

    store = SqliteStore("events.db")       # WAL mode, file created (or tightened to) 0600
    store.add(records)                      # one transaction per chunk of rows
    for row in store.iter_events(after_id=last_id):
        print(row["id"], row["event_name"], row["name"], row["user_id"])
    store.close()

JSON columns (``body``, ``attributes``, ``pilot_ids``, ``pilot_cohorts``, and the
``resources`` table's ``resource``) hold bytes as ``{"$base64": "..."}`` and non-finite floats
as strings (``"nan"``), since JSON has neither. Readers such as ``cs-sdk tail`` and
``cs-sdk report`` query these tables directly (WAL lets them read while the collector
writes); the tables, their indexes and the migration of an older file are in ``_schema``.

Mapped columns take a sender's attribute values, which may be of any wire type: each column
takes its own type or NULL (a list as ``user_id``, a text score, an id longer than
``max_id`` characters). The value as sent is always kept in ``attributes``.
"""

from __future__ import annotations

import base64
import json
import math
import os
import sqlite3
import threading
import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from .._wal import switch_to_wal
from ._decode import ReceivedRecord
from ._schema import (
    CORE,
    JOIN_RESOURCE,
    OPTIONAL,
    RESOURCE_SQL,
    SHARED_RESOURCE,
    insert_rows,
    prepare,
)

_INSERT_PILOT = "INSERT INTO event_pilots (event_rowid, pilot_id, cohort) VALUES (?, ?, ?)"
_CORE_LENGTH = len(CORE)
_RESOURCE_SLOT = CORE.index("resource_id")
_RESOURCE_CACHE = 256  # distinct resources remembered (a collector sees a handful)


def _jsonable(value: Any) -> Any:
    if isinstance(value, bytes):
        return {"$base64": base64.b64encode(value).decode()}
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, dict):
        return {key: _jsonable(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_jsonable(item) for item in value]
    return value


def _bytes_as_json(value: Any) -> Any:
    if isinstance(value, bytes):
        return {"$base64": base64.b64encode(value).decode()}
    raise TypeError(f"{type(value).__name__} is not JSON")


# The C encoder in one pass; ``_jsonable`` walks the value in Python only when a non-finite
# float is there (rare: the text then holds NaN or Infinity, which JSON lacks).
_ENCODER = json.JSONEncoder(ensure_ascii=False, check_circular=False, default=_bytes_as_json)
# JSONEncoder.encode builds a new C encoder on every call (two Python frames and the
# construction: about half of the cost for an event's attributes); built once here, with
# the same settings, when the C accelerator is there (CPython; not on every interpreter).
_MAKE_ENCODER = getattr(json.encoder, "c_make_encoder", None)
_C_BASESTRING = getattr(json.encoder, "c_encode_basestring", None)
_C_ENCODER = (
    _MAKE_ENCODER(None, _bytes_as_json, _C_BASESTRING, None, ": ", ", ", False, False, True)
    if _MAKE_ENCODER is not None and _C_BASESTRING is not None
    else None
)


def _encode(value: Any) -> str:
    if _C_ENCODER is None:
        return _ENCODER.encode(value)
    return "".join(_C_ENCODER(value, 0))


def to_json(value: Any) -> str | None:
    """``value`` as JSON text for a JSON column; None stays NULL."""
    if value is None:
        return None
    text = _encode(value)
    if "NaN" in text or "Infinity" in text:
        text = json.dumps(_jsonable(value), ensure_ascii=False)
    return text


_INT64 = range(-(2**63), 2**63)


def _text(value: Any, max_length: int) -> str | None:
    # Numbers become their text (a numeric user id is still the user); anything else, or
    # an over-long id, is NULL here and stays in ``attributes``.
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        value = str(value)
    if isinstance(value, str) and len(value) <= max_length:
        return value
    return None


def _integer(value: Any) -> int | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    if isinstance(value, float):
        if not value.is_integer():
            return None
        value = int(value)
    return value if value in _INT64 else None


def _real(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def _strings(value: Any) -> list[str]:
    return [item for item in value if isinstance(item, str)] if isinstance(value, list) else []


_LONG_TEXT = 1 << 20  # a comment or a schema name, not an id


def _row(record: ReceivedRecord, received_at: float, max_id: int, service: str | None) -> list[Any]:
    """The values of the ``CORE`` columns, or of ``CORE + OPTIONAL`` when the event has any
    of the ``OPTIONAL`` ones; slot 0 (the id) and the last (the resource) are filled in under
    the lock."""
    # Straight-line, the common case (absent, or a str of id length) inline, absent fields
    # skipped: this runs for every event (it was a quarter of the collector's time).
    get = record.attributes.get
    v = get("cs.event.id")
    event_id = v if v is None or (type(v) is str and len(v) <= max_id) else _text(v, max_id)
    v = get("cs.event.name")
    name = v if v is None or (type(v) is str and len(v) <= max_id) else _text(v, max_id)
    v = get("cs.schema.name")
    schema = v if v is None or (type(v) is str and len(v) <= max_id) else _text(v, max_id)
    v = get("cs.schema.version")
    version = v if v is None or (type(v) is str and len(v) <= max_id) else _text(v, max_id)
    v = get("user.id")
    user = v if v is None or (type(v) is str and len(v) <= max_id) else _text(v, max_id)
    v = get("cs.account.id")
    account = v if v is None or (type(v) is str and len(v) <= max_id) else _text(v, max_id)
    event_name = record.event_name
    time_unix_nano = record.time_unix_nano
    body = record.body
    row = [
        None,
        received_at,
        event_id,
        event_name if len(event_name) <= max_id else None,
        name,
        schema,
        version,
        time_unix_nano if time_unix_nano < 2**63 else None,
        user,
        account,
        service,
        None if body is None else to_json(body),
        to_json(record.attributes),
        None,
    ]
    v = get("session.id")
    session = v if v is None or (type(v) is str and len(v) <= max_id) else _text(v, max_id)
    pilots = get("cs.pilot.ids")
    cohorts = get("cs.pilot.cohorts")
    kind, score = get("cs.feedback.kind"), get("cs.feedback.score")
    comment = get("cs.feedback.comment")
    prompt, area = get("cs.prompt.id"), get("cs.product.area")
    value, unit = get("cs.outcome.value"), get("cs.outcome.unit")
    if (
        session is None
        and not record.trace_id
        and not record.span_id
        and pilots is None
        and cohorts is None
        and kind is None
        and score is None
        and comment is None
        and prompt is None
        and area is None
        and value is None
    ):
        return row  # the usual event: CORE only
    feedback = kind is not None or score is not None or comment is not None
    outcome = value is not None
    row += [
        session,
        record.trace_id or None,
        record.span_id or None,
        to_json(_strings(pilots) or None) if pilots is not None else None,
        to_json(_strings(cohorts) or None) if cohorts is not None else None,
        _text(kind, max_id) if feedback else None,
        _integer(score) if feedback else None,
        _text(comment, _LONG_TEXT) if feedback else None,
        _text(prompt, max_id) if prompt is not None else None,
        _text(area, max_id) if area is not None else None,
        _real(value) if outcome else None,
        _text(unit, max_id) if outcome else None,
    ]
    return row


def _open_private(path: Path) -> None:
    """Create ``path`` 0600, or tighten an existing file (and its -wal/-shm) to 0600,
    never through a symlink: a link planted at the path must not redirect our writes."""
    for name in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
        flags = os.O_RDWR | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
        if name == path:
            flags |= os.O_CREAT
        try:
            fd = os.open(name, flags, 0o600)
        except FileNotFoundError:
            continue  # no -wal yet: SQLite creates it with the database's mode
        except OSError as error:
            if name.is_symlink():
                raise OSError(f"refusing to open {name}: it is a symbolic link") from error
            raise
        try:
            if os.fstat(fd).st_mode & 0o077:
                os.fchmod(fd, 0o600)
        finally:
            os.close(fd)


class SqliteStore:
    """Received events in a SQLite file (WAL mode, created 0600). Thread-safe."""

    def __init__(
        self, path: str | os.PathLike[str], *, chunk: int = 8_192, max_id: int = 256
    ) -> None:
        self.path = Path(path)
        self._chunk = max(1, chunk)
        self._max_id = max_id
        if str(path) != ":memory:":
            # Private before SQLite opens it: events carry user ids and comments.
            _open_private(self.path)
        self._lock = threading.Lock()
        # One connection shared by the server's handler threads, serialised by the lock.
        self._db = sqlite3.connect(str(path), check_same_thread=False, timeout=10)
        switch_to_wal(self._db, time.monotonic() + 10)
        self._db.execute("PRAGMA synchronous=NORMAL")
        # A page cache larger than SQLite's 2 MB default: the index and the table's last
        # pages stay in memory while a million-row file grows.
        self._db.execute("PRAGMA cache_size=-32768")
        prepare(self._db)
        self._resources: dict[str, int] = {}

    def add(self, records: Iterable[ReceivedRecord]) -> int:
        """Store records, one transaction per ``chunk`` rows; returns how many.

        Chunks let other senders' requests and readers in between: a large request does
        not hold the database for the whole of it.
        """
        now = time.time()
        records = list(records)
        for start in range(0, len(records), self._chunk):
            part = records[start : start + self._chunk]
            core: list[list[Any]] = []
            full: list[list[Any]] = []
            rows: list[list[Any]] = []
            runs: list[tuple[int, str]] = []  # (first row, resource JSON): a request's share
            resource: Any = None
            service: str | None = None
            max_id = self._max_id
            for record in part:
                if record.resource is not resource or not runs:
                    resource = record.resource
                    runs.append((len(rows), to_json(resource) or "{}"))
                    service = _text(record.service_name, max_id)
                row = _row(record, now, max_id, service)
                rows.append(row)
                (core if len(row) == _CORE_LENGTH else full).append(row)
            with self._lock, self._db:
                self._db.execute("BEGIN IMMEDIATE")
                first = self._next_id()
                for i, row in enumerate(rows):
                    row[0] = first + i
                for n, (begin, text) in enumerate(runs):
                    end = runs[n + 1][0] if n + 1 < len(runs) else len(rows)
                    resource_id = self._resource_id(text)
                    for row in rows[begin:end]:
                        row[_RESOURCE_SLOT] = resource_id
                insert_rows(self._db, CORE, core)
                insert_rows(self._db, CORE + OPTIONAL, full)
                pilots = [
                    (first + i, pilot, cohorts[n] if n < len(cohorts) else None)
                    for i, record in enumerate(part)
                    if (ids := _strings(record.attributes.get("cs.pilot.ids")))
                    for cohorts in [_strings(record.attributes.get("cs.pilot.cohorts"))]
                    for n, pilot in enumerate(ids)
                ]
                if pilots:
                    self._db.executemany(_INSERT_PILOT, pilots)
        return len(records)

    def _resource_id(self, text: str) -> int:
        # Under the lock, in the transaction. Rows of ``resources`` are never changed or
        # deleted, so a remembered id stays right even when another process writes too.
        found = self._resources.get(text)
        if found is None:
            insert, select = RESOURCE_SQL
            self._db.execute(insert, (text,))
            found = int(self._db.execute(select, (text,)).fetchone()[0])
            if len(self._resources) >= _RESOURCE_CACHE:
                self._resources.clear()
            self._resources[text] = found
        return found

    def _next_id(self) -> int:
        # Ids given explicitly, so that event_pilots can point at them; under the lock and
        # in the transaction no other writer of this connection takes them, and another
        # process's writer waits for our transaction (SQLite has one writer at a time).
        row = self._db.execute("SELECT max(id) FROM events").fetchone()
        seq = self._db.execute("SELECT seq FROM sqlite_sequence WHERE name = 'events'").fetchone()
        return max(row[0] or 0, seq[0] if seq else 0) + 1

    def count(self) -> int:
        """How many events are stored."""
        with self._lock:
            return int(self._db.execute("SELECT count(*) FROM events").fetchone()[0])

    def iter_events(self, after_id: int = 0, limit: int = 1000) -> Iterator[dict[str, Any]]:
        """Up to ``limit`` stored events with ``id > after_id``, in arrival order, as dicts
        (column name -> value); ``limit=-1`` for all. Page with the last row's ``id``."""
        with self._lock:
            cursor = self._db.execute(
                f"SELECT events.*, {SHARED_RESOURCE} FROM events {JOIN_RESOURCE} "
                "WHERE events.id > ? ORDER BY events.id LIMIT ?",
                (after_id, limit),
            )
            names = [column[0] for column in cursor.description]
            rows = cursor.fetchall()
        for row in rows:
            event = dict(zip(names, row, strict=True))
            shared = event.pop("shared_resource")
            event["resource"] = event["resource"] if event["resource"] is not None else shared
            yield event

    def rows(self) -> list[dict[str, Any]]:
        """Every stored event, in arrival order."""
        return list(self.iter_events(limit=-1))

    def close(self) -> None:
        """Close the database; calling it again is harmless."""
        with self._lock:
            self._db.close()
