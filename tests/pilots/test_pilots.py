"""Enrolment, exit and listing, with their events, and the tagging cache."""

from __future__ import annotations

import datetime as dt
import logging
from pathlib import Path
from typing import Any

import pytest

import cs_sdk
from cs_sdk import InvalidEventError
from cs_sdk._pilots import Membership, Pilots
from cs_sdk._prompts import parse_config
from cs_sdk.events import Event
from cs_sdk.events._builtin import PilotEnrolled, PilotExited
from cs_sdk.state import MemoryStore, PilotPeriod

T0 = dt.datetime(2025, 3, 1, 12, 0, tzinfo=dt.timezone.utc)


class Recorder:
    def __init__(self) -> None:
        self.events: list[tuple[Event, str | None, str | None]] = []

    def track(self, event: Event, **identity: Any) -> str:
        self.events.append((event, identity.get("user_id"), identity.get("account_id")))
        return "id"


class CountingStore(MemoryStore):
    def __init__(self) -> None:
        super().__init__()
        self.reads = 0

    def pilot_periods(self, user_id: str) -> tuple[PilotPeriod, ...]:
        self.reads += 1
        return super().pilot_periods(user_id)


class BrokenStore(MemoryStore):
    def memberships(self, user_id: str) -> tuple[Membership, ...]:
        raise ConnectionError("down")

    def pilot_periods(self, user_id: str) -> tuple[PilotPeriod, ...]:
        raise ConnectionError("down")

    def put_membership(self, *args: object) -> tuple[Membership, bool]:
        raise ConnectionError("down")


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


def make(store: MemoryStore | None = None, recorder: Recorder | None = None, **kw: Any) -> Pilots:
    return Pilots(store or MemoryStore(), recorder=recorder, clock=lambda: T0, **kw)


def test_enrol_list_and_exit_record_events(recorder: Recorder) -> None:
    pilots = make(recorder=recorder)
    membership = pilots.enroll("u1", "beta", cohort="wave-1", account_id="acme")
    assert membership == Membership("beta", "wave-1", T0)
    assert pilots.of("u1") == [membership]
    assert pilots.exit("u1", "beta", reason="finished", account_id="acme") is True
    assert pilots.exit("u1", "beta") is False
    assert pilots.of("u1") == []
    assert recorder.events == [
        (PilotEnrolled(pilot_id="beta", cohort="wave-1"), "u1", "acme"),
        (PilotExited(pilot_id="beta", cohort="wave-1", reason="finished"), "u1", "acme"),
    ]


def test_enrolling_twice_records_only_a_change_of_cohort(recorder: Recorder) -> None:
    pilots = make(recorder=recorder)
    pilots.enroll("u1", "beta", "wave-1")
    pilots.enroll("u1", "beta", "wave-1")
    pilots.enroll("u1", "beta", "wave-2")
    assert [event.cohort for event, _, _ in recorder.events] == ["wave-1", "wave-2"]  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    "arguments", [("", "beta"), ("u1", ""), (None, "beta"), ("u1", "x" * 300), ("u1", "beta", 7)]
)
def test_invalid_arguments_raise_only_in_strict_mode(
    arguments: tuple[Any, ...], recorder: Recorder, caplog: pytest.LogCaptureFixture
) -> None:
    with pytest.raises(InvalidEventError):
        make(recorder=recorder, strict=True).enroll(*arguments)
    with caplog.at_level(logging.WARNING, logger="cs_sdk"):
        assert make(recorder=recorder).enroll(*arguments) is None
        assert make(recorder=recorder).exit(*arguments) is False
    assert recorder.events == []
    assert "ignored a pilots.enroll() call" in caplog.text
    assert "ignored a pilots.exit() call" in caplog.text


def test_unknown_pilots_and_cohorts_are_warned_about(caplog: pytest.LogCaptureFixture) -> None:
    config = parse_config('{"pilots": [{"id": "beta", "cohorts": ["wave-1"]}]}')
    pilots = make(config=lambda: config)
    with caplog.at_level(logging.WARNING, logger="cs_sdk"):
        pilots.enroll("u1", "beta", "wave-1")
        assert caplog.text == ""
        pilots.enroll("u1", "gamma")
        pilots.enroll("u2", "beta", "wave-9")
    assert "pilot 'gamma', which the configuration does not define" in caplog.text
    assert "cohort 'wave-9' is not one of pilot 'beta'" in caplog.text


def test_tags_are_cached_and_refreshed_by_enrol_and_exit() -> None:
    store = CountingStore()
    changed: list[str] = []
    pilots = make(store, on_change=changed.append, cache_ttl=60)
    assert pilots.tags("u1") == ()
    assert pilots.tags("u1") == ()
    assert store.reads == 1  # not enrolled is cached too
    pilots.enroll("u1", "beta", "wave-1")
    pilots.enroll("u1", "gamma")
    assert pilots.tags("u1") == (("beta", "wave-1"), ("gamma", None))
    assert pilots.tags("u1") == (("beta", "wave-1"), ("gamma", None))
    assert store.reads == 2
    pilots.exit("u1", "beta")
    assert pilots.tags("u1") == (("gamma", None),)
    assert changed == ["u1", "u1", "u1"]


def test_the_tag_cache_is_bounded_and_expires() -> None:
    store = CountingStore()
    pilots = make(store, cache_size=10, cache_ttl=0.0)
    for i in range(50):
        pilots.tags(f"u{i}")
    assert len(pilots._tags) <= 10
    store.put_membership("u1", Membership("beta", None, T0))  # another process enrolled u1
    assert pilots.tags("u1") == (("beta", None),)


def test_a_failing_store_is_logged_and_never_raises(caplog: pytest.LogCaptureFixture) -> None:
    pilots = make(BrokenStore())
    with caplog.at_level(logging.WARNING, logger="cs_sdk"):
        assert pilots.tags("u1") == ()
        assert pilots.enroll("u1", "beta") is None
        assert pilots.of("u1") == []
    assert "events not tagged" in caplog.text and "not saved" in caplog.text


def test_the_noop_pilots_store_nothing() -> None:
    pilots = Pilots.noop()
    assert pilots.enroll("u1", "beta") is None  # it did nothing, and says so
    assert pilots.of("u1") == [] and pilots.exit("u1", "beta") is False


def test_prompts_with_the_memory_store_warn_once_that_state_is_per_process(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    config = tmp_path / "prompts.json"
    config.write_text('{"prompts": []}')
    with caplog.at_level(logging.WARNING, logger="cs_sdk"):
        client = cs_sdk.Client(environ={}, endpoint="http://127.0.0.1:9", prompts=str(config))
        client.shutdown(timeout=0)
        sqlite_client = cs_sdk.Client(
            environ={},
            endpoint="http://127.0.0.1:9",
            prompts=str(config),
            state=f"sqlite:///{tmp_path / 'state.db'}",
        )
        sqlite_client.shutdown(timeout=0)
    warnings = [r.getMessage() for r in caplog.records if "state='memory'" in r.getMessage()]
    assert len(warnings) == 1
