"""Where the events live: the two stores the report reads, behind one small interface.

The report's SQL is written once (``_queries.py``) against *logical* columns; a
:class:`Dialect` says what each logical column is in one store:

- ``cs-sdk collector``'s SQLite table ``events``: the mapped fields are columns
  (``event_name``, ``user_id``, ``feedback_score``...), anything else is read from the JSON
  column ``attributes`` with ``json_extract``;
- the OpenTelemetry Collector ClickHouse exporter's ``otel_logs``: ``EventName`` and the
  ``LogAttributes`` map, whose values are strings (``'9'`` for an int attribute, JSON text
  for an array), so numbers are cast and a missing key (``''``) becomes NULL.

An :class:`Executor` runs one statement with named parameters and returns rows as tuples.
Seams are injected: the ClickHouse executor takes any ``query(sql, params) -> rows``
callable, a ``clickhouse_connect`` client in production, chdb (in-process ClickHouse) in the
tests, so both run the same SQL.
"""

from __future__ import annotations

import re
import sqlite3
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Protocol

__all__ = ["CLICKHOUSE", "SQLITE", "Dialect", "Executor", "SqliteExecutor", "ClickHouseExecutor"]

Row = tuple[Any, ...]


class Executor(Protocol):
    """Runs one SELECT with named parameters; returns every row."""

    dialect: Dialect
    workers: int  # how many queries may run at once

    def query(self, sql: str, params: Mapping[str, Any]) -> list[Row]: ...


@dataclass(frozen=True, slots=True)
class Dialect:
    """The logical columns of an event and the few SQL spellings that differ."""

    name: str
    table: str
    event: str  # the schema name: cs.milestone, cs.feedback, ...
    name_col: str  # cs.event.name: the milestone name, the feedback kind, ...
    user: str
    account: str
    time_ns: str  # int, nanoseconds since the epoch
    event_id: str
    kind: str
    score: str
    comment: str
    prompt: str
    area: str
    outcome_value: str
    outcome_unit: str
    attr_template: str  # format string with {key}
    param_template: str  # format string with {name} and {type}
    idiv_template: str  # format string with {a} and {b}
    regex_template: str  # format string with {text} and {pattern}; true when it matches
    unindexed_template: str = "{expr}"
    materialized_keyword: str = ""
    suffix: str = ""

    def unindexed(self, expr: str) -> str:
        """``expr`` as a join key the planner must not look up through an index.

        SQLite would otherwise drive a join of participants with, say, feedback events
        through the ``user_id`` index, reading every event of every participant, instead of
        the few feedback events through ``event_name``; ``+column`` is SQLite's documented
        way to rule an index out. ClickHouse has no such planner choice: unchanged."""
        return self.unindexed_template.format(expr=expr)

    def materialized(self, name: str, body: str) -> str:
        """The common table expression ``name AS (body)``, computed once into a table of its
        own when it is joined with another set of events.

        Without statistics (the collector keeps none) SQLite's planner takes a lookup of
        one event name to find about ten rows, and may nest one such lookup inside another:
        feedback x answers read 12,000 x 2,700 rows of a million-event store (150 s). Two
        MATERIALIZED sides leave it one choice, a scan of one and an automatic index on the
        other. ClickHouse joins by hashing the right side: unchanged."""
        return f"{name} AS {self.materialized_keyword}({body})"

    def attr(self, key: str) -> str:
        """A string attribute without its own column; NULL when absent."""
        return self.attr_template.format(key=key)

    def param(self, name: str, type_: str = "String") -> str:
        """The placeholder of the named parameter ``name``."""
        return self.param_template.format(name=name, type=type_)

    def idiv(self, a: str, b: str) -> str:
        """Integer division."""
        return self.idiv_template.format(a=a, b=b)

    def matches(self, text: str, pattern: str) -> str:
        """True when the regular expression ``pattern`` (a placeholder) is found in ``text``."""
        return self.regex_template.format(text=text, pattern=pattern)


SQLITE = Dialect(
    name="sqlite",
    table="events",
    event="event_name",
    name_col="name",
    user="user_id",
    account="account_id",
    time_ns="time_unix_nano",
    event_id="event_id",
    kind="feedback_kind",
    score="feedback_score",
    comment="feedback_comment",
    prompt="prompt_id",
    area="product_area",
    outcome_value="outcome_value",
    outcome_unit="outcome_unit",
    # Attribute names hold dots: quoted as one JSON path member.
    attr_template="json_extract(attributes, '$.\"{key}\"')",
    param_template=":{name}",
    idiv_template="(({a}) / ({b}))",
    regex_template="cs_regexp({pattern}, {text})",
    unindexed_template="+{expr}",
    # The keyword came with SQLite 3.35 (2021); older ones parse the statement without it
    # (same figures, and the plan the planner picks).
    materialized_keyword="MATERIALIZED " if sqlite3.sqlite_version_info >= (3, 35) else "",
)


