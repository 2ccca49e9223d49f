"""A Django app in one file: the identity middleware, the feedback route and the widget.

    cs-sdk collector &                                           # terminal 1
    python examples/django_app/app.py runserver --noreload       # terminal 2
    # then open http://127.0.0.1:8000/login?user=u1

Sessions are Django's signed cookies (no database needed); the resolver in settings reads
the signed-in user from the session, never from anything else the browser sends.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import django
from django.conf import settings

HERE = Path(__file__).parent

if not settings.configured:
    settings.configure(
        DEBUG=False,
        SECRET_KEY="example-only-not-secret",  # a real app reads it from its environment
        ALLOWED_HOSTS=["127.0.0.1", "localhost", "testserver"],
        ROOT_URLCONF=__name__,
        SESSION_ENGINE="django.contrib.sessions.backends.signed_cookies",
        MIDDLEWARE=[
            "django.contrib.sessions.middleware.SessionMiddleware",
            "django.middleware.csrf.CsrfViewMiddleware",
            # After the session middleware: the resolver reads request.session.
            "cs_sdk.integrations.django.CsMiddleware",
        ],
        CS_SDK_IDENTIFY=f"{__name__}.identify",
        INSTALLED_APPS=["django.contrib.sessions"],
        DATABASES={},
    )
    django.setup()

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect  # noqa: E402
from django.urls import include, path  # noqa: E402

import cs_sdk  # noqa: E402
from cs_sdk.integrations.django import feedback_urls  # noqa: E402

PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Acme (Django)</title></head>
<body><h1>Acme reports</h1><p>Signed in as <strong>{user}</strong>.</p>
<script src="/cs/feedback/widget.js" defer></script></body></html>
"""


def identify(request: HttpRequest) -> dict[str, Any] | None:
    user = request.session.get("user_id")
    return {"user_id": user, "account_id": request.session.get("account_id")} if user else None


def login(request: HttpRequest) -> HttpResponse:
    user = request.GET.get("user", "u1")
    request.session["user_id"] = user
    request.session["account_id"] = "acme"
    cs_sdk.pilots.enroll(user, "new-dashboard", cohort="wave-1", account_id="acme")
    return HttpResponseRedirect("/")


def index(request: HttpRequest) -> HttpResponse:
    user = request.session.get("user_id")
    if user is None:
        return HttpResponse('<a href="/login?user=u1">Sign in as u1</a>')
    cs_sdk.milestone("dashboard_viewed")  # carries the user from the middleware
    return HttpResponse(PAGE.replace("{user}", user))


urlpatterns = [
    path("", index),
    path("login", login),
    path("cs/feedback/", include(feedback_urls())),
]

# The same pilot and prompts as the FastAPI example; endpoint and the rest from OTEL_*.
cs_sdk.init(service_name="acme-django", prompts=str(HERE.parent / "fastapi_app" / "prompts.toml"))

if __name__ == "__main__":
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)
