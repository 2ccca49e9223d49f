"""The fast path cannot silently disappear: every shape applications typically record takes
the C accelerator (zero hand-overs to Python in ``stats()["debug"]["fallbacks"]``), and each
hand-over that does happen is counted by its reason.

A renamed client attribute, a new keyword or a changed validator that made the C path hand
every call to Python would cost three to twenty times as much per call without changing a
single result; these tests make it fail loudly instead. Events go to a real collector on
loopback, and the books balance.
"""

from __future__ import annotations

import datetime as dt
import decimal
import enum
import re
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from _accelerator import needs_accelerator
from _books import assert_balanced
from opentelemetry.sdk.trace import TracerProvider
from pydantic import BaseModel

import cs_sdk
from cs_sdk import InvalidEventError, _accelerated
from cs_sdk.collector import LocalCollector

pytestmark = needs_accelerator

ALL_CALLS = ["milestone", "outcome", "feedback", "track"]


class Plan(enum.Enum):
    TEAM = "team"


class Address(BaseModel):
    city: str


class PlanChosen(cs_sdk.Event, name="test.coverage.plan_chosen", version="1.0.0"):
    plan: str
    seats: int
    annual: bool
    tags: list[str]
    limits: dict[str, int]
    address: Address | None = None


FLAT = {
    "plan": "team",
    "pages": 3,
    "ratio": 0.25,
    "first": True,
    "source": "web",
    "seats": 12,
    "region": "eu",
    "note": None,
}


def typical_shapes(client: Any) -> dict[str, Callable[[], str | None]]:
    """One call per shape applications typically record, by a short description."""
    plan = PlanChosen(plan="pro", seats=5, annual=True, tags=["a"], limits={"projects": 3})
    keywords = {"user" + "_id": "u1"}  # keyword names built at run time (**kwargs)
    return {
        "flat": lambda: client.milestone("report_created", properties=FLAT),
        "list": lambda: client.milestone("report_created", properties={**FLAT, "tags": ["a"]}),
        "tuple": lambda: client.milestone("report_created", properties={"tags": ("a", "b")}),
        "nested dict": lambda: client.milestone(
            "search_run", properties={"filters": {"plan": "pro", "n": 3}}
        ),
        "list of dicts": lambda: client.milestone(
            "order_placed", properties={"items": [{"sku": "a1", "qty": 2}, {"sku": "b2"}]}
        ),
        "mixed nesting": lambda: client.milestone(
            "search_run",
            properties={"q": {"plans": ["pro", "team"], "range": {"from": 1, "to": 5.5}}},
        ),
        "bytes": lambda: client.milestone("file_uploaded", properties={"digest": b"\x00\xff"}),
        "converted values": lambda: client.milestone(
            "invoice_paid",
            properties={
                "paid_at": dt.datetime(2026, 1, 2, 3, 4, tzinfo=dt.timezone.utc),
                "due": dt.date(2026, 1, 31),
                "amount": decimal.Decimal("99.90"),
                "invoice": uuid.UUID(int=7),
                "lines": [{"sku": "a", "price": decimal.Decimal("9.90")}],
            },
        ),
        "int user id": lambda: client.milestone("signed_in", user_id=42, account_id=7),
        "UUID user id": lambda: client.track(plan, user_id=uuid.UUID(int=9)),
        "no properties": lambda: client.milestone("signed_in"),
        "empty properties": lambda: client.milestone("signed_in", properties={}),
        "explicit ids": lambda: client.milestone(
            "signed_in", user_id="u1", account_id="acme", session_id="s1"
        ),
        "runtime keywords": lambda: client.milestone("signed_in", **keywords),
        "seconds timestamp": lambda: client.milestone("imported", timestamp=1_700_000_000.25),
        "int timestamp": lambda: client.milestone("imported", timestamp=1_700_000_000),
        "typed event": lambda: client.track(plan),
        "typed event, ids": lambda: client.track(plan, user_id="u2", account_id="acme"),
        "typed event, nested": lambda: client.track(
            PlanChosen(
                plan="p", seats=1, annual=False, tags=[], limits={}, address=Address(city="x")
            )
        ),
        "nps with comment": lambda: client.feedback("nps", score=9, comment="Great export"),
        "csat, area": lambda: client.feedback("csat", score=4, area="reports"),
        "text feedback": lambda: client.feedback("text", comment="Please add CSV"),
        "thumbs, properties": lambda: client.feedback(
            "thumbs", score=1, properties={"page": "/reports", "tags": ["beta"]}
        ),
        "outcome": lambda: client.outcome("renewal", value=1200.0, unit="usd"),
        "outcome, int value": lambda: client.outcome("expansion", value=3, account_id="acme"),
        "outcome, properties": lambda: client.outcome(
            "renewal", properties={"plan": "team", "contract": {"months": 12}}
        ),
        "outcome, bare": lambda: client.outcome("churn_prevented"),
    }


