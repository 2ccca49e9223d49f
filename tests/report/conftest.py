from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest

from cs_sdk.report import ClickHouseExecutor, Executor, open_sqlite

from . import _data


class ChdbQuery:
    """``query(sql, params) -> rows`` on chdb, the in-process ClickHouse engine."""

    def __init__(self, session: Any) -> None:
        self.session = session

    def __call__(self, sql: str, params: Mapping[str, Any]) -> list[list[Any]]:
        result = self.session.query(sql, "JSONCompact", params=dict(params))
        text = result.bytes()
        return json.loads(text)["data"] if text else []


@pytest.fixture
def chdb_session(tmp_path: Path) -> Iterator[Any]:
    from chdb import session

    sess = session.Session(str(tmp_path / "chdb"))
    sess.query(_data.otel_logs_ddl())
    yield sess
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
