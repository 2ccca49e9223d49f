"""The Django middleware, configured in settings, with Django's own test clients."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Iterator
from typing import Any

import django
import pytest
from django.conf import settings

if not settings.configured:
    settings.configure(
        DEBUG=False,
        SECRET_KEY="tests-only",
        ALLOWED_HOSTS=["testserver"],
        ROOT_URLCONF=__name__,
        MIDDLEWARE=["cs_sdk.integrations.django.CsMiddleware"],
        CS_SDK_IDENTIFY=f"{__name__}.identify",
        INSTALLED_APPS=[],
        DATABASES={},
    )
    django.setup()

from django.http import HttpResponse, JsonResponse, StreamingHttpResponse
from django.test import AsyncClient, Client, override_settings
from django.urls import path

import cs_sdk
from cs_sdk._context import current_identity
from cs_sdk.testing import capture


def identify(request: Any) -> dict[str, Any] | None:
    user = request.headers.get("X-User")
    return None if user is None else {"user_id": user, "session_id": request.headers.get("X-S")}


def report(request: Any) -> JsonResponse:
    return JsonResponse({"id": cs_sdk.milestone("first_report_created")})


async def async_report(request: Any) -> JsonResponse:
    return JsonResponse({"id": cs_sdk.milestone("async_report")})


def boom(request: Any) -> HttpResponse:
    cs_sdk.milestone("before_boom")
    raise RuntimeError("view failed")


def stream(request: Any) -> StreamingHttpResponse:
    def body() -> Iterator[bytes]:
        for index in range(2):
            cs_sdk.milestone(f"chunk_{index}")
            yield b"x"

    return StreamingHttpResponse(body())


def async_stream(request: Any) -> StreamingHttpResponse:
    async def body() -> AsyncIterator[bytes]:
        for index in range(2):
            await asyncio.sleep(0)
            cs_sdk.milestone(f"achunk_{index}")
            yield b"y"

    return StreamingHttpResponse(body())


urlpatterns = [
    path("report", report),
    path("async-report", async_report),
    path("boom", boom),
    path("stream", stream),
    path("async-stream", async_stream),
]


def test_events_in_a_view_carry_the_identity_from_the_settings_resolver() -> None:
    with capture() as events:
        http = Client()
        assert http.get("/report", headers={"X-User": "u1", "X-S": "s1"}).status_code == 200
        assert http.get("/report").status_code == 200
    assert [(e.user_id, e.session_id) for e in events] == [("u1", "s1"), (None, None)]


def test_a_streaming_body_is_inside_the_scope_and_the_thread_is_left_clean() -> None:
    with capture() as events:
        response = Client().get("/stream", headers={"X-User": "u2"})
        assert b"".join(response.streaming_content) == b"xx"  # type: ignore[attr-defined]
        response.close()
    assert [(e.name, e.user_id) for e in events] == [("chunk_0", "u2"), ("chunk_1", "u2")]
    assert current_identity() == cs_sdk.Identity()


def test_a_raising_view_closes_the_scope() -> None:
    with capture() as events:
        http = Client(raise_request_exception=False)
        assert http.get("/boom", headers={"X-User": "u1"}).status_code == 500
        assert http.get("/report").status_code == 200
    assert [(e.name, e.user_id) for e in events] == [
        ("before_boom", "u1"),
        ("first_report_created", None),
    ]
    assert current_identity() == cs_sdk.Identity()


def test_under_asgi_the_async_middleware_scopes_views_and_async_streams() -> None:
    async def run() -> None:
        http = AsyncClient()
        assert (await http.get("/async-report", headers={"X-User": "u5"})).status_code == 200
        response = await http.get("/async-stream", headers={"X-User": "u6"})
        chunks = [chunk async for chunk in response.streaming_content]  # type: ignore[attr-defined]
        assert b"".join(chunks) == b"yy"

    with capture() as events:
        asyncio.run(run())
    assert [(e.name, e.user_id) for e in events] == [
        ("async_report", "u5"),
        ("achunk_0", "u6"),
        ("achunk_1", "u6"),
    ]


@pytest.mark.parametrize(
    "setting",
    ["no.such.module.identify", 42, None, f"{__name__}.urlpatterns"],
    ids=["missing", "not-a-path", "unset", "not-callable"],
)
def test_a_broken_setting_is_logged_once_and_requests_go_on(
    setting: object, caplog: pytest.LogCaptureFixture
) -> None:
    with (
        override_settings(CS_SDK_IDENTIFY=setting),
        capture() as events,
        caplog.at_level(logging.WARNING, "cs_sdk"),
    ):
        http = Client()
        assert [http.get("/report").status_code for _ in range(3)] == [200] * 3
    assert [e.user_id for e in events] == [None] * 3
    assert len([r for r in caplog.records if "CS_SDK_IDENTIFY" in r.getMessage()]) == 1


def test_a_resolver_that_raises_never_fails_the_request(caplog: pytest.LogCaptureFixture) -> None:
    def raising(request: Any) -> None:
        raise AttributeError("'AnonymousUser' object has no attribute 'account'")

    with (
        override_settings(CS_SDK_IDENTIFY=raising),
        capture() as events,
        caplog.at_level(logging.WARNING, "cs_sdk"),
    ):
        assert Client().get("/report").status_code == 200
    assert events[0].user_id is None
    assert any("AttributeError" in r.getMessage() for r in caplog.records)
