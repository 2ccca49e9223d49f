"""The engine: events for shows and dismissals, its cache, and never raising."""

from __future__ import annotations

import logging
from typing import Any

import pytest

import cs_sdk
from cs_sdk._prompts import Prompts
from cs_sdk.events._builtin import PromptDismissed, PromptShown
from cs_sdk.state import MemoryStore, UserState

from .conftest import EngineFactory, FakeClock, FakeRecorder

NPS = {"id": "nps", "kind": "nps", "question": "Recommend us?", "area": "reports"}
DOC: dict[str, Any] = {"throttle": {"global_wait_days": 0}, "prompts": [NPS]}


class CountingStore(MemoryStore):
    def __init__(self) -> None:
        super().__init__()
        self.reads = 0

    def user_state(self, user_id: str) -> UserState:
        self.reads += 1
        return super().user_state(user_id)


class BrokenStore(MemoryStore):
    def user_state(self, user_id: str) -> UserState:
        raise ConnectionError("redis is down")

    def try_show(self, *args: object) -> bool:
        raise ConnectionError("redis is down")

    def record_dismissed(self, *args: object) -> None:
        raise ConnectionError("redis is down")


def test_shown_records_the_show_and_an_event(
    make_engine: EngineFactory, recorder: FakeRecorder, clock: FakeClock
) -> None:
    engine = make_engine(DOC)
    prompt = engine.next_for("u1")
    assert prompt is not None and prompt.area == "reports"
    assert engine.shown(prompt.id, "u1", account_id="acme") is True
    assert recorder.events == [(PromptShown(prompt_id="nps", kind="nps"), "u1", "acme", clock.now)]
    assert engine.shown("nps", "u1") is False  # max_shows defaults to 1
    assert len(recorder.events) == 1
    assert engine.next_for("u1") is None


def test_dismissed_records_history_and_an_event(
    make_engine: EngineFactory, recorder: FakeRecorder, clock: FakeClock
) -> None:
    store = MemoryStore()
    engine = make_engine(DOC, store)
    engine.dismissed("nps", "u1")
    assert store.history("u1", "nps").dismissed_at == clock.now.timestamp()
    assert recorder.events == [(PromptDismissed(prompt_id="nps"), "u1", None, clock.now)]


def test_shown_for_an_unknown_prompt_still_counts_and_warns(
    make_engine: EngineFactory, recorder: FakeRecorder, caplog: pytest.LogCaptureFixture
) -> None:
    engine = make_engine(DOC)
    with caplog.at_level(logging.WARNING, logger="cs_sdk"):
        assert engine.shown("legacy-survey", "u1")
    assert "does not define" in caplog.text
    assert recorder.events[0][0] == PromptShown(prompt_id="legacy-survey")


def test_user_state_is_cached_and_invalidated_by_changes_in_this_process(
    make_engine: EngineFactory,
) -> None:
    store = CountingStore()
    engine = make_engine(DOC, store, cache_ttl=60.0)
    for _ in range(5):
        engine.next_for("u1")
    assert store.reads == 1
    store.record_answered("u1", "nps", 0.0)  # as another process would: not seen yet
    assert engine.next_for("u1") is not None
    engine.invalidate("u1")
    assert engine.next_for("u1") is None
    engine.dismissed("nps", "u2")
    engine.next_for("u2")
    engine.shown("nps", "u2")
    engine.next_for("u2")
    assert store.reads == 4


def test_the_cache_expires_so_other_processes_changes_show_up(
    make_engine: EngineFactory,
) -> None:
    store = CountingStore()
    engine = make_engine(DOC, store, cache_ttl=0.0)
    engine.next_for("u1")
    store.record_answered("u1", "nps", 0.0)
    assert engine.next_for("u1") is None
    assert store.reads == 2


