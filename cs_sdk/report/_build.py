"""Open a source, read the configuration, build every pilot's figures."""

from __future__ import annotations

import datetime as _dt
import importlib
import importlib.util
import threading
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from .._prompts._config import PromptConfig, load_config
from ._dialect import ClickHouseExecutor, Executor, SqliteExecutor
from ._figures import build_pilot
from ._model import Note, PilotReport, Report
from ._queries import Queries

__all__ = ["build_report", "open_clickhouse", "open_sqlite"]


def open_sqlite(path: str | Path) -> SqliteExecutor:
    """The SQLite file ``cs-sdk collector --db`` writes, opened read-only.

    Raises:
        FileNotFoundError: there is no such file.
        ValueError: the file has no ``events`` table.
    """
    if not Path(path).is_file():
        raise FileNotFoundError(f"{path}: no such file")
    executor = SqliteExecutor(str(path))
    if not executor.has_table():
        executor.close()
        raise ValueError(f"{path}: no events table (is it a database cs-sdk collector wrote?)")
    return executor


def open_clickhouse(url: str) -> ClickHouseExecutor:
    """The exporter's table through clickhouse-connect.

    ``url``: ``clickhouse://user:password@host:8123/database?table=otel_logs`` (``https://``
    for TLS, which verifies certificates). The table defaults to ``otel_logs``.

    Raises:
        ImportError: clickhouse-connect is not installed (the ``report`` extra).
    """
    if importlib.util.find_spec("clickhouse_connect") is None:
        raise ImportError("--clickhouse needs clickhouse-connect: pip install 'cs-sdk[report]'")
    import clickhouse_connect

    parts = urlsplit(url)
    table = parse_qs(parts.query).get("table", ["otel_logs"])[0]
    secure = parts.scheme in ("https", "clickhouses")
    client = clickhouse_connect.get_client(
        host=parts.hostname or "localhost",
        port=parts.port or (8443 if secure else 8123),
        username=parts.username or "default",
        password=parts.password or "",
        database=parts.path.strip("/") or "default",
        secure=secure,
        # A report is a handful of aggregate queries: a hung server must not hang the CLI.
        send_receive_timeout=120,
        connect_timeout=10,
    )

    def query(sql: str, params: Any) -> Any:
        return client.query(sql, parameters=dict(params)).result_rows

    return ClickHouseExecutor(query, table=table)


def _prefetch(themes: bool) -> None:
    # scikit-learn and scipy take a second or two to import, all Python work; the queries
    # mostly wait on SQLite, which releases the GIL. Importing them on a thread while the
    # queries run overlaps the two on a machine with a spare core.
    names = ["scipy.stats"] + (["sklearn.decomposition", "sklearn.feature_extraction.text"]
                               if themes else [])  # fmt: skip
    names = [n for n in names if importlib.util.find_spec(n.split(".")[0]) is not None]

    def load() -> None:
        for name in names:
            try:
                importlib.import_module(name)
            except ImportError:  # a broken install: the caller's own import says why
                return

    threading.Thread(target=load, name="cs-sdk-report-imports", daemon=True).start()


def _iso(ns: Any) -> str | None:
    if ns is None:
        return None
    moment = _dt.datetime.fromtimestamp(int(ns) / 1e9, tz=_dt.timezone.utc)
    return moment.isoformat(timespec="seconds")


def build_report(
    executor: Executor,
    config: PromptConfig | str | Path | None = None,
    *,
    source: str = "",
    themes: bool = True,
    pilots: list[str] | None = None,
) -> Report:
    """Every pilot's figures from ``executor`` (``open_sqlite``/``open_clickhouse``).

    ``config``: the pilot document (a path or a loaded ``PromptConfig``); without it the
    pilots found in the data are reported and the notes say which fields would add what.
    ``pilots``: only these pilot ids.

    Raises:
        cs_sdk.PromptConfigError: the configuration file is invalid.
    """
    if isinstance(config, str | Path):
        config = load_config(config)
    _prefetch(themes)
    queries = Queries(executor)
    events, first, last = queries.overview()
    notes: list[Note] = []
    if config is None:
        notes.append(
            Note(
                "configuration",
                "no configuration: pass --config pilots.toml for the "
                "success metric, the funnel and routing to teams",
            )
        )
    specs = {p.id: p for p in config.pilots} if config else {}
    found = [str(row[0]) for row in queries.pilots()]
    ids = [*specs, *(p for p in found if p not in specs)]
    if pilots is not None:
        ids = [p for p in ids if p in pilots]
    if not int(events or 0):
        notes.append(Note("events", "the store holds no events"))
    elif not ids:
        notes.append(
            Note(
                "pilots",
                "no pilot: no one was enrolled (cs_sdk.pilots.enroll) and the "
                "configuration defines none",
            )
        )
    reports: list[PilotReport] = [
        build_pilot(queries, pilot_id, specs.get(pilot_id), config, themes=themes)
        for pilot_id in ids
    ]
    return Report(
        generated_at=_dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        source=source,
        events=int(events or 0),
        first_event=_iso(first),
        last_event=_iso(last),
        pilots=reports,
        notes=notes,
    )
