"""A real pre-forking gunicorn: several workers, each delivering its own events to the local
collector, none lost at graceful shutdown (the event ids are checked at the collector)."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from cs_sdk.collector import LocalCollector

EXAMPLE = Path(__file__).parents[2] / "examples" / "gunicorn"
REQUESTS = 24

PRELOAD_CONF = """
import cs_sdk
from cs_sdk.integrations.gunicorn import worker_exit  # noqa: F401

# Initialised in the master, before the workers are forked from it.
cs_sdk.init(service_name="gunicorn-preload")
workers = 3
preload_app = True
"""


def _gunicorn() -> str:
    found = shutil.which("gunicorn", path=str(Path(sys.executable).parent))
    assert found, "gunicorn is in the dev extra"
    return found


@pytest.mark.parametrize("mode", ["post_fork", "preload"])
def test_every_worker_delivers_its_events_and_none_are_lost_at_graceful_shutdown(
    mode: str, tmp_path: Path
) -> None:
    if mode == "preload":
        config = tmp_path / "preload.conf.py"
        config.write_text(PRELOAD_CONF)
    else:
        config = EXAMPLE / "gunicorn.conf.py"
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)
    port = listener.getsockname()[1]
    with LocalCollector() as collector:
        environment = {
            **os.environ,
            "OTEL_EXPORTER_OTLP_ENDPOINT": collector.endpoint,
            # Nothing leaves a worker before it exits: its last flush must deliver everything.
            "OTEL_BLRP_SCHEDULE_DELAY": "600000",
            "EXAMPLE_DELAY": "0.2",
        }
        server = subprocess.Popen(
            [_gunicorn(), "-c", str(config), "--chdir", str(EXAMPLE), "--bind",
             f"fd://{listener.fileno()}", "--graceful-timeout", "30", "app:app"],
            pass_fds=[listener.fileno()],
            env=environment,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )  # fmt: skip
        listener.close()
        try:
            base = f"http://127.0.0.1:{port}"
            with httpx.Client(timeout=30) as http:
                deadline = time.monotonic() + 60
                while True:
                    try:
                        http.get(base + "/warmup")
                        break
                    except httpx.TransportError:
                        assert time.monotonic() < deadline, "gunicorn did not start"
                        time.sleep(0.1)

                def call(number: int) -> tuple[str, str]:
                    response = http.get(f"{base}/page/{number}", headers={"X-User": f"u{number}"})
                    response.raise_for_status()
                    pid, event_id = response.text.split()
                    return pid, event_id

                with ThreadPoolExecutor(max_workers=6) as pool:
                    answers = list(pool.map(call, range(REQUESTS)))
            assert collector.records == []  # still held by the workers
        finally:
            server.send_signal(signal.SIGTERM)
            try:
                _, stderr = server.communicate(timeout=60)
            except subprocess.TimeoutExpired:
                server.kill()
                _, stderr = server.communicate()
        assert server.returncode == 0, stderr
        pids = {pid for pid, _ in answers}
        assert len(pids) >= 2, "requests should have spread over several workers"
        sent = {event_id for _, event_id in answers}
        assert len(sent) == REQUESTS and "None" not in sent  # distinct ids across workers
        assert collector.wait_for(REQUESTS + 1, timeout=10)  # and the warm-up request
        received = {r.attributes["cs.event.id"]: r for r in collector.records}
        assert sent <= set(received)
        for number, (_, event_id) in enumerate(answers):
            assert received[event_id].attributes["user.id"] == f"u{number}"