def record_all(client: Any) -> dict[str, str | None]:
    tracer = TracerProvider().get_tracer("test")
    results: dict[str, str | None] = {}
    for name, call in typical_shapes(client).items():
        results[name] = call()
        with cs_sdk.identify(user_id="u9", account_id="acme", session_id="s9"):
            results[f"{name}, in identify()"] = call()
        with tracer.start_as_current_span("request"):
            results[f"{name}, in a span"] = call()
    return results


@pytest.fixture
def collector() -> Iterator[LocalCollector]:
    with LocalCollector() as running:
        yield running


def test_every_typical_shape_takes_the_fast_path_and_arrives(collector: LocalCollector) -> None:
    client = cs_sdk.Client(service_name="t", environ={}, endpoint=collector.endpoint)
    try:
        results = record_all(client)
        assert all(results.values()), [name for name, got in results.items() if not got]
        stats = client.stats()
        assert stats["debug"] == {"accelerated": ALL_CALLS, "fallbacks": {}}
        assert client.flush(timeout=30)
        assert collector.wait_for(len(results), timeout=30)
        stats = client.stats()
        assert stats["sent"] == stats["recorded"] == len(results)
        assert_balanced(stats)
    finally:
        client.shutdown(timeout=10)
    received = {record.event_id for record in collector.records}
    assert received == set(results.values())


def test_the_module_level_calls_take_the_fast_path(collector: LocalCollector) -> None:
    client = cs_sdk.init(service_name="t", environ={}, endpoint=collector.endpoint)
    try:
        plan = PlanChosen(plan="pro", seats=5, annual=True, tags=["a"], limits={})
        assert cs_sdk.milestone("report_created", properties={"tags": ["a", "b"]})
        assert cs_sdk.outcome("renewal", value=10.0, unit="usd", user_id="u1")
        assert cs_sdk.feedback("nps", score=10, comment="Love it", user_id="u1")
        assert cs_sdk.track(plan, user_id="u1")
        assert client.stats()["debug"]["fallbacks"] == {}
    finally:
        cs_sdk.shutdown(timeout=10)


def test_each_hand_over_to_python_is_counted_by_its_reason(collector: LocalCollector) -> None:
    client = cs_sdk.Client(service_name="t", environ={}, endpoint=collector.endpoint)
    try:
        deep: Any = "x"
        for _ in range(9):
            deep = [deep]
        when = dt.datetime(2026, 1, 2, tzinfo=dt.timezone.utc)
        assert client.milestone("m", timestamp=when)  # converted by Python, recorded
        assert client.milestone("m", properties={"tags": {"b", "a"}})  # a set: sorted by Python
        assert client.milestone("m", properties={"plan": Plan.TEAM})  # an Enum
        assert client.milestone("m", user_id=True) is None  # not an id: refused
        assert client.milestone("m", properties={"deep": deep}) is None  # invalid: dropped
        assert client.milestone("Not A Name") is None
        assert client.feedback("nps", score=11) is None
        with pytest.raises(TypeError):
            client.milestone("m", colour="red")
        stats = client.stats()
        assert stats["debug"]["fallbacks"] == {
            "timestamp_datetime": 1,
            "value_to_convert": 2,
            "nested_too_deep": 1,
            "invalid": 3,
            "keyword_unknown": 1,
        }
        assert set(stats["debug"]["fallbacks"]) <= set(_accelerated.FALLBACK_REASONS)
        assert stats["refused"]["invalid"] == 4
        assert stats["recorded"] == 3
        assert client.flush(timeout=30)
        assert_balanced(client.stats())
    finally:
        client.shutdown(timeout=10)


def test_strict_mode_raises_the_python_error_after_a_hand_over() -> None:
    client = cs_sdk.Client(service_name="t", environ={}, endpoint="http://127.0.0.1:9", strict=True)
    try:
        with pytest.raises(InvalidEventError) as raised:
            client.milestone("m", properties={"tags": ["a", float("nan")]})
        assert raised.value.field == "properties.tags[1]"
        assert client.stats()["debug"]["fallbacks"] == {"invalid": 1}
    finally:
        client.shutdown(timeout=0)


def test_without_the_accelerator_the_debug_key_says_so() -> None:
    off = cs_sdk.Client(environ={}, endpoint="http://127.0.0.1:9", speedups=False)

    class OwnTrack(cs_sdk.Client):
        def track(self, event: Any, **kwargs: Any) -> str | None:
            return None

    own = OwnTrack(environ={}, endpoint="http://127.0.0.1:9")
    try:
        assert off.stats()["debug"] == {"accelerated": [], "fallbacks": {}}
        assert own.stats()["debug"]["accelerated"] == ["milestone", "outcome", "feedback"]
    finally:
        off.shutdown(timeout=0)
        own.shutdown(timeout=0)


def test_every_reason_the_c_path_counts_is_documented() -> None:
    source = Path(_accelerated.__file__).with_name("_speedups.c").read_text(encoding="utf-8")
    counted = set(re.findall(r'\{&why_\w+, "(\w+)"\}', source))
    assert counted == set(_accelerated.FALLBACK_REASONS)
