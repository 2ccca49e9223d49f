"""One "application worker" process for the cross-process tests: ``python _app_worker.py
STATE ENDPOINT``, then one JSON command per stdin line, one JSON answer per stdout line.

Commands: ``["record", name, user_id, count]`` (answers the event ids, after the calls
returned), ``["enroll", user_id, pilot]``, ``["exit", user_id, pilot]``, ``["opt_out",
user_id]``, ``["shown", prompt_id, user_id]``, ``["flush"]`` (answers ``[delivered,
stats]``) and ``["quit"]``.
"""

from __future__ import annotations

import json
import sys
from typing import Any

import cs_sdk


def main(state: str, endpoint: str) -> None:
    client = cs_sdk.Client(environ={}, endpoint=endpoint, state=state, schedule_delay=0.05)
    print(json.dumps("ready"), flush=True)
    for line in sys.stdin:
        command, *args = json.loads(line)
        answer: Any = None
        if command == "record":
            name, user_id, count = args
            answer = [client.milestone(name, user_id=user_id) for _ in range(count)]
        elif command == "enroll":
            answer = client.pilots.enroll(args[0], args[1]) is not None
        elif command == "exit":
            answer = client.pilots.exit(args[0], args[1])
        elif command == "opt_out":
            client.opt_out(args[0])
        elif command == "shown":
            answer = client.prompts.shown(args[0], args[1])
        elif command == "flush":
            answer = [client.flush(timeout=30), dict(client.stats())]
        elif command == "quit":
            break
        print(json.dumps(answer), flush=True)
    client.shutdown(timeout=10)


if __name__ == "__main__":
    main(*sys.argv[1:])