def test_a_failing_store_means_no_prompt_never_an_exception(
    make_engine: EngineFactory, recorder: FakeRecorder, caplog: pytest.LogCaptureFixture
) -> None:
    engine = make_engine(DOC, BrokenStore())
    with caplog.at_level(logging.WARNING, logger="cs_sdk"):
        assert engine.next_for("u1") is None
        assert engine.next_for("u1") is None
        assert engine.shown("nps", "u1") is False
        engine.dismissed("nps", "u1")
    assert recorder.events == []
    assert caplog.text.count("prompt evaluation failed") == 1


@pytest.mark.parametrize("user_id", ["", None, 4.2, True, "x" * 300])
def test_an_invalid_user_gets_no_prompt(make_engine: EngineFactory, user_id: Any) -> None:
    assert make_engine(DOC).next_for(user_id) is None


def test_without_a_configuration_there_is_no_prompt() -> None:
    engine = Prompts(MemoryStore())
    assert engine.config is None
    assert engine.next_for("u1") is None
    assert engine.explain("u1") == {}
    assert engine.reload() is False
    assert engine.watched_milestones() == frozenset()


def test_the_noop_engine_does_nothing() -> None:
    engine = Prompts.noop()
    assert engine.next_for("u1") is None
    assert engine.shown("nps", "u1") is False
    engine.dismissed("nps", "u1")


def test_watched_milestones_come_from_prompts_and_pilot_success(
    make_engine: EngineFactory,
) -> None:
    engine = make_engine(
        {
            "pilots": [{"id": "beta", "success": {"milestone": "won", "within_days": 7}}],
            "prompts": [NPS | {"targeting": {"milestones": ["created", "shared"]}}],
        }
    )
    assert engine.watched_milestones() == {"created", "shared", "won"}
    assert "1 prompts" in repr(engine)


class AnswerCountingStore(MemoryStore):
    def __init__(self) -> None:
        super().__init__()
        self.answers: list[tuple[str, str, float]] = []

    def record_answered(self, user_id: str, prompt_id: str, at: float) -> None:
        self.answers.append((user_id, prompt_id, at))
        super().record_answered(user_id, prompt_id, at)


def test_an_answer_stops_the_prompt_at_once(
    make_engine: EngineFactory, recorder: FakeRecorder, clock: FakeClock
) -> None:
    # Unlimited shows: only "never again after an answer" stands between the user and a
    # second show. The cache is long-lived, so answered() must invalidate it itself.
    store = AnswerCountingStore()
    unlimited = {**DOC, "prompts": [NPS | {"throttle": {"max_shows": None}}]}
    engine = make_engine(unlimited, store, cache_ttl=60.0)
    assert engine.next_for("u1") is not None and engine.shown("nps", "u1")
    engine.answered("nps", "u1")
    assert engine.next_for("u1") is None
    assert engine.shown("nps", "u1") is False
    assert store.answers == [("u1", "nps", clock.now.timestamp())]
    assert [type(event) for event, *_ in recorder.events] == [PromptShown]  # no event of its own


def test_answering_again_is_free_so_the_worker_step_may_repeat_it(
    make_engine: EngineFactory,
) -> None:
    store = AnswerCountingStore()
    engine = make_engine(DOC, store)
    engine.answered("nps", "u1")  # from feedback(), on the caller's thread
    engine.answered("nps", "u1", at=12.5)  # from the prompt_history step, on the worker
    engine.answered("nps", "u2", at=12.5)  # a user this process did not see answer
    assert [(user, prompt) for user, prompt, _ in store.answers] == [("u1", "nps"), ("u2", "nps")]


def test_an_answer_without_a_user_takes_the_identify_scope_user(
    make_engine: EngineFactory,
) -> None:
    store = AnswerCountingStore()
    engine = make_engine(DOC, store)
    engine.answered("nps")  # anonymous: nothing to remember
    with cs_sdk.identify(user_id="u7"):
        engine.answered("nps")
    assert [user for user, _, _ in store.answers] == ["u7"]


def test_the_noop_engine_ignores_answers() -> None:
    Prompts.noop().answered("nps", "u1")
