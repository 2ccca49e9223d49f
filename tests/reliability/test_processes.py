"""Fork safety, asyncio, and what survives a SIGKILL with a spool."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

import cs_sdk
from cs_sdk.collector import LocalCollector


def wait_for_exit(pid: int, timeout: float) -> int:
    """waitpid with a deadline; kills the child if it hangs."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return os.waitstatus_to_exitcode(status)
        time.sleep(0.02)
    os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)
    raise AssertionError("the forked child hung")


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
@pytest.mark.filterwarnings("ignore:This process .* is multi-threaded:DeprecationWarning")
def test_a_forked_child_gets_a_working_pipeline_and_the_parents_events_still_arrive() -> None:
    with LocalCollector() as collector:
        client = cs_sdk.Client(environ={}, endpoint=collector.endpoint, schedule_delay=60)
        parent_ids = [
            client.milestone("parent_before_fork", properties={"i": i}) for i in range(50)
        ]
        pid = os.fork()
        if pid == 0:  # the child
            code = 1
            try:
                child_ids = [client.milestone("child", properties={"i": i}) for i in range(30)]
                ok = client.flush(timeout=10) and None not in child_ids
                client.shutdown(timeout=5)
                code = 0 if ok else 2
            finally:
                os._exit(code)
        parent_ids += [
            client.milestone("parent_after_fork", properties={"i": i}) for i in range(20)
        ]
        assert client.flush(timeout=10)
        assert wait_for_exit(pid, timeout=30) == 0
        client.shutdown()
        assert collector.wait_for(100, timeout=10)
        records = collector.records
    ids = [record.event_id for record in records]
    assert len(ids) == len(set(ids)) == 100  # nothing duplicated, nothing lost
    assert set(parent_ids) <= set(ids)
    assert sum(record.name == "child" for record in records) == 30


def test_asyncio_recording_never_blocks_the_loop() -> None:
    async def main(endpoint: str) -> tuple[float, bool, int]:
        client = cs_sdk.Client(environ={}, endpoint=endpoint, schedule_delay=0.01)
        lags: list[float] = []
        stop = asyncio.Event()

        async def heartbeat() -> None:
            while not stop.is_set():
                before = time.perf_counter()
                await asyncio.sleep(0.001)
                lags.append(time.perf_counter() - before - 0.001)

        async def user(index: int) -> None:
            with cs_sdk.identify(user_id=f"u{index}"):
                for step in range(100):
                    client.milestone("step", properties={"step": step})
                    if step % 10 == 0:
                        await asyncio.sleep(0)

        beat = asyncio.create_task(heartbeat())
        await asyncio.gather(*(user(i) for i in range(100)))
        delivered = await client.aflush(timeout=30)
        await client.ashutdown(timeout=5)
        stop.set()
        await beat
        return max(lags), delivered, client.stats()["sent"]

    with LocalCollector() as collector:
        worst_lag, delivered, sent = asyncio.run(main(collector.endpoint))
    print(f"worst event-loop lag while recording 10,000 events: {worst_lag * 1000:.2f} ms")
    assert delivered
    assert sent == 10_000
    assert worst_lag < 0.1  # generous: the SDK's own share is microseconds per call


CHILD = textwrap.dedent(
    """
    import json, sys, time
    import cs_sdk

    endpoint, spool_dir, ids_path = sys.argv[1:4]
    client = cs_sdk.Client(environ={}, endpoint=endpoint, spool_dir=spool_dir,
                           schedule_delay=0.05, max_export_batch_size=100)
    with open(ids_path, "w") as ids:
        for i in range(3000):
            ids.write(client.milestone("before_kill", properties={"i": i}) + "\\n")
            if i % 500 == 499:
                time.sleep(0.3)  # let the worker spool some of it
    deadline = time.monotonic() + 20
    while client.stats()["spooled"] < 2000 and time.monotonic() < deadline:
        time.sleep(0.05)
    print(json.dumps(client.stats()), flush=True)
    time.sleep(60)  # killed here
    """
)


def test_spooled_events_survive_sigkill_and_arrive_after_a_restart(tmp_path: Path) -> None:
    spool_dir = tmp_path / "spool"
    ids_path = tmp_path / "ids.txt"
    with LocalCollector() as collector:
        endpoint = collector.endpoint
    # The collector is down (its port closed) while the child records and gets killed.
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, endpoint, str(spool_dir), str(ids_path)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout is not None
        line = child.stdout.readline()
        stats_at_kill = json.loads(line)
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=10)
        if child.stdout is not None:
            child.stdout.close()
    recorded = ids_path.read_text().split()
    spooled_before_kill = stats_at_kill["spooled"]

    # "Restart the app": a new client on the same spool, with the collector back.
    port = int(endpoint.rsplit(":", 1)[1])
    with LocalCollector(port=port) as collector:
        client = cs_sdk.Client(environ={}, endpoint=collector.endpoint, spool_dir=str(spool_dir))
        assert collector.wait_for(spooled_before_kill, timeout=30)
        assert client.flush(timeout=10)
        client.shutdown()
        arrived = {record.event_id for record in collector.records}
    lost = len(set(recorded) - arrived)
    print(
        f"SIGKILL with a spool: recorded {len(recorded)}, spooled before the kill "
        f"{spooled_before_kill}, arrived after restart {len(arrived)}, lost {lost} "
        "(only events still in memory at the kill can be lost)"
    )
    assert arrived <= set(recorded)
    assert len(arrived) >= spooled_before_kill
    assert lost == len(recorded) - len(arrived) <= len(recorded) - spooled_before_kill
