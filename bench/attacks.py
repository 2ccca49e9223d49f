"""python -m bench.attacks [--idle N]

Replays the hostile traffic of issue 13 against a fresh ``cs-sdk collector --db`` child
process per attack and prints, for each: the answers, the collector's peak memory (VmHWM
growth over its idle baseline), the time the attack took, and whether a legitimate request
sent during or right after it was served (and how long that took).

Attacks: a 2 KiB gzip body of 10^6 empty records; a JSON body of 10^6 empty objects; one
1 GiB gzip bomb; eight bombs at once; records nested 300 deep; N idle connections; N
slowloris heads; N lying Content-Lengths; 200 concurrent senders. Loopback only, every
attack bounded in time.
"""

from __future__ import annotations

import argparse
import gzip
import re
import resource
import socket
import subprocess
import sys
import tempfile
import threading
import time
import zlib
from collections.abc import Callable
from pathlib import Path

import httpx
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
from opentelemetry.proto.logs.v1.logs_pb2 import LogRecord, ResourceLogs, ScopeLogs

MIB = 1024 * 1024
PROTOBUF = {"Content-Type": "application/x-protobuf"}
GZIP = {**PROTOBUF, "Content-Encoding": "gzip"}
FILES = 4096
COLLECTOR_ARGS = ("--port", "0", "--quiet", "--db")


def _varint(value: int) -> bytes:
    out = bytearray()
    while value > 0x7F:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def _field(number: int, payload: bytes) -> bytes:
    return _varint(number << 3 | 2) + _varint(len(payload)) + payload


def empty_records(count: int) -> bytes:
    return gzip.compress(_field(1, _field(2, b"\x12\x00" * count)), 9)


def gzip_bomb(inflated: int) -> bytes:
    compressor = zlib.compressobj(9, zlib.DEFLATED, 31)
    block = b"\0" * MIB
    return b"".join([compressor.compress(block) for _ in range(inflated // MIB)]) + (
        compressor.flush()
    )


def nested_request(depth: int) -> bytes:
    value = _field(1, b"x")
    for _ in range(depth):
        value = _field(6, _field(1, _field(1, b"k") + _field(2, value)))
    return _field(1, _field(2, _field(2, _field(5, value))))


def legit_request() -> bytes:
    record = LogRecord(
        event_name="cs.milestone",
        attributes=[KeyValue(key="cs.event.name", value=AnyValue(string_value="legit"))],
    )
    request = ExportLogsServiceRequest(
        resource_logs=[ResourceLogs(scope_logs=[ScopeLogs(log_records=[record])])]
    )
    data: bytes = request.SerializeToString()
    return data


class Child:
    """A ``cs-sdk collector`` child process with a raised descriptor limit."""

    def __init__(self, db: Path) -> None:
        def limits() -> None:
            _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
            wanted = FILES if hard == resource.RLIM_INFINITY else min(FILES, hard)
            resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))

        self.process = subprocess.Popen(
            [sys.executable, "-m", "cs_sdk.cli", "collector", *COLLECTOR_ARGS, str(db)],
            stdout=subprocess.PIPE,
            text=True,
            preexec_fn=limits,
        )
        assert self.process.stdout is not None
        found = re.search(r"listening on http://127\.0\.0\.1:(\d+)", self.process.stdout.readline())
        assert found, "the collector did not start"
        self.port = int(found.group(1))
        self.url = f"http://127.0.0.1:{self.port}/v1/logs"

    def peak(self) -> int:
        text = Path(f"/proc/{self.process.pid}/status").read_text()
        found = re.search(r"VmHWM:\s+(\d+) kB", text)
        return int(found.group(1)) * 1024 if found else 0

    def close(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=60)


SHARED = httpx.Client(timeout=60, limits=httpx.Limits(max_connections=256))


def post(url: str, body: bytes, headers: dict[str, str]) -> str:
    try:
        return str(SHARED.post(url, content=body, headers=headers).status_code)
    except httpx.TransportError as error:
        return type(error).__name__


def legit(url: str) -> tuple[str, float]:
    started = time.perf_counter()
    status = post(url, legit_request(), PROTOBUF)
    return status, time.perf_counter() - started


def sockets(port: int, count: int, first: bytes) -> list[socket.socket]:
    opened = []
    for _ in range(count):
        sock = socket.create_connection(("127.0.0.1", port), timeout=30)
        if first:
            sock.sendall(first)
        opened.append(sock)
    return opened


def concurrently(count: int, job: Callable[[], str]) -> list[str]:
    answers: list[str] = []
    threads = [threading.Thread(target=lambda: answers.append(job())) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    return answers


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.attacks")
    parser.add_argument("--idle", type=int, default=1000, help="connections per socket attack")
    args = parser.parse_args(argv)
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = FILES if hard == resource.RLIM_INFINITY else min(FILES, hard)
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, target), hard))
    idle = min(args.idle, resource.getrlimit(resource.RLIMIT_NOFILE)[0] - 200)

    records = empty_records(1_000_000)
    json_objects = gzip.compress(b'{"resourceLogs": [' + b"{}," * 999_999 + b"{}]}", 9)
    bomb = gzip_bomb(1024 * MIB)
    nested = nested_request(300)
    head = b"POST /v1/logs HTTP/1.1\r\nHost: 127.0.0.1\r\n"
    lying = head + b"Content-Type: application/x-protobuf\r\nContent-Length: 100000\r\n\r\nx"
    json_gzip = {"Content-Type": "application/json", "Content-Encoding": "gzip"}

    def attacks(port: int, url: str) -> dict[str, Callable[[], object]]:
        return {
            f"10^6 empty records ({len(records):,} B gzip)": lambda: post(url, records, GZIP),
            f"10^6 empty JSON objects ({len(json_objects):,} B)": lambda: post(
                url, json_objects, json_gzip
            ),
            f"gzip bomb, 1 GiB in {len(bomb) // 1024} KiB": lambda: post(url, bomb, GZIP),
            "8 gzip bombs at once": lambda: sorted(
                set(concurrently(8, lambda: post(url, bomb, GZIP)))
            ),
            "nested 300 deep": lambda: post(url, nested, PROTOBUF),
            f"{idle} idle connections": lambda: sockets(port, idle, b""),
            f"{idle} slowloris heads": lambda: sockets(port, idle, head),
            f"{idle} lying Content-Lengths": lambda: sockets(port, idle, lying),
            "200 concurrent senders": lambda: sorted(
                set(concurrently(200, lambda: post(url, legit_request(), PROTOBUF)))
            ),
        }

    print(f"{'attack':44} {'answer':>14} {'peak MB':>8} {'seconds':>8}  legit sender")
    names = list(attacks(0, "").keys())
    for index, name in enumerate(names):
        with tempfile.TemporaryDirectory() as tmp:
            child = Child(Path(tmp) / "events.db")
            try:
                baseline = child.peak()
                started = time.perf_counter()
                result = list(attacks(child.port, child.url).values())[index]()
                elapsed = time.perf_counter() - started
                status, took = legit(child.url)  # while the sockets are still open
                if isinstance(result, list) and result and isinstance(result[0], socket.socket):
                    answer = f"{len(result)} held"
                    for sock in result:
                        sock.close()
                else:
                    answer = str(result)
                grown = (child.peak() - baseline) / MIB
                print(
                    f"{name:44} {answer:>14} {grown:8.1f} {elapsed:8.2f}  {status} in {took:.3f} s"
                )
            finally:
                child.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
