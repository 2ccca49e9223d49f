"""The collector under hostile traffic (issue 13): every request is bounded in memory, time,
threads and descriptors, and a legitimate sender keeps being served."""

from __future__ import annotations

import gzip
import json
import socket
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import httpx
import pytest

from cs_sdk.collector import Limits, LocalCollector

from ._child import ChildCollector, empty_records, gzip_bomb
from .conftest import (
    ATTRIBUTES,
    JSON,
    PROTOBUF,
    encode_json,
    export_request,
    json_request,
    log_record,
    milestones,
    post,
)
from .test_server import rpc_status

MIB = 1024 * 1024
GUARD = 30.0  # a hang guard, not a budget


def closed_by_server(sock: socket.socket, timeout: float = GUARD) -> bool:
    """Whether the server closes ``sock`` (EOF or reset) before ``timeout``."""
    sock.settimeout(timeout)
    try:
        while sock.recv(65536):
            pass
    except (ConnectionResetError, BrokenPipeError):
        return True
    except TimeoutError:
        return False
    return True


def gzip_post(http: httpx.Client, collector: LocalCollector, body: bytes) -> httpx.Response:
    headers = {"Content-Type": PROTOBUF, "Content-Encoding": "gzip"}
    return http.post(collector.endpoint + "/v1/logs", content=body, headers=headers)


@pytest.fixture
def small() -> Iterator[LocalCollector]:
    limits = Limits(
        max_body=MIB,
        max_records=1_000,
        max_attributes=64,
        max_depth=8,
        header_timeout=0.5,
        body_timeout=0.5,
        idle_timeout=0.5,
        max_connections=16,
    )
    with LocalCollector(limits=limits) as running:
        yield running


# -- small requests that expand into huge work ------------------------------------------


def test_a_million_empty_records_in_2_kib_is_413_with_a_status(
    small: LocalCollector, http: httpx.Client
) -> None:
    body = empty_records(1_000_000)
    assert len(body) < 4096
    response = gzip_post(http, small, body)
    assert response.status_code == 413
    code, message = rpc_status(response)
    assert code == 8  # RESOURCE_EXHAUSTED
    assert "1000" in message
    assert small.records == []
    assert post(http, small, export_request()).status_code == 200


def test_records_over_the_limit_are_413_in_json_too(
    small: LocalCollector, http: httpx.Client
) -> None:
    document = json_request()
    records = document["resourceLogs"][0]["scopeLogs"][0]["logRecords"]
    document["resourceLogs"][0]["scopeLogs"][0]["logRecords"] = records * 1_001
    response = post(http, small, encode_json(document), JSON)
    assert response.status_code == 413
    assert response.json()["code"] == 8


def test_a_json_body_of_a_million_empty_objects_is_413_before_it_is_parsed(
    small: LocalCollector, http: httpx.Client
) -> None:
    body = b'{"resourceLogs": [' + b"{}," * 999_999 + b"{}]}"
    response = http.post(
        small.endpoint + "/v1/logs",
        content=gzip.compress(body),
        headers={"Content-Type": JSON, "Content-Encoding": "gzip"},
    )
    assert response.status_code == 413
    assert "send protobuf" in response.json()["message"]


def test_a_request_at_the_record_limit_is_taken(small: LocalCollector, http: httpx.Client) -> None:
    assert post(http, small, milestones(1_000)).status_code == 200
    assert small.wait_for(1_000, timeout=GUARD)


def test_too_many_attributes_on_a_record_is_400(small: LocalCollector, http: httpx.Client) -> None:
    attributes = {**ATTRIBUTES, **{f"a{n}": n for n in range(100)}}
    response = post(http, small, export_request(log_record(attributes=attributes)))
    assert response.status_code == 400
    code, message = rpc_status(response)
    assert code == 3
    assert "attributes" in message


