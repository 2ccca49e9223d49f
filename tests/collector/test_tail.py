"""``cs-sdk tail``: follows what a running collector stores, filtered, printed safely."""

from __future__ import annotations

import io
import queue
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from cs_sdk.cli import build_parser
from cs_sdk.cli._tail_cmd import run
from cs_sdk.collector import LocalCollector

from ._child import ChildCollector
from .conftest import ATTRIBUTES, PROTOBUF, export_request, log_record

GUARD = 30.0
TAIL_OPTIONS = ("--last", "5", "--interval", "0.05")


def event(name: str, **attributes: object) -> bytes:
    return export_request(
        log_record(attributes={**ATTRIBUTES, "cs.event.name": name, **attributes}, body=None)
    )


class Tail:
    """``cs-sdk tail`` run through its ``run()`` on a thread, printing into a buffer."""

    def __init__(self, *argv: str) -> None:
        self.args = build_parser().parse_args(["tail", *argv, "--interval", "0.02"])
        self.out = io.StringIO()
        self.stop = threading.Event()
        self.code: list[int] = []
        self.thread = threading.Thread(
            target=lambda: self.code.append(run(self.args, self.stop, self.out))
        )
        self.thread.start()

    def lines_when(self, count: int) -> list[str]:
        deadline = time.monotonic() + GUARD
        while time.monotonic() < deadline:
            lines = self.out.getvalue().splitlines()
            if len(lines) >= count:
                return lines
            time.sleep(0.01)
        raise AssertionError(f"expected {count} lines, got {self.out.getvalue()!r}")

    def finish(self) -> int:
        self.stop.set()
        self.thread.join(GUARD)
        assert not self.thread.is_alive()
        return self.code[0]


@pytest.fixture
def stored(tmp_path: Path) -> Iterator[tuple[LocalCollector, Path]]:
    db = tmp_path / "events.db"
    with LocalCollector(db=str(db)) as collector:
        yield collector, db


def send(http: httpx.Client, collector: LocalCollector, body: bytes) -> None:
    response = http.post(
        collector.endpoint + "/v1/logs", content=body, headers={"Content-Type": PROTOBUF}
    )
    assert response.status_code == 200


def test_it_follows_new_events_only_and_filters_them(
    stored: tuple[LocalCollector, Path], http: httpx.Client
) -> None:
    collector, db = stored
    send(http, collector, event("before_tail"))
    assert collector.wait_for(1, timeout=GUARD)
    everything = Tail("--db", str(db))
    pilot_only = Tail("--db", str(db), "--pilot", "p9")
    mixed = Tail("--db", str(db), "--event", "chosen", "--user", "u7", "--account", "acme")
    time.sleep(0.1)  # let the tails take their starting point
    send(http, collector, event("chosen", **{"user.id": "u7"}))
    send(http, collector, event("chosen", **{"user.id": "u8"}))
    send(http, collector, event("tagged", **{"cs.pilot.ids": ["p1", "p9"]}))
    send(http, collector, event("last"))
    lines = everything.lines_when(4)
    assert [line.split("  ")[3] for line in lines] == ["chosen", "chosen", "tagged", "last"]
    assert not any("before_tail" in line for line in lines)
    assert "tagged" in pilot_only.lines_when(1)[0]
    (only,) = mixed.lines_when(1)
    assert "chosen" in only and "user=u7" in only
    for tail in (everything, pilot_only, mixed):
        assert tail.finish() == 0
    assert len(pilot_only.out.getvalue().splitlines()) == 1
    assert len(mixed.out.getvalue().splitlines()) == 1


def test_last_shows_the_latest_first_and_fields_print_escaped(
    stored: tuple[LocalCollector, Path], http: httpx.Client
) -> None:
    collector, db = stored
    send(http, collector, event("old"))
    send(http, collector, event("forged", **{"user.id": "u1\n12:00:00.000  web  fake\x1b[31m"}))
    assert collector.wait_for(2, timeout=GUARD)
    tail = Tail("--db", str(db), "--last", "1")
    (line,) = tail.lines_when(1)
    assert tail.finish() == 0
    assert tail.out.getvalue().count("\n") == 1
    assert "user=u1\\x0a12:00:00.000  web  fake\\x1b[31m" in line


def test_a_missing_database_is_a_clear_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = build_parser().parse_args(["tail", "--db", str(tmp_path / "none.db")])
    assert run(args, threading.Event(), io.StringIO()) == 2
    assert "no database at" in capsys.readouterr().err


@pytest.mark.parametrize("stop_signal", [signal.SIGINT, signal.SIGTERM], ids=["ctrl_c", "sigterm"])
def test_a_real_tail_process_follows_a_collector_process_and_stops_on_a_signal(
    tmp_path: Path, stop_signal: signal.Signals
) -> None:
    db = tmp_path / "events.db"
    collector = ChildCollector("--db", str(db))
    tail = subprocess.Popen(
        # --last: the events are shown once whether they are stored before the tail has
        # started (then as the latest) or after (then as new ones).
        [sys.executable, "-m", "cs_sdk.cli", "tail", "--db", str(db), *TAIL_OPTIONS],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    lines: queue.Queue[str] = queue.Queue()

    def read() -> None:
        assert tail.stdout is not None
        for line in tail.stdout:
            lines.put(line.rstrip("\n"))

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        with httpx.Client(timeout=GUARD) as http:
            for name in ("one", "two"):
                response = http.post(
                    collector.endpoint + "/v1/logs",
                    content=event(name),
                    headers={"Content-Type": PROTOBUF},
                )
                assert response.status_code == 200
        assert "one" in lines.get(timeout=GUARD)
        assert "two" in lines.get(timeout=GUARD)
        time.sleep(0.2)
        assert lines.empty()  # each once
        tail.send_signal(stop_signal)
        assert tail.wait(timeout=GUARD) == 0
        assert tail.stderr is not None
        assert tail.stderr.read() == ""
    finally:
        if tail.poll() is None:
            tail.kill()
            tail.wait(GUARD)
        for stream in (tail.stdout, tail.stderr):
            if stream is not None:
                stream.close()
        collector.kill()


def test_the_service_comes_from_the_shared_resource_or_an_older_row_s_own(
    stored: tuple[LocalCollector, Path], http: httpx.Client
) -> None:
    collector, db = stored
    send(http, collector, event("new_row"))
    # An older collector's row: its resource inline, no resource_id.
    with sqlite3.connect(db) as older:
        older.execute(
            "INSERT INTO events (received_at, event_name, name, attributes, resource) "
            "VALUES (1.0, 'cs.milestone', 'old_row', '{\"cs.event.name\": \"old_row\"}', "
            '\'{"service.name": "legacy"}\')'
        )
    older.close()
    tail = Tail("--db", str(db), "--last", "5")
    new, old = tail.lines_when(2)
    assert tail.finish() == 0
    assert "  web  " in new and "new_row" in new
    assert "  legacy  " in old and "old_row" in old
