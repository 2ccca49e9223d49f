"""Every store keeps answers to feedback the same way: per user, newest first, bounded."""

from __future__ import annotations

import time
from pathlib import Path

from cs_sdk.state import Answer, FeedbackSummary, SqliteStore, StateStore
from cs_sdk.state._answers import ANSWERS_PER_USER, FEEDBACK_RETENTION

NOW = time.time()


def summary(feedback_id: str = "f1", user_id: str = "u1", at: float = NOW) -> FeedbackSummary:
    return FeedbackSummary(
        feedback_id, user_id, "acme", "nps", 3, "Export is slow", "exports", "nps-1", at
    )


def answer(response_id: str, at: float, feedback: FeedbackSummary | None = None) -> Answer:
    return Answer(response_id, "f1", "Fixed in 2.3", "reports-team", "done", at, feedback)


def test_a_remembered_feedback_is_found_by_its_id(store: StateStore) -> None:
    store.remember_feedback(summary())
    assert store.feedback_summary("f1") == summary()
    assert store.feedback_summary("f2") is None


def test_feedback_older_than_the_retention_is_forgotten(store: StateStore) -> None:
    store.remember_feedback(summary("old", at=NOW - FEEDBACK_RETENTION - 60))
    store.remember_feedback(summary("recent", at=NOW - 60))
    assert store.feedback_summary("old") is None
    assert store.feedback_summary("recent") is not None


def test_answers_are_listed_newest_first_with_the_feedback(store: StateStore) -> None:
    store.add_answer("u1", answer("r1", NOW - 20, summary()))
    store.add_answer("u1", answer("r3", NOW))
    store.add_answer("u1", answer("r2", NOW - 10))
    found = store.answers("u1")
    assert [a.response_id for a in found] == ["r3", "r2", "r1"]
    assert found[2] == answer("r1", NOW - 20, summary())
    assert found[2].feedback is not None and found[2].feedback.comment == "Export is slow"
    assert found[0].feedback is None
    assert [a.response_id for a in store.answers("u1", limit=2)] == ["r3", "r2"]
    assert store.answers("u2") == ()


def test_the_same_answer_is_kept_once(store: StateStore) -> None:
    store.add_answer("u1", answer("r1", NOW))
    store.add_answer("u1", answer("r1", NOW))
    assert len(store.answers("u1")) == 1


def test_only_the_newest_answers_are_kept(store: StateStore) -> None:
    for index in range(ANSWERS_PER_USER + 5):
        store.add_answer("u1", answer(f"r{index:03d}", NOW + index))
    kept = store.answers("u1", limit=1000)
    assert len(kept) == ANSWERS_PER_USER
    assert kept[0].response_id == f"r{ANSWERS_PER_USER + 4:03d}"
    assert kept[-1].response_id == "r005"


def test_answers_given_at_the_same_instant_are_ordered_alike(store: StateStore) -> None:
    for response_id in ("rb", "ra", "rc"):
        store.add_answer("u1", answer(response_id, NOW))
    assert [a.response_id for a in store.answers("u1")] == ["rc", "rb", "ra"]


def test_answers_written_by_one_process_are_read_by_another(tmp_path: Path) -> None:
    writer, reader = SqliteStore(tmp_path / "s.db"), SqliteStore(tmp_path / "s.db")
    try:
        writer.remember_feedback(summary())
        writer.add_answer("u1", answer("r1", NOW, summary()))
        assert reader.feedback_summary("f1") == summary()
        assert reader.answers("u1") == (answer("r1", NOW, summary()),)
    finally:
        writer.close()
        reader.close()


def test_answer_times_read_as_utc_datetimes() -> None:
    found = answer("r1", 1_736_121_600.0, summary(at=1_736_035_200.0))
    assert found.answered_at.isoformat() == "2025-01-06T00:00:00+00:00"
    assert found.feedback is not None
    assert found.feedback.recorded_at.isoformat() == "2025-01-05T00:00:00+00:00"