def test_a_gzip_body_inflates_only_to_a_multiple_of_the_body_limit(
    small: LocalCollector, http: httpx.Client
) -> None:
    bomb = gzip_bomb(small.limits.max_inflated + MIB)
    assert len(bomb) < small.limits.max_body
    response = gzip_post(http, small, bomb)
    assert response.status_code == 400
    assert "inflates past" in rpc_status(response)[1]


def nested(depth: int) -> dict[str, object]:
    value: dict[str, object] = {"leaf": 1}
    for _ in range(depth):
        value = {"inner": value}
    return value


def _field(number: int, payload: bytes) -> bytes:
    from ._child import _len_field

    return _len_field(number, payload)


def hand_nested_request(depth: int) -> bytes:
    """A request whose record body nests ``depth`` maps, built on the wire (the protobuf
    library refuses to build it)."""
    value = _field(1, b"x")  # AnyValue.string_value
    for _ in range(depth):
        key_value = _field(1, b"k") + _field(2, value)  # KeyValue
        value = _field(6, _field(1, key_value))  # AnyValue.kvlist_value.values
    record = _field(5, value)  # LogRecord.body
    return _field(1, _field(2, _field(2, record)))


def test_deep_nesting_is_400_not_500(small: LocalCollector, http: httpx.Client) -> None:
    deep = export_request(log_record(body=nested(20)))
    response = post(http, small, deep)
    assert response.status_code == 400
    assert "nested" in rpc_status(response)[1]
    response = post(http, small, hand_nested_request(300))  # past protobuf's own limit
    assert response.status_code == 400
    document = '{"resourceLogs": [' + '{"a": [' * 400 + "]}" * 400 + "]}"
    response = post(http, small, document.encode(), JSON)
    assert response.status_code == 400
    assert post(http, small, export_request()).status_code == 200


def test_404_and_405_carry_a_status_body(small: LocalCollector, http: httpx.Client) -> None:
    missing = post(http, small, export_request(), path="/nowhere")
    assert missing.status_code == 404
    assert rpc_status(missing)[0] == 5  # NOT_FOUND
    wrong = http.put(small.endpoint + "/v1/logs", content=b"", headers={"Content-Type": JSON})
    assert wrong.status_code == 405
    assert wrong.json()["code"] == 12  # UNIMPLEMENTED
    assert "POST" in wrong.json()["message"]


@pytest.mark.parametrize("signal_path", ["/v1/traces", "/v1/metrics"])
def test_traces_and_metrics_are_told_this_collector_takes_logs_only(
    small: LocalCollector, http: httpx.Client, signal_path: str
) -> None:
    response = post(http, small, encode_json({}), JSON, path=signal_path)
    assert response.status_code == 404
    assert response.json()["code"] == 5
    assert "logs only" in response.json()["message"]


# -- sockets, threads, descriptors ------------------------------------------------------


def test_a_slowloris_head_is_closed_after_the_header_timeout(small: LocalCollector) -> None:
    with socket.create_connection(("127.0.0.1", small.port), timeout=GUARD) as sock:
        sock.sendall(b"POST /v1/logs HTTP/1.1\r\nHost: 127.0.0.1\r\n")  # never ends
        assert closed_by_server(sock)


def test_a_lying_content_length_is_closed_after_the_body_timeout(small: LocalCollector) -> None:
    with socket.create_connection(("127.0.0.1", small.port), timeout=GUARD) as sock:
        sock.sendall(
            b"POST /v1/logs HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-protobuf"
            b"\r\nContent-Length: 1000\r\n\r\nshort"
        )
        assert closed_by_server(sock)
    assert small.records == []


def test_an_idle_connection_is_closed_after_the_idle_timeout(small: LocalCollector) -> None:
    with socket.create_connection(("127.0.0.1", small.port), timeout=GUARD) as sock:
        assert closed_by_server(sock)


LYING_HEAD = (
    b"POST /v1/logs HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-protobuf\r\n"
    b"Content-Length: 100000\r\n\r\nx"
)


