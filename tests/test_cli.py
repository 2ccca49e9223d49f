"""``cs-sdk``: argument handling and ``cs-sdk collector`` run as a real process."""

from __future__ import annotations

import re
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from _processes import CliProcess
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
from opentelemetry.proto.logs.v1.logs_pb2 import LogRecord, ResourceLogs, ScopeLogs

import cs_sdk
from cs_sdk.cli import main
from cs_sdk.collector import LocalCollector, SqliteStore

TIMEOUT = 10.0


def milestone_request(name: str, version: str | None = None) -> bytes:
    attributes = [
        KeyValue(key="cs.event.name", value=AnyValue(string_value=name)),
        KeyValue(key="user.id", value=AnyValue(string_value="u1")),
    ]
    if version is not None:
        attributes.append(KeyValue(key="cs.schema.version", value=AnyValue(string_value=version)))
    record = LogRecord(
        time_unix_nano=1_767_268_801_123_000_000,
        event_name="cs.milestone",
        attributes=attributes,
    )
    request = ExportLogsServiceRequest(
        resource_logs=[ResourceLogs(scope_logs=[ScopeLogs(log_records=[record])])]
    )
    data: bytes = request.SerializeToString()
    return data


Running = CliProcess


@pytest.fixture
def running() -> Iterator[list[Running]]:
    started: list[Running] = []
    yield started
    for process in started:
        process.kill()


def start(started: list[Running], *args: str) -> tuple[Running, str]:
    """Start ``cs-sdk collector --port 0 ...``; the process and its endpoint."""
    process = Running("collector", "--port", "0", *args)
    started.append(process)
    first = process.next_line()
    # The base URL, which is what endpoint= takes (the SDK adds /v1/logs).
    found = re.fullmatch(r"cs-sdk collector listening on (http://127\.0\.0\.1:\d+)", first)
    assert found, first
    assert process.next_line() == f'pass endpoint="{found.group(1)}" (OTLP logs arrive at /v1/logs)'
    return process, found.group(1)


def send(endpoint: str, name: str, version: str | None = None) -> None:
    response = httpx.post(
        endpoint + "/v1/logs",
        content=milestone_request(name, version),
        headers={"Content-Type": "application/x-protobuf"},
        timeout=TIMEOUT,
    )
    assert response.status_code == 200


def test_collector_prints_events_and_their_count_on_sigterm(
    running: list[Running], tmp_path: Path
) -> None:
    db = tmp_path / "events.db"
    process, endpoint = start(running, "--db", str(db))
    assert process.next_line() == f"storing events in {db}"
    send(endpoint, "first_report_created")
    line = process.next_line()
    assert "cs.milestone  first_report_created  user=u1" in line
    send(endpoint, "second")
    assert "second" in process.next_line()
    code, rest, stderr = process.finish(signal.SIGTERM)
    assert code == 0
    assert "received 2 events" in rest
    assert stderr == ""
    store = SqliteStore(db)
    assert [row["name"] for row in store.rows()] == ["first_report_created", "second"]
    store.close()


def test_collector_stops_cleanly_on_ctrl_c_and_quiet_prints_no_events(
    running: list[Running],
) -> None:
    process, endpoint = start(running, "--quiet")
    send(endpoint, "hidden")
    code, rest, stderr = process.finish(signal.SIGINT)
    assert code == 0
    assert "hidden" not in rest
    assert "received 1 events" in rest
    assert "Traceback" not in stderr


