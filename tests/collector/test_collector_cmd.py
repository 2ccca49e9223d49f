"""``cs-sdk collector`` as a developer runs it: what it prints, how it stops, what it keeps."""

from __future__ import annotations

import contextlib
import signal
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path

import httpx
import pytest

import cs_sdk
from cs_sdk.cli import main

from ._child import ChildCollector
from .conftest import PROTOBUF, export_request, log_record

GUARD = 60.0


def request_with_ids(prefix: str, count: int) -> bytes:
    return export_request(
        *(
            log_record(attributes={"cs.event.id": f"{prefix}-{n}", "cs.event.name": "step"})
            for n in range(count)
        )
    )


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_stops_it_with_every_accepted_event_stored(
    tmp_path: Path, sig: signal.Signals
) -> None:
    db = tmp_path / "events.db"
    child = ChildCollector("--db", str(db))
    accepted: list[str] = []
    lock = threading.Lock()
    enough = threading.Event()

    def sender(worker: int) -> None:
        with httpx.Client(timeout=GUARD) as http:
            for batch in range(10_000):
                prefix = f"w{worker}b{batch}"
                try:
                    response = http.post(
                        child.endpoint + "/v1/logs",
                        content=request_with_ids(prefix, 50),
                        headers={"Content-Type": PROTOBUF},
                    )
                except httpx.TransportError:
                    return  # the collector stopped: this batch was not accepted
                if response.status_code != 200:
                    return
                with lock:
                    accepted.extend(f"{prefix}-{n}" for n in range(50))
                    if len(accepted) >= 2_000:
                        enough.set()

    senders = [threading.Thread(target=sender, args=(n,)) for n in range(4)]
    try:
        for thread in senders:
            thread.start()
        assert enough.wait(GUARD)
        code, out, stderr = child.stop(sig)  # mid-stream: requests are in flight
    finally:
        child.kill()
    for thread in senders:
        thread.join(GUARD)
    assert code == 0
    assert "Traceback" not in stderr
    with contextlib.closing(sqlite3.connect(db)) as reader:
        assert reader.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        stored = {row[0] for row in reader.execute("SELECT event_id FROM events")}
    assert set(accepted) <= stored  # nothing answered 200 is missing
    assert f"received {len(stored)} events" in out


def test_it_prints_the_base_url_that_endpoint_takes(tmp_path: Path) -> None:
    child = ChildCollector()
    try:
        hint = child.lines.get(timeout=GUARD)
        assert hint == f'pass endpoint="{child.endpoint}" (OTLP logs arrive at /v1/logs)'
        client = cs_sdk.Client(environ={}, endpoint=child.endpoint)
        client.milestone("first_report_created", user_id="u1")
        assert client.flush(timeout=GUARD)
        assert client.stats()["sent"] == 1
        client.shutdown()
        code, out, _ = child.stop()
    finally:
        child.kill()
    assert code == 0
    assert "received 1 events, 0 duplicates" in out


def test_duplicates_are_counted_at_shutdown() -> None:
    child = ChildCollector()
    try:
        with httpx.Client(timeout=GUARD) as http:
            body = request_with_ids("same", 3)
            for _ in range(2):  # a redelivery, as after a lost answer
                response = http.post(
                    child.endpoint + "/v1/logs", content=body, headers={"Content-Type": PROTOBUF}
                )
                assert response.status_code == 200
        code, out, _ = child.stop()
    finally:
        child.kill()
    assert code == 0
    assert "received 6 events, 3 duplicates" in out


def test_help_shows_the_defaults(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["collector", "--help"])
    assert exit_info.value.code == 0
    text = " ".join(capsys.readouterr().out.split())
    assert "(default: 127.0.0.1)" in text
    assert "(default: 4318)" in text
    assert "CS_SDK_COLLECTOR_TOKEN" in text


def test_a_non_loopback_address_is_warned_about() -> None:
    # 192.0.2.1 (TEST-NET-1) is not on this machine: the warning comes before the bind fails,
    # and nothing ever listens off loopback in the test suite.
    result = subprocess.run(
        [sys.executable, "-m", "cs_sdk.cli", "collector", "--host", "192.0.2.1", "--port", "0"],
        capture_output=True,
        text=True,
        timeout=GUARD,
    )
    assert result.returncode == 1
    assert "warning: listening on 192.0.2.1 accepts events from other machines" in result.stderr
    assert "cannot start" in result.stderr


def test_the_token_comes_from_the_environment() -> None:
    child = ChildCollector(env={"CS_SDK_COLLECTOR_TOKEN": "from-env"})
    try:
        with httpx.Client(timeout=GUARD) as http:
            bare = http.post(
                child.endpoint + "/v1/logs",
                content=export_request(),
                headers={"Content-Type": PROTOBUF},
            )
            assert bare.status_code == 401
            signed = http.post(
                child.endpoint + "/v1/logs",
                content=export_request(),
                headers={"Content-Type": PROTOBUF, "Authorization": "Bearer from-env"},
            )
            assert signed.status_code == 200
        code, out, stderr = child.stop()
    finally:
        child.kill()
    assert code == 0
    assert "from-env" not in out + stderr
