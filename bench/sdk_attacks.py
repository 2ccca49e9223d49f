"""python -m bench.sdk_attacks [--events N]: the SDK against a black hole and a hostile collector.

Prints, per scenario, the time it took and (for the hostile answers) the peak memory of the
child process running the SDK. These are the figures the tests only guard (tests/reliability/
test_black_hole.py and test_hostile_collector.py assert bounds ten times looser).

Scenarios:
  black hole   a batch of N events in flight to a collector that never answers; shutdown(t)
               for t in 0.5, 1, 2 s, with and without a spool
  gzip bomb    a 200 answer of ~1 MiB gzip inflating to 256 MiB
  8 GiB        a 200 answer announcing Content-Length 8 GiB, then streaming zeros
  chunked      a 200 answer of endless 64 KiB chunks
  drip         a valid answer, one byte every 0.3 s (export_timeout 1 s)
"""

from __future__ import annotations

import argparse
import json
import socket
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
import zlib
from collections.abc import Callable

import cs_sdk
from cs_sdk.collector import BlackHole, FaultPlan, LocalCollector

_CAP_BYTES = 1 << 30  # what a hostile answer sends at most, so that every scenario ends
_CAP_SECONDS = 60.0


def black_hole(events: int) -> None:
    for with_spool in (False, True):
        for timeout in (0.5, 1.0, 2.0):
            with (
                tempfile.TemporaryDirectory() as directory,
                LocalCollector(faults=FaultPlan().always(BlackHole())) as collector,
            ):
                options: dict[str, object] = {"spool_dir": directory} if with_spool else {}
                client = cs_sdk.Client(
                    environ={}, endpoint=collector.endpoint, schedule_delay=60, **options
                )  # type: ignore[arg-type]
                for index in range(events):
                    client.milestone("held", properties={"i": index})
                client.flush(timeout=0.3)  # the batch is in flight, held
                started = time.monotonic()
                delivered = client.shutdown(timeout=timeout)
                elapsed = time.monotonic() - started
                stats = client.stats()
            where = "spool" if with_spool else "memory"
            print(
                f"black hole  {where:6} shutdown({timeout}): {elapsed:.3f} s, returned "
                f"{delivered}, on disk {stats['spool_pending']}, "
                f"shutdown_timeout {stats['dropped']['shutdown_timeout']}"
            )


def _serve(answer: Callable[[socket.socket], None]) -> tuple[str, threading.Event]:
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.2)
    stop = threading.Event()

    def handle(connection: socket.socket) -> None:
        with connection:
            connection.settimeout(_CAP_SECONDS)
            try:
                data = b""
                while b"\r\n\r\n" not in data:
                    data += connection.recv(65536)
                head, _, body = data.partition(b"\r\n\r\n")
                length = next(
                    (int(line.split(b":")[1]) for line in head.split(b"\r\n")
                     if line.lower().startswith(b"content-length:")),
                    0,
                )  # fmt: skip
                while len(body) < length:
                    body += connection.recv(65536)
                answer(connection)
            except OSError:
                pass

    def serve() -> None:
        while not stop.is_set():
            try:
                connection, _ = listener.accept()
            except OSError:
                continue
            threading.Thread(target=handle, args=(connection,), daemon=True).start()
        listener.close()

    threading.Thread(target=serve, daemon=True).start()
    return f"http://127.0.0.1:{listener.getsockname()[1]}", stop


def _stream(head: bytes, chunk: bytes) -> Callable[[socket.socket], None]:
    def answer(connection: socket.socket) -> None:
        connection.sendall(head)
        sent, started = 0, time.monotonic()
        while sent < _CAP_BYTES and time.monotonic() - started < _CAP_SECONDS:
            connection.sendall(chunk)
            sent += len(chunk)

    return answer


def _bomb() -> bytes:
    compressor = zlib.compressobj(1, zlib.DEFLATED, 31)
    block = bytes(1 << 20)
    return b"".join(compressor.compress(block) for _ in range(256)) + compressor.flush()


def _drip(connection: socket.socket) -> None:
    for byte in b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n":
        time.sleep(0.3)
        connection.sendall(bytes([byte]))


_CHILD = textwrap.dedent(
    """
    import json, resource, sys, time, cs_sdk
    client = cs_sdk.Client(environ={}, endpoint=sys.argv[1], schedule_delay=60,
                           export_timeout=float(sys.argv[2]))
    for i in range(10):
        client.milestone("m", properties={"i": i})
    started = time.monotonic()
    flushed = client.flush(timeout=120)
    elapsed = time.monotonic() - started
    client.shutdown(timeout=1)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    print(json.dumps({"flushed": flushed, "elapsed": elapsed, "peak": peak}))
    """
)


def hostile() -> None:
    bomb = _bomb()
    ok = b"HTTP/1.1 200 OK\r\nContent-Type: application/x-protobuf\r\n"
    attacks: list[tuple[str, Callable[[socket.socket], None], float]] = [
        (
            "gzip bomb",
            lambda c: c.sendall(
                ok + b"Content-Encoding: gzip\r\nContent-Length: %d\r\n\r\n" % len(bomb) + bomb
            ),
            10.0,
        ),
        ("8 GiB", _stream(ok + b"Content-Length: 8589934592\r\n\r\n", bytes(65536)), 10.0),
        (
            "chunked",
            _stream(
                ok + b"Transfer-Encoding: chunked\r\n\r\n", b"10000\r\n" + bytes(65536) + b"\r\n"
            ),
            10.0,
        ),
        ("drip", _drip, 1.0),
    ]
    for name, answer, export_timeout in attacks:
        endpoint, stop = _serve(answer)
        child = subprocess.run(
            [sys.executable, "-c", _CHILD, endpoint, str(export_timeout)],
            capture_output=True,
            text=True,
            timeout=300,
        )
        stop.set()
        result = json.loads(child.stdout.splitlines()[-1])
        print(
            f"{name:10}  flush {result['elapsed']:.2f} s ({result['flushed']}), "
            f"peak RSS {result['peak'] / 2**20:.0f} MiB"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.sdk_attacks", description=__doc__)
    parser.add_argument("--events", type=int, default=1_000)
    args = parser.parse_args(argv)
    black_hole(args.events)
    hostile()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
