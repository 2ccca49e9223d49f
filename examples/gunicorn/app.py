"""A WSGI app served by pre-forking gunicorn; each worker delivers its own events.

    cs-sdk collector --port 4318 &
    gunicorn -c examples/gunicorn/gunicorn.conf.py --chdir examples/gunicorn app:app

``GET /`` records a milestone for the user named by the ``X-User`` header and answers with
the worker's pid and the event id.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable
from typing import Any

import cs_sdk
from cs_sdk.integrations.wsgi import CsMiddleware

# How long a request takes, so that concurrent requests spread over the workers.
DELAY = float(os.environ.get("EXAMPLE_DELAY", "0"))


def application(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    time.sleep(DELAY)
    event_id = cs_sdk.milestone("page_viewed", properties={"path": environ.get("PATH_INFO", "/")})
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [f"{os.getpid()} {event_id}".encode()]


def identify(environ: dict[str, Any]) -> dict[str, str] | None:
    user = environ.get("HTTP_X_USER")
    return {"user_id": user} if user else None


app = CsMiddleware(application, identify=identify)
