"""Fork while other threads hold locks, and judge the child by its exit code, in bounded time."""

from __future__ import annotations

import contextlib
import os
import sys
import threading
import traceback
from collections.abc import Callable, Iterable
from typing import Any

from _processes import wait_for_exit


def fork_while_held(locks: Iterable[Any], child: Callable[[], None], timeout: float = 5.0) -> int:
    """Fork while a parent thread holds every lock in ``locks``; run ``child()`` in the child.

    In the child each lock is a copy held by a thread that does not exist there: code that
    takes one of them without the fork hooks replacing it waits for ever. Returns the
    child's exit code (0: ``child()`` returned, 1: it raised, traceback on stderr). A child
    still running after ``timeout`` seconds is killed and fails the test.
    """
    held, release = threading.Event(), threading.Event()

    def hold() -> None:
        with contextlib.ExitStack() as stack:
            for lock in locks:
                stack.enter_context(lock)
            held.set()
            release.wait(timeout + 5)

    holder = threading.Thread(target=hold, name="test-lock-holder", daemon=True)
    holder.start()
    assert held.wait(5), "the test thread could not take the locks"
    pid = os.fork()
    if pid == 0:  # the child: never return into pytest
        code = 1
        try:
            child()
            code = 0
        except BaseException:
            traceback.print_exc()
            sys.stderr.flush()
        finally:
            os._exit(code)
    release.set()  # the parent's locks; the child's copies stay held
    holder.join(5)
    return wait_for_exit(pid, timeout, "the forked child hung on a lock held at fork time")
