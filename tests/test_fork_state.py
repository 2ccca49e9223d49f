"""Fork safety of the state stores, caches and prompt sources (not only the pipeline's).

A pre-fork server (gunicorn, celery prefork) forks while the parent's threads run: the
worker tagging an event holds the store lock and the tag cache lock for a moment. The child
of a fork made at that moment must still enrol, list, evaluate and show, and exit.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceResponse
from state._forking import fork_while_held  # tests/state/_forking.py

import cs_sdk
from cs_sdk._prompts import UrlSource
from cs_sdk.state import SqliteStore

pytestmark = [
    pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork"),
    pytest.mark.filterwarnings("ignore:This process .* is multi-threaded:DeprecationWarning"),
]

CONFIG = {
    "throttle": {"global_wait_days": 0},
    "pilots": [{"id": "beta"}],
    "prompts": [
        {"id": "nps", "kind": "nps", "question": "Recommend us?", "targeting": {"pilots": ["beta"]}}
    ],
}


def accept(request: httpx.Request) -> httpx.Response:
    return httpx.Response(200, content=ExportLogsServiceResponse().SerializeToString())


@pytest.fixture(params=["memory", "sqlite"])
def client(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[cs_sdk.Client]:
    config = tmp_path / "pilots.json"
    config.write_text(json.dumps(CONFIG))
    state = "memory" if request.param == "memory" else f"sqlite:///{tmp_path}/state.db"
    client = cs_sdk.Client(
        environ={},
        service_name="fork",
        state=state,
        prompts=str(config),
        schedule_delay=60,
        http_client=httpx.Client(transport=httpx.MockTransport(accept)),
    )
    yield client
    client.shutdown(timeout=1.0)


def state_locks(client: cs_sdk.Client) -> list[Any]:
    """Every lock of the client's pilots and prompts that a parent thread may hold."""
    pilots, prompts = client.pilots, client.prompts
    return [
        pilots._store._lock,
        pilots._tags._lock,
        prompts._cache._lock,
        prompts._answers._lock,
        prompts._compile_lock,
        prompts._source._lock,
        history_step(client)._seen._lock,
    ]


def history_step(client: cs_sdk.Client) -> Any:
    (step,) = (s.process for s in client.processors._steps if s.name == "prompt_history")
    return step


def test_a_child_forked_while_state_locks_are_held_can_use_pilots_and_prompts(
    client: cs_sdk.Client,
) -> None:
    client.pilots.enroll("u1", "beta")
    assert client.prompts.next_for("u1") is not None  # compiled and cached before the fork
    store = client.pilots._store
    inherited = getattr(store, "_conn", None)
    history = history_step(client)

    def child() -> None:
        assert [m.pilot for m in client.pilots.of("u1")] == ["beta"]  # the parent's state
        assert client.pilots.enroll("u2", "beta") is not None
        assert [m.pilot for m in client.pilots.of("u2")] == ["beta"]
        assert client.pilots.tags("u2") == (("beta", None),)
        assert client.prompts.reload() is False  # the file source's lock
        client.prompts._compiled = None  # compile again, under the compile lock
        prompt = client.prompts.next_for("u2")
        assert prompt is not None and client.prompts.shown(prompt.id, "u2")
        client.prompts.answered(prompt.id, "u2")
        assert client.prompts.next_for("u2") is None
        assert client.pilots.exit("u2", "beta")
        history._seen.invalidate(("u2", "first_report"))  # the history step's cache
        if isinstance(store, SqliteStore):  # SQLite: a connection never crosses a fork
            assert store._conn is not None and store._conn is not inherited

    assert fork_while_held(state_locks(client), child) == 0
    # The parent goes on as before; with SQLite it also sees what the child wrote.
    assert [m.pilot for m in client.pilots.of("u1")] == ["beta"]
    if isinstance(store, SqliteStore):
        assert store.history("u2", "nps").answered_at is not None


def test_a_child_forked_during_a_config_poll_can_reload_and_poll() -> None:
    served = {"n": 0}

    def serve(request: httpx.Request) -> httpx.Response:
        served["n"] += 1
        return httpx.Response(200, json=CONFIG, headers={"ETag": f'"v{served["n"]}"'})

    source = UrlSource(
        "https://config.example/pilots.json",
        interval=3600,
        http_client=httpx.Client(transport=httpx.MockTransport(serve)),
    )
    assert source.reload() is True

    def child() -> None:
        source.reload()  # the poller held this lock in the parent during its request
        source.poll()  # starts the child's own poller thread
        assert source._thread is not None and source._thread.is_alive()
        source.close()

    assert fork_while_held([source._lock], child) == 0
    source.close()