def test_at_the_connection_limit_the_longest_waiting_is_closed_and_a_new_sender_served(
    http: httpx.Client,
) -> None:
    limits = Limits(max_connections=8, idle_timeout=GUARD, header_timeout=GUARD)
    with LocalCollector(limits=limits) as collector:
        idle = [socket.create_connection(("127.0.0.1", collector.port)) for _ in range(20)]
        try:
            for index, sock in enumerate(idle):
                # A head started and never finished, or a body promised and never sent.
                sock.sendall(b"P" if index % 2 else LYING_HEAD)
            assert post(http, collector, export_request()).status_code == 200
            open_ones = [sock for sock in idle if not closed_by_server(sock, timeout=0.2)]
            assert len(open_ones) < 8
        finally:
            for sock in idle:
                sock.close()


def test_200_concurrent_senders_are_all_answered(collector: LocalCollector) -> None:
    results: list[int] = []
    lock = threading.Lock()
    body = export_request()
    barrier = threading.Barrier(200, timeout=GUARD)

    def send() -> None:
        with httpx.Client(timeout=GUARD) as client:
            barrier.wait()
            try:
                status = post(client, collector, body).status_code
            except httpx.TransportError:
                status = 0
        with lock:
            results.append(status)

    threads = [threading.Thread(target=send) for _ in range(200)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(GUARD)
    assert results == [200] * 200
    assert collector.wait_for(200, timeout=GUARD)


# -- memory -----------------------------------------------------------------------------


def test_records_and_requests_are_a_bounded_window_and_counters_cover_all(
    http: httpx.Client,
) -> None:
    with LocalCollector(keep=10) as collector:
        for _ in range(5):
            assert post(http, collector, milestones(10)).status_code == 200
        assert collector.wait_for(50, timeout=GUARD)
        assert collector.received == 50
        assert len(collector.records) == 10
        assert [r.name for r in collector.records] == [f"m{n}" for n in range(10)]
        assert len(collector.requests) == 5
        assert collector.wait_for_requests(5, timeout=GUARD)


def test_headers_kept_in_memory_hide_the_authorization_value(http: httpx.Client) -> None:
    with LocalCollector(token="s3cret") as collector:
        headers = {"Content-Type": PROTOBUF, "Authorization": "Bearer s3cret"}
        response = http.post(
            collector.endpoint + "/v1/logs", content=export_request(), headers=headers
        )
        assert response.status_code == 200
        assert collector.requests[0].headers["authorization"] == "***"


def test_a_long_running_collector_does_not_grow_with_every_event(tmp_path: Path) -> None:
    child = ChildCollector("--db", str(tmp_path / "events.db"))
    try:
        with httpx.Client(timeout=GUARD) as http:
            body = milestones(2_000)
            headers = {"Content-Type": PROTOBUF}
            for _ in range(5):  # warm up: the pool, the database pages, the allocator
                assert http.post(child.endpoint + "/v1/logs", content=body, headers=headers)
            before = child.rss()
            for _ in range(50):  # 100,000 events, ~110 MB if each were kept (1.1 KB each)
                response = http.post(child.endpoint + "/v1/logs", content=body, headers=headers)
                assert response.status_code == 200
            grown = child.rss() - before
        code, out, _ = child.stop()
        assert code == 0
        assert "received 110000 events" in out
        assert grown < 40 * MIB, grown
    finally:
        child.kill()


def test_eight_gzip_bombs_at_once_stay_within_a_bounded_memory() -> None:
    child = ChildCollector()
    try:
        baseline = child.peak_rss()
        bomb = gzip_bomb(1024 * MIB)  # 1 GiB of zeros in ~1 MiB
        answers: list[int] = []

        def send() -> None:
            with httpx.Client(timeout=GUARD) as http:
                headers = {"Content-Type": PROTOBUF, "Content-Encoding": "gzip"}
                answers.append(
                    http.post(
                        child.endpoint + "/v1/logs", content=bomb, headers=headers
                    ).status_code
                )

        threads = [threading.Thread(target=send) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(GUARD * 2)
        assert answers == [400] * 8
        # Two decoders at most, each inflating to 4 x 16 MiB: generous, far from 2.37 GiB.
        assert child.peak_rss() - baseline < 400 * MIB
    finally:
        child.kill()


def test_a_million_empty_records_cost_little_memory_and_do_not_block_a_sender() -> None:
    child = ChildCollector()
    try:
        baseline = child.peak_rss()
        bomb = empty_records(1_000_000)
        with httpx.Client(timeout=GUARD) as http:
            headers = {"Content-Type": PROTOBUF, "Content-Encoding": "gzip"}
            assert (
                http.post(child.endpoint + "/v1/logs", content=bomb, headers=headers).status_code
                == 413
            )
            ok = http.post(
                child.endpoint + "/v1/logs",
                content=export_request(),
                headers={"Content-Type": PROTOBUF},
            )
            assert ok.status_code == 200
        assert child.peak_rss() - baseline < 200 * MIB
    finally:
        child.kill()


def test_the_collector_does_not_spin_when_connections_pile_up() -> None:
    """Connections beyond the limit are closed, not left for accept() to fail on (EMFILE);
    the CPU used while 1,500 connections sit there stays far from a spinning core."""
    from ._child import raise_own_file_limit

    room = raise_own_file_limit(4096) - 200
    count = min(1_500, room)
    child = ChildCollector()
    sockets: list[socket.socket] = []
    try:
        for _ in range(count):
            sockets.append(socket.create_connection(("127.0.0.1", child.port), timeout=GUARD))
        before_cpu, before = child.cpu_seconds(), time.monotonic()
        time.sleep(2.0)
        used = child.cpu_seconds() - before_cpu
        elapsed = time.monotonic() - before
        assert used < 0.5 * elapsed, (used, elapsed)
        with httpx.Client(timeout=GUARD) as http:
            ok = http.post(
                child.endpoint + "/v1/logs",
                content=export_request(),
                headers={"Content-Type": PROTOBUF},
            )
            assert ok.status_code == 200
    finally:
        for sock in sockets:
            sock.close()
        child.kill()


# -- exposure ---------------------------------------------------------------------------


def test_a_token_is_required_when_set(http: httpx.Client) -> None:
    with LocalCollector(token="s3cret") as collector:
        missing = post(http, collector, export_request())
        assert missing.status_code == 401
        assert rpc_status(missing)[0] == 16  # UNAUTHENTICATED
        assert missing.headers["www-authenticate"] == "Bearer"
        wrong = http.post(
            collector.endpoint + "/v1/logs",
            content=export_request(),
            headers={"Content-Type": PROTOBUF, "Authorization": "Bearer nope"},
        )
        assert wrong.status_code == 401
        assert collector.records == []
        right = http.post(
            collector.endpoint + "/v1/logs",
            content=export_request(),
            headers={"Content-Type": PROTOBUF, "Authorization": "Bearer s3cret"},
        )
        assert right.status_code == 200


def test_a_foreign_host_header_is_refused_against_dns_rebinding(
    collector: LocalCollector, http: httpx.Client
) -> None:
    rebound = http.post(
        collector.endpoint + "/v1/logs",
        content=export_request(),
        headers={"Content-Type": PROTOBUF, "Host": "evil.example:4318"},
    )
    assert rebound.status_code == 403
    assert rpc_status(rebound)[0] == 7  # PERMISSION_DENIED
    for host in ("localhost:1234", "127.0.0.1", "[::1]:80", "LOCALHOST"):
        response = http.post(
            collector.endpoint + "/v1/logs",
            content=export_request(),
            headers={"Content-Type": PROTOBUF, "Host": host},
        )
        assert response.status_code == 200, host
    assert collector.wait_for(4, timeout=GUARD)


# -- files ------------------------------------------------------------------------------


def test_an_existing_world_readable_database_and_its_wal_are_tightened(tmp_path: Path) -> None:
    path = tmp_path / "events.db"
    with closing(sqlite3.connect(path)) as db:
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("CREATE TABLE t (x)")
        db.execute("INSERT INTO t VALUES (1)")
        db.commit()
        for name in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
            if name.exists():
                name.chmod(0o644)
        with LocalCollector(db=str(path)):
            pass
    for name in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
        if name.exists():
            assert name.stat().st_mode & 0o777 == 0o600, name


def test_a_symlink_at_the_database_path_is_refused(tmp_path: Path) -> None:
    target = tmp_path / "elsewhere.db"
    target.write_bytes(b"")
    link = tmp_path / "events.db"
    link.symlink_to(target)
    with pytest.raises(OSError, match="symbolic link"):
        LocalCollector(db=str(link))
    assert target.read_bytes() == b""


# -- what is printed and stored ---------------------------------------------------------


def test_a_newline_in_user_id_cannot_forge_a_second_line_nor_escapes_reach_the_terminal() -> None:
    import io

    from cs_sdk.collector import Printer

    from .test_store import record

    forged = record(
        {
            "cs.event.name": "ok\x1b[2J",
            "user.id": "u1\n12:00:00.000  web  cs.milestone  admin_granted  user=root",
            "cs.account.id": "acme\u202etxt.exe\x9b31m",
        }
    )
    stream = io.StringIO()
    Printer(stream).print_records([forged])
    text = stream.getvalue()
    assert text.count("\n") == 1
    assert "\x1b" not in text and "\x9b" not in text and "\u202e" not in text
    assert "user=u1\\x0a12:00:00.000" in text
    assert "ok\\x1b[2J" in text
    assert "\\u202e" in text


def test_mapped_columns_take_their_type_or_null(tmp_path: Path) -> None:
    from cs_sdk.collector import SqliteStore

    from .test_store import record

    store = SqliteStore(tmp_path / "events.db", max_id=64)
    store.add(
        [
            record(
                {
                    "cs.event.id": "e" * 65,
                    "user.id": b"\x00blob",
                    "cs.account.id": 42,
                    "cs.feedback.score": "nine",
                    "cs.outcome.value": "4.5",
                    "cs.pilot.ids": ["p1", 7, "p2"],
                }
            ),
            record({"cs.feedback.score": 9.0, "cs.outcome.value": 3, "user.id": "u1"}),
        ]
    )
    first, second = store.rows()
    assert (first["event_id"], first["user_id"], first["account_id"]) == (None, None, "42")
    assert (first["feedback_score"], first["outcome_value"]) == (None, None)
    assert json.loads(first["pilot_ids"]) == ["p1", "p2"]
    assert json.loads(first["attributes"])["user.id"] == {"$base64": "AGJsb2I="}
    assert (second["feedback_score"], second["outcome_value"], second["user_id"]) == (9, 3.0, "u1")
    with closing(sqlite3.connect(tmp_path / "events.db")) as reader:
        pilots = reader.execute("SELECT event_rowid, pilot_id FROM event_pilots").fetchall()
    assert pilots == [(first["id"], "p1"), (first["id"], "p2")]
    store.close()


def test_a_large_request_is_stored_in_chunked_transactions(tmp_path: Path) -> None:
    from cs_sdk.collector import SqliteStore

    from .test_store import record

    store = SqliteStore(tmp_path / "events.db", chunk=10)
    statements: list[str] = []
    store._db.set_trace_callback(statements.append)  # white box: the transactions issued
    assert store.add([record({"cs.event.id": f"e{n}"}) for n in range(25)]) == 25
    store._db.set_trace_callback(None)
    assert sum(s.startswith("BEGIN") for s in statements) == 3
    assert [row["event_id"] for row in store.rows()] == [f"e{n}" for n in range(25)]
    store.close()
