"""Answering the customer through a real client: ``respond()`` records the answer for the
feedback's author and ``responses.for_user`` shows it, with memory, SQLite and Redis."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

import cs_sdk
from cs_sdk import InvalidEventError
from cs_sdk.collector import LocalCollector
from cs_sdk.events import FeedbackResponse
from cs_sdk.testing import capture

MakeClient = Callable[..., cs_sdk.Client]
T0 = time.time() - 3600.0


@pytest.fixture(params=["memory", "sqlite", "redis"])
def state_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "memory":
        return "memory"
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'state.db'}"
    return str(request.getfixturevalue("fresh_redis_url"))


@pytest.fixture
def make_client() -> Iterator[MakeClient]:
    clients: list[cs_sdk.Client] = []

    def make(**options: Any) -> cs_sdk.Client:
        options.setdefault("service_name", "support")
        client = cs_sdk.Client(environ={}, **options)
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.shutdown(timeout=1.0)


def test_an_answer_reaches_the_customer_who_gave_the_feedback(
    make_client: MakeClient, state_url: str
) -> None:
    client = make_client(state=state_url)
    with capture(client) as events:
        client.pilots.enroll("u1", "new-dashboard", cohort="wave-1", account_id="acme")
        feedback_id = client.feedback(
            "nps",
            score=3,
            comment="Export is slow",
            user_id="u1",
            account_id="acme",
            area="exports",
        )
        assert feedback_id is not None
        # A support agent answers from their own session: the scope is theirs, not u1's.
        with cs_sdk.identify(user_id="agent-7", session_id="s-agent"):
            response_id = client.respond(
                feedback_id,
                message="Export is 3x faster in 2.3",
                team="reports-team",
                status="done",
            )
    assert response_id is not None
    answered = events.named("done")[0]
    assert answered.schema_name == "cs.feedback.response"
    assert answered.event_id == response_id
    assert (answered.user_id, answered.account_id, answered.session_id) == ("u1", "acme", None)
    assert answered.pilots == {"new-dashboard": "wave-1"}
    assert answered.attributes["cs.feedback.id"] == feedback_id
    assert answered.attributes["cs.response.team"] == "reports-team"
    assert answered.attributes["cs.response.status"] == "done"
    assert answered.attributes["cs.response.message"] == "Export is 3x faster in 2.3"

    [shown] = client.responses.for_user("u1")
    assert (shown.response_id, shown.feedback_id) == (response_id, feedback_id)
    assert (shown.message, shown.team, shown.status) == (
        "Export is 3x faster in 2.3",
        "reports-team",
        "done",
    )
    assert shown.answered_at.timestamp() == pytest.approx(answered.time_unix_nano / 1e9)
    assert shown.feedback is not None
    assert (shown.feedback.kind, shown.feedback.score, shown.feedback.comment) == (
        "nps",
        3,
        "Export is slow",
    )
    assert shown.feedback.area == "exports"
    assert client.responses.for_user("agent-7") == []


def test_answers_are_listed_newest_first(make_client: MakeClient, state_url: str) -> None:
    client = make_client(state=state_url)
    with capture(client):
        first = client.feedback("text", comment="Need SSO", user_id="u1", timestamp=T0)
        second = client.feedback("csat", score=2, user_id="u1", timestamp=T0 + 1)
        assert first is not None and second is not None
        client.respond(
            first, message="On the roadmap", team="platform", status="planned", timestamp=T0 + 2
        )
        client.respond(
            second, message="Not for now", team="product", status="declined", timestamp=T0 + 3
        )
        client.respond(
            first, message="SSO is live", team="platform", status="done", timestamp=T0 + 4
        )
    found = client.responses.for_user("u1")
    assert [(a.status, a.feedback_id) for a in found] == [
        ("done", first),
        ("declined", second),
        ("planned", first),
    ]
    assert [a.status for a in client.responses.for_user("u1", limit=1)] == ["done"]


def test_an_answer_recorded_right_after_its_feedback_finds_it_on_the_worker(
    make_client: MakeClient, tmp_path: Path
) -> None:
    # Through the real batching worker and a loopback collector: no flush in between.
    with LocalCollector() as collector:
        client = make_client(endpoint=collector.endpoint, state=f"sqlite:///{tmp_path / 's.db'}")
        feedback_id = client.feedback("thumbs", score=0, comment="Lost my draft", user_id="u9")
        assert feedback_id is not None
        client.respond(feedback_id, message="Drafts autosave now", team="editor", status="done")
        assert client.flush(timeout=30.0)
        assert collector.wait_for(2, timeout=30.0)
        response = next(r for r in collector.records if r.event_name == "cs.feedback.response")
    assert response.user_id == "u9"
    assert response.attributes["cs.feedback.id"] == feedback_id
    assert [a.message for a in client.responses.for_user("u9")] == ["Drafts autosave now"]


def test_feedback_recorded_by_one_process_is_answered_from_another(
    make_client: MakeClient, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    for url in (f"sqlite:///{tmp_path / 'shared.db'}", str(request.getfixturevalue("redis_url"))):
        web, admin = make_client(state=url), make_client(state=url)
        with capture(web):
            feedback_id = web.feedback("rating", score=1, comment="Charts are wrong", user_id="u3")
        assert feedback_id is not None
        with capture(admin) as events:
            admin.respond(feedback_id, message="Fixed", team="charts", status="done")
        assert events[0].user_id == "u3"
        assert [a.message for a in web.responses.for_user("u3")] == ["Fixed"]


def test_feedback_recorded_elsewhere_is_answered_with_an_explicit_user(
    make_client: MakeClient, state_url: str
) -> None:
    client = make_client(state=state_url)
    with capture(client) as events:
        client.respond(
            "0123abcd",
            message="Thanks, fixed",
            team="ops",
            status="done",
            user_id=42,
            account_id="acme",
        )  # type: ignore[arg-type]
    assert (events[0].user_id, events[0].account_id) == ("42", "acme")
    [shown] = client.responses.for_user("42")
    assert (shown.feedback_id, shown.message, shown.feedback) == ("0123abcd", "Thanks, fixed", None)


def test_an_unknown_feedback_is_still_recorded_and_the_gap_is_logged(
    make_client: MakeClient, caplog: pytest.LogCaptureFixture
) -> None:
    client = make_client()
    with caplog.at_level(logging.WARNING, "cs_sdk"), capture(client) as events:
        response_id = client.respond("feedfeed", message="Fixed", team="ops", status="done")
    assert response_id is not None and events[0].user_id is None
    assert "feedfeed is unknown to this state store" in caplog.text
    assert "user_id=" in caplog.text


def test_messages_and_comments_are_redacted_before_the_store(
    make_client: MakeClient, state_url: str
) -> None:
    client = make_client(state=state_url)
    with capture(client) as events:
        feedback_id = client.feedback("text", comment="call me on +1 (555) 010-9999", user_id="u1")
        assert feedback_id is not None
        client.respond(
            feedback_id, message="We wrote to ana@example.com", team="support", status="done"
        )
    assert events[1].attributes["cs.response.message"] == "We wrote to [email]"
    [shown] = client.responses.for_user("u1")
    assert shown.message == "We wrote to [email]"
    assert shown.feedback is not None and shown.feedback.comment == "call me on [phone]"


def test_an_answer_to_a_customer_who_opted_out_is_dropped(
    make_client: MakeClient, state_url: str
) -> None:
    client = make_client(state=state_url)
    with capture(client) as events:
        feedback_id = client.feedback("nps", score=2, comment="Too slow", user_id="u1")
        assert feedback_id is not None
        client.opt_out("u1")
        client.respond(feedback_id, message="Fixed", team="ops", status="done")
    assert [e.schema_name for e in events] == ["cs.feedback"]
    assert client.stats()["dropped"]["opted_out"] == 1
    assert client.responses.for_user("u1") == []


def test_feedback_before_send_dropped_is_not_remembered(make_client: MakeClient) -> None:
    client = make_client(
        before_send=lambda event: None if event.schema.name == "cs.feedback" else event
    )
    with capture(client) as events:
        feedback_id = client.feedback("nps", score=0, comment="secret", user_id="u1")
        assert feedback_id is not None
        client.respond(feedback_id, message="Sorry", team="ops", status="done")
    assert [e.user_id for e in events] == [None]


@pytest.mark.parametrize(
    ("arguments", "field"),
    [
        ({"feedback_event_id": ""}, "feedback_event_id"),
        ({"feedback_event_id": 12}, "feedback_event_id"),
        ({"message": "  "}, "message"),
        ({"message": "x" * 70_000}, "message"),
        ({"team": ""}, "team"),
        ({"status": "fixed"}, "status"),
        ({"user_id": ""}, "user_id"),
        ({"timestamp": "yesterday"}, "timestamp"),
    ],
)
def test_invalid_answers_raise_in_strict_mode_and_are_counted_otherwise(
    make_client: MakeClient, arguments: dict[str, Any], field: str
) -> None:
    call: dict[str, Any] = {
        "feedback_event_id": "abc",
        "message": "Fixed",
        "team": "ops",
        "status": "done",
        **arguments,
    }
    strict = make_client(strict=True)
    with capture(strict) as events, pytest.raises(InvalidEventError) as raised:
        strict.respond(call.pop("feedback_event_id"), **call)
    assert raised.value.field == field and events == []

    call = {
        "feedback_event_id": "abc",
        "message": "Fixed",
        "team": "ops",
        "status": "done",
        **arguments,
    }
    lenient = make_client()
    with capture(lenient) as events:
        assert lenient.respond(call.pop("feedback_event_id"), **call) is None
    assert events == [] and lenient.stats()["dropped"]["invalid"] == 1


def test_the_typed_event_validates_the_same_rule() -> None:
    with pytest.raises(ValueError, match="status"):
        FeedbackResponse(feedback_id="abc", status="fixed", team="ops", message="Fixed")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="message"):
        FeedbackResponse(feedback_id="abc", status="done", team="ops", message=" ")


def test_module_functions_use_the_global_client(tmp_path: Path) -> None:
    assert cs_sdk.respond("abc", message="Fixed", team="ops", status="done") is None
    assert cs_sdk.responses.for_user("u1") == []
    with capture(state=f"sqlite:///{tmp_path / 's.db'}") as events:
        feedback_id = cs_sdk.feedback("csat", score=1, user_id="u1")
        assert feedback_id is not None
        response_id = cs_sdk.respond(feedback_id, message="Fixed", team="ops", status="done")
        assert [a.response_id for a in cs_sdk.responses.for_user("u1")] == [response_id]
    assert events.names() == ["csat", "done"]


def test_a_disabled_client_answers_nothing(make_client: MakeClient) -> None:
    client = make_client(disabled=True)
    assert client.respond("abc", message="Fixed", team="ops", status="done") is None
    assert client.responses.for_user("u1") == []


def test_an_invalid_limit_falls_back_to_the_default_or_raises_in_strict_mode(
    make_client: MakeClient,
) -> None:
    client = make_client()
    with capture(client):
        for index in range(25):
            feedback_id = client.feedback("csat", score=2, user_id="u1")
            assert feedback_id is not None
            client.respond(feedback_id, message=f"Answer {index}", team="ops", status="done")
    assert len(client.responses.for_user("u1", limit="all")) == 20  # type: ignore[arg-type]
    assert len(client.responses.for_user("u1", limit=0)) == 0
    with pytest.raises(InvalidEventError):
        make_client(strict=True).responses.for_user("u1", limit=-1)


def test_an_invalid_user_for_for_user_is_refused_loudly_in_strict_mode(
    make_client: MakeClient,
) -> None:
    assert make_client().responses.for_user("") == []
    with pytest.raises(InvalidEventError):
        make_client(strict=True).responses.for_user("")
