"""Programs the process tests run as separate interpreters: ``python _child.py MODE ...``.

``record ENDPOINT SPOOL_DIR IDS_PATH``
    Records milestones until it is killed, against ``ENDPOINT`` (the test keeps it down).
    Each returned event id is written to ``IDS_PATH`` as soon as the call returns, one line
    each, line-buffered so that a SIGKILL loses at most the line being written. Every
    ``REPORT_EVERY`` events one JSON line of ``client.stats()`` goes to stdout.

``restart ENDPOINT SPOOL_DIR``
    "The app restarted": a new client on the same spool, with the collector up. It flushes
    (which waits for the spool to drain) and prints its stats as one JSON line.
"""

from __future__ import annotations

import json
import sys
import time

import cs_sdk

BATCH_SIZE = 100
REPORT_EVERY = 50
# Recording pace: about 4,000 events a second in bursts of 5, so that the worker keeps up and
# the queue holds what a real app's would (a batch or two), not a backlog of everything.
PAUSE_EVERY = 5
PAUSE = 0.001


def record(endpoint: str, spool_dir: str, ids_path: str) -> None:
    client = cs_sdk.Client(
        environ={},
        endpoint=endpoint,
        spool_dir=spool_dir,
        schedule_delay=0.05,
        max_export_batch_size=BATCH_SIZE,
    )
    with open(ids_path, "w", buffering=1) as ids:  # line-buffered: one write per id
        index = 0
        while True:
            event_id = client.milestone("before_kill", properties={"i": index})
            ids.write(f"{event_id}\n")
            index += 1
            if index % REPORT_EVERY == 0:
                print(json.dumps(client.stats()), flush=True)
            if index % PAUSE_EVERY == 0:
                time.sleep(PAUSE)


def restart(endpoint: str, spool_dir: str) -> None:
    client = cs_sdk.Client(environ={}, endpoint=endpoint, spool_dir=spool_dir)
    delivered = client.flush(timeout=60)
    client.shutdown(timeout=5)
    print(json.dumps({"delivered": delivered, **client.stats()}), flush=True)


if __name__ == "__main__":
    mode, *arguments = sys.argv[1:]
    if mode == "record":
        record(*arguments)
    elif mode == "restart":
        restart(*arguments)
    else:
        raise SystemExit(f"unknown mode {mode!r}")
