"""``cs-sdk collector`` as a child process, with its memory and CPU read from /proc.

Memory bounds are measured on a child: the test process's own RSS mixes in everything else
the test suite allocated.
"""

from __future__ import annotations

import gzip
import os
import queue
import re
import resource
import signal
import subprocess
import sys
import threading
import zlib
from pathlib import Path

TIMEOUT = 30.0
FILES = 4096  # the child's descriptor limit, raised so that 1,000 connections fit


def _raise_file_limit() -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = FILES if hard == resource.RLIM_INFINITY else min(FILES, hard)
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, wanted), hard))


def raise_own_file_limit(wanted: int) -> int:
    """Raise this process's soft descriptor limit towards ``wanted``; the limit now."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    if soft < target:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


class ChildCollector:
    """``cs-sdk collector --port 0 --quiet [ARGS]``; :attr:`endpoint` once it listens."""

    def __init__(self, *args: str, env: dict[str, str] | None = None) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "cs_sdk.cli", "collector", "--port", "0", "--quiet", *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            preexec_fn=_raise_file_limit,  # the child has no threads yet
            env={**os.environ, **(env or {})},
        )
        self.lines: queue.Queue[str] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()
        first = self.lines.get(timeout=TIMEOUT)
        found = re.fullmatch(r"cs-sdk collector listening on (http://127\.0\.0\.1:(\d+))", first)
        if not found:
            self.kill()
            raise AssertionError(first)
        self.endpoint = found.group(1)
        self.port = int(found.group(2))

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.put(line.rstrip("\n"))

    def _status(self, field: str) -> int:
        text = Path(f"/proc/{self.process.pid}/status").read_text()
        found = re.search(rf"^{field}:\s+(\d+) kB", text, re.MULTILINE)
        assert found, field
        return int(found.group(1)) * 1024

    def rss(self) -> int:
        return self._status("VmRSS")

    def peak_rss(self) -> int:
        return self._status("VmHWM")

    def cpu_seconds(self) -> float:
        fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        ticks = os.sysconf("SC_CLK_TCK")
        return (int(fields[11]) + int(fields[12])) / ticks  # utime + stime

    def stop(self, sig: signal.Signals = signal.SIGTERM) -> tuple[int, str, str]:
        """Send ``sig`` and wait; (exit code, stdout after the first line, stderr)."""
        self.process.send_signal(sig)
        code = self.process.wait(timeout=TIMEOUT)
        assert self.process.stderr is not None
        stderr = self.process.stderr.read()
        rest: list[str] = []
        while True:
            try:
                rest.append(self.lines.get(timeout=1))
            except queue.Empty:
                break
        self.kill()
        return code, "\n".join(rest), stderr

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=TIMEOUT)
        for stream in (self.process.stdout, self.process.stderr):
            if stream is not None:
                stream.close()


def empty_records(count: int) -> bytes:
    """A gzip body of ``count`` empty log records (2 bytes each on the wire: 10^6 of them
    gzip to about 2 KiB)."""
    scope_logs = b"\x12\x00" * count  # ScopeLogs.log_records (field 2), each empty
    resource_logs = _len_field(2, scope_logs)  # ResourceLogs.scope_logs
    return gzip.compress(_len_field(1, resource_logs), compresslevel=9)


def _varint(value: int) -> bytes:
    out = bytearray()
    while value > 0x7F:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def _len_field(number: int, payload: bytes) -> bytes:
    return _varint(number << 3 | 2) + _varint(len(payload)) + payload


def gzip_bomb(inflated: int) -> bytes:
    """A gzip body of ``inflated`` zero bytes (about 1/1000 of that on the wire)."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, 31)
    block = b"\0" * (1 << 20)
    out = [compressor.compress(block) for _ in range(inflated >> 20)]
    out.append(compressor.flush())
    return b"".join(out)
