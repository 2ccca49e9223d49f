"""The feedback route through Starlette's and Flask's own test clients: the happy path and
the hostile ones (forged and replayed answers, another user's id, CSRF, size, rate)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from starlette.applications import Starlette
from starlette.routing import Mount
from starlette.testclient import TestClient
from werkzeug.middleware.dispatcher import DispatcherMiddleware

import cs_sdk
from cs_sdk.integrations.asgi import CsMiddleware
from cs_sdk.integrations.feedback import feedback_asgi_app, feedback_wsgi_app
from cs_sdk.integrations.wsgi import CsMiddleware as WsgiMiddleware
from cs_sdk.testing import CapturedEvents, capture

JSON_POST = {"X-CS-Feedback": "1", "Content-Type": "application/json"}


def user_from_header(request: Any) -> dict[str, str] | None:
    user = request.headers.get("x-user")
    return {"user_id": user, "account_id": "acme"} if user else None


@pytest.fixture
def events(prompts_file: str) -> Iterator[CapturedEvents]:
    cs_sdk.init(service_name="web", prompts=prompts_file, environ={})
    with capture() as captured:
        yield captured


def asgi_client(**options: Any) -> tuple[TestClient, Any]:
    route = feedback_asgi_app(**options)
    app = Starlette(routes=[Mount("/cs/feedback", app=route)])
    app.add_middleware(CsMiddleware, identify=user_from_header)
    return TestClient(app, base_url="http://app.test"), route


def of_schema(events: CapturedEvents, schema: str) -> list[Any]:
    return [event for event in events if event.schema_name == schema]


def as_user(user: str, **headers: str) -> dict[str, str]:
    return {"X-User": user, **headers}


def test_the_next_prompt_is_served_once_and_its_show_recorded(events: CapturedEvents) -> None:
    http, route = asgi_client()
    first = http.get("/cs/feedback/prompt", headers=as_user("u1"))
    assert first.status_code == 200
    assert first.headers["cache-control"] == "no-store"
    prompt = first.json()["prompt"]
    assert prompt == {
        "id": "nps-dashboard",
        "kind": "nps",
        "question": "How likely are you to recommend the new dashboard?",
        "area": "reports",
        "min": 0,
        "max": 10,
    }
    # Shown once (max_shows = 1): the next page gets the next prompt.
    assert http.get("/cs/feedback/prompt", headers=as_user("u1")).json()["prompt"]["id"] == (
        "thumbs-export"
    )
    shown = of_schema(events, "cs.prompt.shown")
    assert [(e.user_id, e.account_id) for e in shown] == [("u1", "acme"), ("u1", "acme")]
    assert route.service.stats()["shown"] == 2


def test_an_anonymous_page_gets_no_prompt(events: CapturedEvents) -> None:
    http, _ = asgi_client()
    assert http.get("/cs/feedback/prompt").json() == {"prompt": None, "responses": []}
    assert events == []


def test_an_answer_is_recorded_with_the_server_side_identity_only(
    events: CapturedEvents,
) -> None:
    http, _ = asgi_client()
    http.get("/cs/feedback/prompt", headers=as_user("u1"))
    answer = {"prompt_id": "nps-dashboard", "score": 9, "comment": "  Faster please  "}
    response = http.post("/cs/feedback/answer", json=answer, headers=as_user("u1", **JSON_POST))
    assert response.status_code == 200, response.text
    event_id = response.json()["event_id"]
    [feedback] = events.named("nps")
    assert feedback.event_id == event_id
    assert (feedback.user_id, feedback.account_id) == ("u1", "acme")
    assert feedback.score == 9 and feedback.comment == "Faster please"
    assert feedback.attributes["cs.prompt.id"] == "nps-dashboard"
    assert feedback.attributes["cs.product.area"] == "reports"


def test_a_body_naming_a_user_is_refused(events: CapturedEvents) -> None:
    http, route = asgi_client()
    http.get("/cs/feedback/prompt", headers=as_user("u1"))
    for field in ("user_id", "account_id", "session_id"):
        forged = {"prompt_id": "nps-dashboard", "score": 0, field: "victim"}
        response = http.post("/cs/feedback/answer", json=forged, headers=as_user("u1", **JSON_POST))
        assert response.status_code == 400
        assert field in response.json()["message"]
    assert events.named("nps") == []
    assert route.service.stats()["refused.invalid"] == 3


def test_an_answer_to_a_prompt_never_shown_is_refused_and_counted(
    events: CapturedEvents,
) -> None:
    http, route = asgi_client()
    http.get("/cs/feedback/prompt", headers=as_user("u1"))  # shown to u1, not to u2
    forged = {"prompt_id": "nps-dashboard", "score": 10}
    response = http.post("/cs/feedback/answer", json=forged, headers=as_user("u2", **JSON_POST))
    assert response.status_code == 403
    assert response.json()["error"] == "not_shown"
    unknown = {"prompt_id": "no-such-prompt", "score": 10}
    response = http.post("/cs/feedback/answer", json=unknown, headers=as_user("u2", **JSON_POST))
    assert response.status_code == 404
    stats = route.service.stats()
    assert stats["refused.not_shown"] == 1 and stats["refused.unknown_prompt"] == 1
    assert events.named("nps") == []


def test_a_replayed_answer_is_refused_and_counted(events: CapturedEvents) -> None:
    http, route = asgi_client()
    http.get("/cs/feedback/prompt", headers=as_user("u1"))
    answer = {"prompt_id": "nps-dashboard", "score": 7}
    headers = as_user("u1", **JSON_POST)
    assert http.post("/cs/feedback/answer", json=answer, headers=headers).status_code == 200
    replay = http.post("/cs/feedback/answer", json=answer, headers=headers)
    assert replay.status_code == 409 and replay.json()["error"] == "already_answered"
    assert len(events.named("nps")) == 1
    assert route.service.stats()["refused.already_answered"] == 1


@pytest.mark.parametrize(
    ("answer", "message"),
    [
        ({"prompt_id": "nps-dashboard", "score": 11}, "score must be an integer from 0 to 10"),
        ({"prompt_id": "nps-dashboard", "score": "9"}, "score must be an integer"),
        ({"prompt_id": "nps-dashboard"}, "score must be an integer"),
        ({"prompt_id": "nps-dashboard", "score": 5, "kind": "csat"}, "asks for 'nps'"),
        ({"prompt_id": "nps-dashboard", "score": 5, "comment": "x" * 2001}, "at most 2000"),
        ({"prompt_id": "nps-dashboard", "score": 5, "comment": 3}, "comment must be text"),
        ({"prompt_id": ["nps-dashboard"], "score": 5}, "prompt_id must be"),
    ],
)
def test_invalid_answers_are_refused_with_the_rule(
    events: CapturedEvents, answer: dict[str, Any], message: str
) -> None:
    http, _ = asgi_client()
    http.get("/cs/feedback/prompt", headers=as_user("u1"))
    response = http.post("/cs/feedback/answer", json=answer, headers=as_user("u1", **JSON_POST))
    assert response.status_code == 400
    assert message in response.json()["message"]
    assert events.named("nps") == []


@pytest.mark.parametrize(
    "headers",
    [
        {"Content-Type": "application/json"},  # no custom header: a plain form could do this
        {"X-CS-Feedback": "1", "Content-Type": "text/plain"},
        {**JSON_POST, "Origin": "https://evil.test"},
        {**JSON_POST, "Sec-Fetch-Site": "cross-site"},
    ],
    ids=["no-header", "text-plain", "foreign-origin", "cross-site"],
)
def test_cross_site_posts_are_refused(events: CapturedEvents, headers: dict[str, str]) -> None:
    http, route = asgi_client()
    http.get("/cs/feedback/prompt", headers=as_user("u1"))
    response = http.post(
        "/cs/feedback/answer",
        content=b'{"prompt_id": "nps-dashboard", "score": 0}',
        headers=as_user("u1", **headers),
    )
    assert response.status_code == 403 and response.json()["error"] == "csrf"
    assert route.service.stats()["refused.csrf"] == 1
    same_origin = {**JSON_POST, "Origin": "http://app.test", "Sec-Fetch-Site": "same-origin"}
    answer = {"prompt_id": "nps-dashboard", "score": 0}
    ok = http.post("/cs/feedback/answer", json=answer, headers=as_user("u1", **same_origin))
    assert ok.status_code == 200


def test_large_bodies_are_refused_before_being_read_whole(events: CapturedEvents) -> None:
    http, route = asgi_client(max_body_bytes=256)
    headers = as_user("u1", **JSON_POST)
    big = b'{"prompt_id": "nps-dashboard", "comment": "' + b"x" * 5000 + b'"}'
    assert http.post("/cs/feedback/answer", content=big, headers=headers).status_code == 413

    def chunked() -> Iterator[bytes]:  # no Content-Length: counted as it arrives
        for _ in range(100):
            yield b"x" * 100

    assert http.post("/cs/feedback/answer", content=chunked(), headers=headers).status_code == 413
    assert route.service.stats()["refused.too_large"] == 2


def test_answers_are_rate_limited_per_user(events: CapturedEvents) -> None:
    http, route = asgi_client(answer_burst=3, answers_per_minute=1)
    statuses = [
        http.post(
            "/cs/feedback/dismiss", json={"prompt_id": "x"}, headers=as_user("u1", **JSON_POST)
        )
        for _ in range(4)
    ]
    assert [r.status_code for r in statuses] == [404, 404, 404, 429]
    assert int(statuses[-1].headers["retry-after"]) >= 1
    other = http.post(
        "/cs/feedback/dismiss", json={"prompt_id": "x"}, headers=as_user("u2", **JSON_POST)
    )
    assert other.status_code == 404  # another user has their own budget
    assert route.service.stats()["refused.rate_limited"] == 1


def test_an_anonymous_post_is_refused(events: CapturedEvents) -> None:
    http, _ = asgi_client()
    response = http.post(
        "/cs/feedback/answer", json={"prompt_id": "nps-dashboard", "score": 1}, headers=JSON_POST
    )
    assert response.status_code == 401


def test_a_dismissal_needs_a_show_and_is_recorded(events: CapturedEvents) -> None:
    http, _ = asgi_client()
    headers = as_user("u1", **JSON_POST)
    never = http.post("/cs/feedback/dismiss", json={"prompt_id": "nps-dashboard"}, headers=headers)
    assert never.status_code == 403
    http.get("/cs/feedback/prompt", headers=as_user("u1"))
    ok = http.post("/cs/feedback/dismiss", json={"prompt_id": "nps-dashboard"}, headers=headers)
    assert ok.status_code == 200
    [dismissed] = of_schema(events, "cs.prompt.dismissed")
    assert dismissed.user_id == "u1"


def test_the_widget_files_are_served_with_an_etag(events: CapturedEvents) -> None:
    http, _ = asgi_client()
    script = http.get("/cs/feedback/widget.js")
    assert script.status_code == 200
    assert script.headers["content-type"].startswith("text/javascript")
    assert script.headers["x-content-type-options"] == "nosniff"
    assert b"X-CS-Feedback" in script.content
    again = http.get("/cs/feedback/widget.js", headers={"If-None-Match": script.headers["etag"]})
    assert again.status_code == 304
    assert http.get("/cs/feedback/widget.css").headers["content-type"].startswith("text/css")
    assert http.post("/cs/feedback/widget.js").status_code == 405
    assert http.get("/cs/feedback/nothing-here").status_code == 404


def test_the_teams_answers_are_served_to_their_user_only(events: CapturedEvents) -> None:
    http, _ = asgi_client()
    http.get("/cs/feedback/prompt", headers=as_user("u1"))
    answer = {"prompt_id": "nps-dashboard", "score": 4, "comment": "Export is slow"}
    posted = http.post("/cs/feedback/answer", json=answer, headers=as_user("u1", **JSON_POST))
    cs_sdk.respond(
        posted.json()["event_id"], message="Export is 3x faster in 2.3", team="reports-team",
        status="done",
    )  # fmt: skip
    [reply] = http.get("/cs/feedback/prompt", headers=as_user("u1")).json()["responses"]
    assert reply["message"] == "Export is 3x faster in 2.3"
    assert (reply["team"], reply["status"]) == ("reports-team", "done")
    assert reply["feedback_id"] == posted.json()["event_id"]
    assert reply["feedback"] == {
        "kind": "nps", "score": 4, "comment": "Export is slow", "area": "reports"
    }  # fmt: skip
    assert set(reply) == {
        "response_id", "feedback_id", "message", "team", "status", "answered_at", "feedback"
    }  # fmt: skip
    assert http.get("/cs/feedback/prompt", headers=as_user("u2")).json()["responses"] == []


def test_the_wsgi_route_behind_flask(events: CapturedEvents) -> None:
    flask_app = Flask(__name__)
    route = feedback_wsgi_app()
    flask_app.wsgi_app = WsgiMiddleware(  # type: ignore[method-assign]
        DispatcherMiddleware(flask_app.wsgi_app, {"/cs/feedback": route}),
        identify=lambda environ: (
            {"user_id": environ.get("HTTP_X_USER")} if environ.get("HTTP_X_USER") else None
        ),
    )
    http = flask_app.test_client()
    assert http.get("/cs/feedback/prompt", headers=as_user("u9")).json["prompt"]["kind"] == "nps"
    answer = {"prompt_id": "nps-dashboard", "score": 3}
    assert (
        http.post("/cs/feedback/answer", json=answer, headers={"X-User": "u9"}).status_code == 403
    )
    ok = http.post("/cs/feedback/answer", json=answer, headers=as_user("u9", **JSON_POST))
    assert ok.status_code == 200
    forged = http.post(
        "/cs/feedback/answer", json={**answer, "user_id": "u1"}, headers=as_user("u9", **JSON_POST)
    )
    assert forged.status_code == 400
    big = http.post("/cs/feedback/answer", data=b"x" * 10_000, headers=as_user("u9", **JSON_POST))
    assert big.status_code == 413
    assert http.get("/cs/feedback/widget.js").status_code == 200
    assert [e.user_id for e in events.named("nps")] == ["u9"]
    assert route.service.stats()["answered"] == 1
