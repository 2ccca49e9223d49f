"""A FastAPI app with the identity middleware, the feedback route and the widget.

    cs-sdk collector &                       # terminal 1: see events arrive
    python examples/fastapi_app/app.py       # terminal 2: http://127.0.0.1:8000/login?user=u1

Sign in at ``/login?user=NAME`` (a demo session cookie, no password). Each user is enrolled
in the ``new-dashboard`` pilot, so the NPS prompt of ``prompts.toml`` is theirs; its answer
arrives at the collector with the user, the account, the pilot tags and the trace id.
"""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse

import cs_sdk
from cs_sdk.integrations.asgi import CsMiddleware
from cs_sdk.integrations.feedback import feedback_asgi_app

HERE = Path(__file__).parent
SESSION_COOKIE = "demo_session"

PAGE = """<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>Acme reports</title>
  <style>
    body { font: 16px/1.5 system-ui, sans-serif; margin: 2rem; color: #1f2328; }
    /* The widget is themed with CSS variables: */
    .csfb { --csfb-accent: #8250df; --csfb-radius: 10px; }
  </style>
</head>
<body>
  <h1>Acme reports</h1>
  <p>Signed in as <strong>{user}</strong> ({account}).</p>
  <script src="/cs/feedback/widget.js" defer></script>
</body>
</html>
"""


def build_app(**init_options: Any) -> FastAPI:
    """The application; ``init_options`` go to ``cs_sdk.init`` (endpoint, state...)."""
    sessions: dict[str, dict[str, str]] = {}  # token -> the signed-in user (demo only)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        init_options.setdefault("service_name", "acme-web")
        init_options.setdefault("prompts", str(HERE / "prompts.toml"))
        cs_sdk.init(**init_options)
        yield
        await cs_sdk.ashutdown()

    app = FastAPI(lifespan=lifespan)

    def identify(request: Request) -> dict[str, str] | None:
        # The server's own idea of who is signed in: never a value the browser chose.
        return sessions.get(request.cookies.get(SESSION_COOKIE, ""))

    app.add_middleware(CsMiddleware, identify=identify)
    app.mount("/cs/feedback", feedback_asgi_app())

    @app.get("/login")
    def login(user: str) -> RedirectResponse:
        token = secrets.token_urlsafe(24)
        sessions[token] = {"user_id": user, "account_id": "acme", "session_id": token[:8]}
        cs_sdk.pilots.enroll(user, "new-dashboard", cohort="wave-1", account_id="acme")
        response = RedirectResponse("/", status_code=303)
        response.set_cookie(SESSION_COOKIE, token, httponly=True, samesite="lax")
        return response

    @app.get("/", response_class=HTMLResponse)
    def index(request: Request) -> str:
        who = sessions.get(request.cookies.get(SESSION_COOKIE, ""))
        if who is None:
            return '<p><a href="/login?user=u1">Sign in as u1</a></p>'
        cs_sdk.milestone("dashboard_viewed")  # carries the user from the middleware
        return PAGE.replace("{user}", who["user_id"]).replace("{account}", who["account_id"])

    return app


app = build_app()

if __name__ == "__main__":
    import uvicorn

    uvicorn.run(app, host="127.0.0.1", port=8000)
