"""Helpers for tests that fork or start processes: bounded waits, never a hung test run."""

from __future__ import annotations

import os
import queue
import signal
import subprocess
import sys
import threading
import time


def wait_for_exit(pid: int, timeout: float, what: str = "the forked child hung") -> int:
    """``waitpid`` with a deadline: the child's exit code, or it is killed and the test fails."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return os.waitstatus_to_exitcode(status)
        time.sleep(0.01)
    os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)
    raise AssertionError(f"{what} (killed after {timeout:g} s)")


class CliProcess:
    """A ``cs-sdk ARGS...`` process whose stdout lines are read with timeouts."""

    def __init__(self, *args: str, timeout: float = 10.0) -> None:
        self.timeout = timeout
        # faulthandler: a child that hangs is made to print every thread's stack (finish()).
        self.process = subprocess.Popen(
            [sys.executable, "-m", "cs_sdk.cli", *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, "PYTHONFAULTHANDLER": "1"},
        )
        self.lines: queue.Queue[str] = queue.Queue()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.put(line.rstrip("\n"))

    def next_line(self) -> str:
        return self.lines.get(timeout=self.timeout)

    def finish(self, sig: signal.Signals) -> tuple[int, str, str]:
        """Send ``sig``, wait for the exit; (code, remaining stdout, stderr)."""
        self.process.send_signal(sig)
        assert self.process.stderr is not None
        try:
            code = self.process.wait(timeout=self.timeout)
        except subprocess.TimeoutExpired:
            self.process.send_signal(signal.SIGABRT)  # faulthandler dumps the stacks
            self.process.wait(timeout=self.timeout)
            stacks = self.process.stderr.read()
            raise AssertionError(f"no exit {self.timeout:g} s after {sig!r}:\n{stacks}") from None
        stderr = self.process.stderr.read()
        self._reader.join(timeout=self.timeout)  # it ends at the end of stdout
        rest: list[str] = []
        while not self.lines.empty():
            rest.append(self.lines.get_nowait())
        return code, "\n".join(rest), stderr

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=self.timeout)
        for stream in (self.process.stdout, self.process.stderr):
            if stream is not None:
                stream.close()