def _ch_attr(key: str, cast: str = "") -> str:
    value = f"LogAttributes['{key}']"
    return f"{cast}OrNull({value})" if cast else f"nullIf({value}, '')"


CLICKHOUSE = Dialect(
    name="clickhouse",
    table="otel_logs",
    event="EventName",
    name_col=_ch_attr("cs.event.name"),
    user=_ch_attr("user.id"),
    account=_ch_attr("cs.account.id"),
    time_ns="toInt64(toUnixTimestamp64Nano(Timestamp))",
    event_id=_ch_attr("cs.event.id"),
    kind=_ch_attr("cs.feedback.kind"),
    score=_ch_attr("cs.feedback.score", "toInt64"),
    comment=_ch_attr("cs.feedback.comment"),
    prompt=_ch_attr("cs.prompt.id"),
    area=_ch_attr("cs.product.area"),
    outcome_value=_ch_attr("cs.outcome.value", "toFloat64"),
    outcome_unit=_ch_attr("cs.outcome.unit"),
    attr_template="nullIf(LogAttributes['{key}'], '')",
    param_template="{{{name}:{type}}}",
    idiv_template="intDiv({a}, {b})",
    # match() is RE2; the patterns the configuration accepts are written for both.
    regex_template="coalesce(match({text}, {pattern}), 0)",
    # Outer joins give NULL, not the type's default, for a missing side: as in SQLite.
    suffix=" SETTINGS join_use_nulls = 1",
)


def _regexp(pattern: str | None, text: str | None) -> bool:
    # Patterns were compiled once when the configuration was validated; re caches them.
    return pattern is not None and text is not None and re.search(pattern, text) is not None


class SqliteExecutor:
    """Reads ``cs-sdk collector``'s SQLite file, read-only (the collector may be writing).

    One connection per thread: the report runs its independent queries on ``workers``
    threads (SQLite releases the GIL while it works), which on two cores nearly halves the
    time of a report over a million events."""

    workers = 2

    def __init__(self, path: str, *, table: str = "events") -> None:
        self.dialect = _with_table(SQLITE, table)
        # mode=ro: the report never writes; WAL lets it read while the collector ingests.
        self._uri = Path(path).resolve().as_uri() + "?mode=ro"
        self._local = threading.local()
        self._lock = threading.Lock()
        self._all: list[sqlite3.Connection] = []
        self._connection()

    def _connection(self) -> sqlite3.Connection:
        db: sqlite3.Connection | None = getattr(self._local, "db", None)
        if db is None:
            # check_same_thread=False only so that close() may close every thread's
            # connection; each is used by the one thread that opened it.
            db = sqlite3.connect(self._uri, uri=True, timeout=10, check_same_thread=False)
            db.create_function("cs_regexp", 2, _regexp, deterministic=True)
            self._local.db = db
            with self._lock:
                self._all.append(db)
        return db

    def query(self, sql: str, params: Mapping[str, Any]) -> list[Row]:
        rows = self._connection().execute(sql + self.dialect.suffix, dict(params))
        return [tuple(row) for row in rows]

    def has_table(self) -> bool:
        """True when the file holds the events table."""
        row = (
            self._connection()
            .execute(
                "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?",
                (self.dialect.table,),
            )
            .fetchone()
        )
        return bool(row[0])

    def close(self) -> None:
        """Close every connection; calling it again is harmless."""
        with self._lock:
            for db in self._all:
                db.close()
            self._all.clear()
        self._local = threading.local()


QueryFn = Callable[[str, Mapping[str, Any]], Sequence[Sequence[Any]]]


class ClickHouseExecutor:
    """Reads the exporter's ``otel_logs`` through ``query_fn(sql, params) -> rows``.

    One query at a time (``workers = 1``): the server parallelises each query itself, and
    neither a clickhouse-connect client nor a chdb session takes concurrent queries."""

    workers = 1

    def __init__(self, query_fn: QueryFn, *, table: str = "otel_logs") -> None:
        self.dialect = _with_table(CLICKHOUSE, table)
        self._query = query_fn

    def query(self, sql: str, params: Mapping[str, Any]) -> list[Row]:
        return [tuple(row) for row in self._query(sql + self.dialect.suffix, params)]


_TABLE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)?$")


def _with_table(dialect: Dialect, table: str) -> Dialect:
    # The table name is spliced into SQL: only plain [db.]name identifiers are accepted.
    if not _TABLE.match(table):
        raise ValueError(f"not a table name: {table!r}")
    return replace(dialect, table=table)
