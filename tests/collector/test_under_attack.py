"""Acceptance (issue 13): a legitimate sender's events all arrive while 1,000 idle
connections and gzip bombs are in progress against a ``cs-sdk collector`` process."""

from __future__ import annotations

import contextlib
import socket
import sqlite3
import threading
from pathlib import Path

import httpx

import cs_sdk

from ._child import ChildCollector, gzip_bomb, raise_own_file_limit

GUARD = 60.0
EVENTS = 3_000


def test_a_sender_is_served_while_1000_idle_connections_and_gzip_bombs_are_in_progress(
    tmp_path: Path,
) -> None:
    # As many idle connections as this process can hold safely: the figure is 1,000.
    idle_count = min(1_000, raise_own_file_limit(4096) - 300)
    assert idle_count >= 500, "the descriptor limit is too low for this test"
    db = tmp_path / "events.db"
    child = ChildCollector("--db", str(db))
    idle: list[socket.socket] = []
    stop_bombs = threading.Event()
    bomb_answers: list[int] = []
    first_bomb = threading.Event()
    bomb = gzip_bomb(512 * 1024 * 1024)

    def bomb_loop() -> None:
        headers = {"Content-Type": "application/x-protobuf", "Content-Encoding": "gzip"}
        with httpx.Client(timeout=GUARD) as http:
            while not stop_bombs.is_set():
                with contextlib.suppress(httpx.TransportError):
                    response = http.post(child.endpoint + "/v1/logs", content=bomb, headers=headers)
                    bomb_answers.append(response.status_code)
                    first_bomb.set()

    bombers = [threading.Thread(target=bomb_loop) for _ in range(3)]
    client = None
    try:
        for index in range(idle_count):
            sock = socket.create_connection(("127.0.0.1", child.port), timeout=GUARD)
            if index % 2:
                sock.sendall(b"POST /v1/logs HTTP/1.1\r\nHost: 127.0.0.1\r\n")  # slowloris
            idle.append(sock)
        for bomber in bombers:
            bomber.start()
        assert first_bomb.wait(GUARD)
        client = cs_sdk.Client(environ={}, endpoint=child.endpoint, max_export_batch_size=500)
        for index in range(EVENTS):
            client.milestone("step", user_id=f"u{index % 7}", properties={"i": index})
        assert client.flush(timeout=GUARD)
        stats = client.stats()
        assert stats["sent"] == EVENTS, stats
        assert stats["dropped_total"] == 0, stats
    finally:
        stop_bombs.set()
        for bomber in bombers:
            bomber.join(GUARD)
        if client is not None:
            client.shutdown()
        for sock in idle:
            sock.close()
        code, out, _ = child.stop()
    assert code == 0
    assert bomb_answers and set(bomb_answers) == {400}
    with contextlib.closing(sqlite3.connect(db)) as reader:
        ids = [row[0] for row in reader.execute("SELECT event_id FROM events")]
    assert len(ids) == len(set(ids)) == EVENTS
    assert f"received {EVENTS} events, 0 duplicates" in out