def test_collector_reports_a_port_in_use(capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert main(["collector", "--port", str(port), "--quiet"]) == 1
    assert "cannot start" in capsys.readouterr().err


def test_a_subcommand_is_required_and_help_lists_them(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit) as exited:
        main([])
    assert exited.value.code == 2
    assert "required: COMMAND" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exited:
        main(["--help"])
    assert exited.value.code == 0
    assert "collector" in capsys.readouterr().out


def test_collector_help_lists_its_options(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["collector", "--help"])
    assert exited.value.code == 0
    out = capsys.readouterr().out
    for option in ("--host", "--port", "--db", "--schemas", "--quiet"):
        assert option in out


# -- cs-sdk collector --schemas ---------------------------------------------------------------


@pytest.fixture
def builtin_export(tmp_path: Path) -> Path:
    out = tmp_path / "schemas"
    assert main(["schemas", "export", "cs_sdk.events", "--out", str(out)]) == 0
    return out


def test_collector_validates_and_marks_violations_as_they_arrive(
    running: list[Running], builtin_export: Path
) -> None:
    process, endpoint = start(running, "--schemas", str(builtin_export))
    send(endpoint, "first_report_created", "1.0.0")
    assert "first_report_created" in (line := process.next_line())
    assert "!! schema" not in line
    send(endpoint, "", "1.0.0")  # a milestone needs a name
    line = process.next_line()
    assert "cs.milestone" in line
    assert line.endswith("!! schema: name: '' should be non-empty")
    code, rest, stderr = process.finish(signal.SIGTERM)
    assert code == 0, stderr
    assert "received 2 events" in rest
    row = next(line for line in rest.splitlines() if line.startswith("cs.milestone"))
    assert row.split()[:4] == ["cs.milestone", "1.0.0", "2", "1"]
    assert "name: '' should be non-empty (x1)" in row


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda tmp: tmp / "missing", "missing: not a cs-sdk schema export (no such directory)"),
        (lambda tmp: tmp, "index.json: not a cs-sdk schema export (FileNotFoundError"),
    ],
    ids=["missing", "not-an-export"],
)
def test_collector_with_an_unusable_schema_directory_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], make: Any, message: str
) -> None:
    assert main(["collector", "--port", "0", "--schemas", str(make(tmp_path))]) == 2
    captured = capsys.readouterr()
    assert captured.err.startswith("cs-sdk collector: --schemas: ")
    assert message in captured.err
    assert "Traceback" not in captured.err
    assert "listening" not in captured.out  # refused before listening


def test_collector_with_a_broken_schema_file_exits_2(
    builtin_export: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (builtin_export / "cs.milestone" / "1.0.0.schema.json").write_text('{"type": 12}')
    assert main(["collector", "--port", "0", "--schemas", str(builtin_export)]) == 2
    err = capsys.readouterr().err
    assert "cs.milestone 1.0.0: not a valid JSON Schema" in err


def test_collector_schemas_without_jsonschema_exits_2_with_the_install_hint(
    builtin_export: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "jsonschema", None)  # import jsonschema -> ImportError
    assert main(["collector", "--port", "0", "--schemas", str(builtin_export)]) == 2
    assert capsys.readouterr().err == (
        "cs-sdk collector: --schemas: schema validation needs the jsonschema package: "
        "pip install 'cs-sdk[schemas]'\n"
    )


@pytest.mark.parametrize("port", ["99999", "-1", "http"])
def test_an_impossible_port_is_a_usage_error(port: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["collector", "--port", port])
    assert exit_info.value.code == 2
    assert "--port" in capsys.readouterr().err


@pytest.mark.parametrize("command", ["report", "tail"])
def test_a_closed_pipe_ends_the_command_quietly(tmp_path: Path, command: str) -> None:
    """`cs-sdk report ... | head -1`: once the reader is gone the command ends quietly, with
    no BrokenPipe traceback, whether the closed pipe shows in a write or at the last flush."""
    db = tmp_path / "events.db"
    with LocalCollector(db=str(db)) as collector:
        client = cs_sdk.Client(endpoint=collector.endpoint, service_name="pipe")
        client.milestone("shown_in_a_pipe", user_id="u1")
        assert client.shutdown(timeout=30)
        assert collector.wait_for(1, timeout=30)
    argv = {
        "report": ["report", "--db", str(db), "--format", "json"],
        "tail": ["tail", "--db", str(db), "--last", "1"],  # follows until its pipe closes
    }[command]
    child = subprocess.Popen(
        [sys.executable, "-m", "cs_sdk.cli", *argv],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert child.stdout is not None and child.stderr is not None
    child.stdout.close()  # the reader is gone before the command writes its first line
    try:
        code = child.wait(timeout=60)  # a hang guard
        err = child.stderr.read()
    finally:
        child.kill()
        child.stderr.close()
    assert b"Traceback" not in err and b"BrokenPipe" not in err, err.decode()
    assert code in (0, 141)
