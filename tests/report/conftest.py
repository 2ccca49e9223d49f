from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest

from cs_sdk._prompts import parse_config
from cs_sdk.report import ClickHouseExecutor, Executor, Report, build_report, open_sqlite

from . import _data


class ChdbQuery:
    """``query(sql, params) -> rows`` on chdb, the in-process ClickHouse engine."""

    def __init__(self, session: Any) -> None:
        self.session = session

    def __call__(self, sql: str, params: Mapping[str, Any]) -> list[list[Any]]:
        result = self.session.query(sql, "JSONCompact", params=dict(params))
        text = result.bytes()
        return json.loads(text)["data"] if text else []


def open_chdb(path: Path) -> Any:
    """A chdb session holding the exporter's empty otel_logs table."""
    from chdb import session

    sess = session.Session(str(path))
    sess.query(_data.otel_logs_ddl())
    return sess


@pytest.fixture
def chdb_session(tmp_path: Path) -> Iterator[Any]:
    sess = open_chdb(tmp_path / "chdb")
    yield sess
    sess.close()


@pytest.fixture(scope="module", params=["sqlite", "clickhouse"])
def fixed_report(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Report]:
    """The report over tests/report/_data.py, built once per store for a module."""
    config = parse_config(_data.CONFIG)
    tmp = tmp_path_factory.mktemp(request.param)
    if request.param == "sqlite":
        executor = open_sqlite(_data.write_sqlite(tmp / "events.db"))
        yield build_report(executor, config)
        executor.close()
    else:
        sess = open_chdb(tmp / "chdb")
        _data.insert_clickhouse(sess)
        yield build_report(ClickHouseExecutor(ChdbQuery(sess)), config)
        sess.close()


def make_source(kind: str, tmp_path: Path, chdb_session: Any, recs: Any = None) -> Executor:
    if kind == "sqlite":
        return open_sqlite(_data.write_sqlite(tmp_path / "events.db", recs))
    _data.insert_clickhouse(chdb_session, recs)
    return ClickHouseExecutor(ChdbQuery(chdb_session))


@pytest.fixture(params=["sqlite", "clickhouse"])
def source(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Executor]:
    if request.param == "sqlite":
        executor = make_source("sqlite", tmp_path, None)
        yield executor
        executor.close()  # type: ignore[attr-defined]
    else:
        yield make_source("clickhouse", tmp_path, request.getfixturevalue("chdb_session"))
