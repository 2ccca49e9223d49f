"""Fixtures for the integration tests: a prompt configuration every user qualifies for."""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

PROMPTS = {
    "version": 1,
    "throttle": {"global_wait_days": 0},
    "prompts": [
        {
            "id": "nps-dashboard",
            "kind": "nps",
            "question": "How likely are you to recommend the new dashboard?",
            "area": "reports",
            "priority": 10,
        },
        {"id": "thumbs-export", "kind": "thumbs", "question": "Was the export useful?"},
    ],
}


@pytest.fixture
def prompts_file(tmp_path: Path) -> str:
    path = tmp_path / "prompts.json"
    path.write_text(json.dumps(PROMPTS))
    return str(path)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def redis_broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A throwaway redis-server on a free loopback port (the Celery example's broker)."""
    binary = shutil.which("redis-server")
    assert binary, "redis-server is installed by .ci/run (Debian: apt-get install redis-server)"
    port = free_port()
    process = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
         "--dir", str(tmp_path_factory.mktemp("redis"))],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1) as conn:
                    conn.sendall(b"PING\r\n")
                    if conn.recv(16).startswith(b"+PONG"):
                        break
            except OSError:
                pass
            assert time.monotonic() < deadline and process.poll() is None, "no redis-server"
            time.sleep(0.05)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
