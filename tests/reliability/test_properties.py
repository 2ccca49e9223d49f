"""Property-based: whatever a caller passes to any recording call, production mode never
raises, every valid event arrives (as it was recorded) and every invalid one is counted."""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

import cs_sdk
from cs_sdk._feedback_text import truncated
from cs_sdk._names import NAME_PATTERN
from cs_sdk._redaction import redact_text
from cs_sdk._validate import MAX_STRING_LENGTH
from cs_sdk.collector import LocalCollector
from cs_sdk.testing import capture

MAX_TIMESTAMP_NS = 2**64 - 1  # OTLP times are unsigned 64-bit nanoseconds
FEEDBACK_SCORES: dict[str, tuple[int, int] | None] = {
    "nps": (0, 10),
    "csat": (1, 5),
    "ces": (1, 7),
    "rating": (1, 5),
    "thumbs": (0, 1),
    "text": None,
}


class FuzzedSignup(cs_sdk.Event, name="props.fuzzed_signup", version="1.2.0"):
    plan: str
    seats: int
    ratio: float
    tags: list[str]


class SharedFields(cs_sdk.Event):  # no name=: an abstract base, not trackable
    plan: str


# -- strategies -----------------------------------------------------------------------------

CONTACT = "call me on +1 (555) 010-9999 or at ana@example.com"  # redacted in feedback
long_strings = st.integers(65_530, 65_540).map(lambda n: "a" * n)  # around the size limit
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=50),
    long_strings,
    st.binary(max_size=10),
    st.builds(object),
)
values = st.recursive(
    scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.dictionaries(st.text(max_size=10), children, max_size=4),
        st.tuples(children, children),
    ),
    max_leaves=30,
)
names = st.one_of(
    st.text(max_size=300),
    st.integers(),
    st.none(),
    st.sampled_from(["ok_name", "report.exported", "step-2", "Bad Name!"]),
)
properties = st.one_of(
    st.none(),
    st.dictionaries(st.one_of(st.text(max_size=20), st.integers()), values, max_size=8),
    st.lists(st.integers(), max_size=3),
)
identifiers = st.one_of(
    st.none(), st.text(max_size=5), st.integers(-3, 3), st.booleans(), st.floats(0, 3)
)
timestamps = st.one_of(
    st.none(),
    st.floats(allow_nan=True, allow_infinity=True),  # up to 1.8e308: far past year 2554
    st.integers(-10, 2**70),
    st.just(1.7e12),  # milliseconds passed as seconds: about the year 55,800
    st.datetimes(),  # naive: refused
    st.datetimes(timezones=st.just(dt.timezone.utc)),
    st.text(max_size=3),
)
outcome_values = st.one_of(
    st.none(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(),
    st.integers(-(2**1100), 2**1100),  # past 2**1024 an int has no double: invalid
    st.text(max_size=3),
)
short_ids = st.one_of(st.none(), st.text(max_size=300), st.integers())
kinds = st.one_of(
    st.sampled_from(sorted(FEEDBACK_SCORES)),
    st.text(max_size=5),
    st.integers(),
    st.lists(st.integers(), max_size=2),  # unhashable
    st.dictionaries(st.text(max_size=2), st.integers(), max_size=1),
)
scores = st.one_of(st.none(), st.integers(-2, 12), st.floats(), st.booleans(), st.text(max_size=2))
comments = st.one_of(
    st.none(), st.text(max_size=100), st.integers(), st.just(CONTACT), long_strings
)
typed_events = st.builds(
    FuzzedSignup,
    plan=st.text(max_size=20),
    seats=st.integers(-(2**63), 2**63 - 1),
    ratio=st.floats(allow_nan=True, allow_infinity=True),
    tags=st.lists(st.text(max_size=5), max_size=3),
)
events = st.one_of(
    typed_events,
    st.none(),
    st.text(max_size=5),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
    st.builds(SharedFields, plan=st.text(max_size=5)),
)


def make_calls(
    *,
    names: st.SearchStrategy[Any],
    properties: st.SearchStrategy[Any],
    identifiers: st.SearchStrategy[Any],
    timestamps: st.SearchStrategy[Any],
    outcome_values: st.SearchStrategy[Any],
    short_ids: st.SearchStrategy[Any],
    feedback: st.SearchStrategy[dict[str, Any]],
    events: st.SearchStrategy[Any],
) -> st.SearchStrategy[tuple[str, dict[str, Any]]]:
    """One recording call: ``(method, keyword arguments)``, drawn from these value pools."""
    common = {
        "user_id": identifiers,
        "account_id": identifiers,
        "session_id": identifiers,
        "timestamp": timestamps,
    }
    return st.one_of(
        st.tuples(
            st.just("milestone"),
            st.fixed_dictionaries({"name": names, "properties": properties}, optional=common),
        ),
        st.tuples(
            st.just("outcome"),
            st.fixed_dictionaries(
                {"name": names},
                optional={
                    "value": outcome_values,
                    "unit": short_ids,
                    "properties": properties,
                    **common,
                },
            ),
        ),
        st.tuples(
            st.just("feedback"),
            st.tuples(
                feedback,
                st.fixed_dictionaries(
                    {},
                    optional={
                        "prompt_id": short_ids,
                        "area": short_ids,
                        "properties": properties,
                        **common,
                    },
                ),
            ).map(lambda parts: {**parts[0], **parts[1]}),
        ),
        st.tuples(st.just("track"), st.fixed_dictionaries({"event": events}, optional=common)),
    )


arbitrary_calls = make_calls(
    names=names,
    properties=properties,
    identifiers=identifiers,
    timestamps=timestamps,
    outcome_values=outcome_values,
    short_ids=short_ids,
    feedback=st.fixed_dictionaries(
        {"kind": kinds}, optional={"score": scores, "comment": comments}
    ),
    events=events,
)

# The same calls drawn from values that are valid, so that valid events are common too (their
# validity is still judged by is_valid(), not assumed).
valid_values = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(-(2**63), 2**63 - 1),
        st.floats(allow_nan=False, allow_infinity=False),
        st.text(max_size=50),
        st.just(CONTACT),
        st.integers(65_530, 65_536).map(lambda n: "a" * n),
    ),
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.dictionaries(st.text(min_size=1, max_size=10), children, max_size=4),
        st.tuples(children, children),
    ),
    max_leaves=20,
)
valid_names = st.text(min_size=1, max_size=256)


def valid_feedback(kind: str) -> st.SearchStrategy[dict[str, Any]]:
    bounds = FEEDBACK_SCORES[kind]
    if bounds is None:
        comment = st.text(min_size=1, max_size=200).filter(lambda text: text.strip() != "")
        return st.fixed_dictionaries({"kind": st.just(kind), "comment": comment | comments})
    return st.fixed_dictionaries(
        {"kind": st.just(kind), "score": st.integers(*bounds)},
        optional={"comment": st.none() | st.text(max_size=200) | comments},
    )


valid_calls = make_calls(
    names=valid_names,
    properties=st.none()
    | st.dictionaries(st.text(min_size=1, max_size=20), valid_values, max_size=8),
    identifiers=st.none() | st.text(min_size=1, max_size=20) | st.integers(),
    timestamps=st.none()
    | st.floats(0, 1e10)
    | st.datetimes(
        min_value=dt.datetime(1970, 1, 2),
        max_value=dt.datetime(2500, 1, 1),
        timezones=st.just(dt.timezone.utc),
    ),
    outcome_values=st.none()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.integers(-(2**100), 2**100),
    short_ids=st.none() | valid_names,
    feedback=st.sampled_from(sorted(FEEDBACK_SCORES)).flatmap(valid_feedback),
    events=typed_events,
)
calls = valid_calls | arbitrary_calls

Call = tuple[str, dict[str, Any]]
ONE_VALID_CALL_OF_EACH_KIND: list[Call] = [
    ("milestone", {"name": "first_report", "user_id": "u1", "properties": {"pages": 3}}),
    ("outcome", {"name": "renewal", "account_id": "acme", "value": 12000.0, "unit": "USD"}),
    ("feedback", {"kind": "nps", "score": 9, "comment": "Great", "user_id": "u1"}),
    ("track", {"event": FuzzedSignup(plan="team", seats=3, ratio=0.5, tags=["a"])}),
]


# -- what the SDK must accept -----------------------------------------------------------------


class Invalid(Exception):
    """The event is refused (InvalidEventError)."""


class Drop(Exception):
    """The key holding this value is left out (a type the SDK does not convert)."""


def item_value(value: Any, depth: int) -> Any:
    """A value inside a list (or a scalar of a mapping) as it is sent (_validate._check_item)."""
    if value is None or type(value) is bool:
        return value
    if type(value) is int:
        if not -(2**63) <= value < 2**63:
            raise Invalid
        return value
    if type(value) is float:
        if not math.isfinite(value):
            raise Invalid
        return value
    if type(value) is str:
        if len(value) > 65_536:
            raise Invalid
        return value
    if type(value) is bytes:
        if len(value) > 65_536:
            raise Invalid
        return value
    return nested_value(value, depth)


def nested_value(value: Any, depth: int) -> Any:
    """A container or a value to convert, as sent (_validate._check_nested, _values)."""
    if depth >= 8:
        raise Invalid
    if isinstance(value, dict):
        return mapping_value(value, depth + 1)
    if isinstance(value, (list, tuple)):
        return [item_value(item, depth + 1) for item in value]
    if isinstance(value, bytes):  # converted (bytes as OTLP bytes), then checked as an item
        return item_value(value, depth + 1)
    raise Drop  # object(): no conversion applies


def mapping_value(value: dict[Any, Any], depth: int) -> dict[str, Any]:
    sent: dict[str, Any] = {}
    for key, item in value.items():
        if not (isinstance(key, str) and 0 < len(key) <= 256):
            raise Invalid
        try:
            if item is None or type(item) in (bool, int, float, str):
                sent[key] = item_value(item, depth)
            else:
                sent[key] = nested_value(item, depth)
        except Drop:
            continue  # this key only
    return sent


def expected_properties(props: Any) -> dict[str, Any] | None:
    """The properties as sent, or Invalid: the oracle of docs/otlp-mapping.md's rules."""
    if props is None:
        return None
    if not isinstance(props, dict) or len(props) > 256:
        raise Invalid
    return mapping_value(props, 1) or None


def properties_are_valid(props: Any) -> bool:
    try:
        expected_properties(props)
    except Invalid:
        return False
    return True


def is_name(value: Any) -> bool:
    return type(value) is str and 0 < len(value) <= 256


def is_event_name(value: Any) -> bool:
    """The name rule of milestones and outcomes (docs/schemas.md)."""
    return is_name(value) and NAME_PATTERN.fullmatch(value) is not None


def is_optional_id(value: Any) -> bool:
    return value is None or is_name(value)


def identity_is_valid(arguments: dict[str, Any]) -> bool:
    # The id rule: a non-empty string of at most 256 characters, or an int (its digits);
    # never a bool.
    return all(
        value is None
        or (isinstance(value, str) and 0 < len(value) <= 256)
        or (type(value) is int and len(str(value)) <= 256)
        for value in (arguments.get(key) for key in ("user_id", "account_id", "session_id"))
    )


def timestamp_is_valid(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            return False
        ns = int(value.timestamp() * 1_000_000_000)
    elif type(value) in (int, float) and 0 <= value < MAX_TIMESTAMP_NS / 1e9:
        ns = int(value * 1_000_000_000)
    else:
        return False
    return 0 <= ns <= MAX_TIMESTAMP_NS


def outcome_value_is_valid(value: Any) -> bool:
    # An int is sent as a double: valid while it has one (below about 2**1024).
    if type(value) is int:
        try:
            float(value)
        except OverflowError:
            return False
        return True
    return value is None or (type(value) is float and math.isfinite(value))


def feedback_is_valid(arguments: dict[str, Any]) -> bool:
    kind, score, comment = arguments["kind"], arguments.get("score"), arguments.get("comment")
    if type(kind) is not str or kind not in FEEDBACK_SCORES:
        return False
    bounds = FEEDBACK_SCORES[kind]
    if bounds is None:
        score_ok = score is None and isinstance(comment, str) and comment.strip() != ""
    else:
        score_ok = type(score) is int and bounds[0] <= score <= bounds[1]
    comment_ok = comment is None or type(comment) is str  # a long one is cut, not refused
    return (
        score_ok
        and comment_ok
        and is_optional_id(arguments.get("prompt_id"))
        and is_optional_id(arguments.get("area"))
    )


def is_valid(call: Call) -> bool:
    method, arguments = call
    common = identity_is_valid(arguments) and timestamp_is_valid(arguments.get("timestamp"))
    if method == "milestone":
        specific = is_event_name(arguments["name"]) and properties_are_valid(
            arguments["properties"]
        )
    elif method == "outcome":
        specific = (
            is_event_name(arguments["name"])
            and outcome_value_is_valid(arguments.get("value"))
            and is_optional_id(arguments.get("unit"))
            and properties_are_valid(arguments.get("properties"))
        )
    elif method == "feedback":
        specific = feedback_is_valid(arguments) and properties_are_valid(
            arguments.get("properties")
        )
    else:
        event = arguments["event"]
        specific = isinstance(event, cs_sdk.Event) and type(event).is_declared()
    return common and specific


def record(target: Any, call: Call) -> str | None:
    method, arguments = call
    arguments = dict(arguments)
    first = arguments.pop({"feedback": "kind", "track": "event"}.get(method, "name"))
    result: str | None = getattr(target, method)(first, **arguments)
    return result


# -- what must arrive -------------------------------------------------------------------------


def redacted(value: Any) -> Any:
    if isinstance(value, str):
        return redact_text(value)
    if isinstance(value, list):
        return [redacted(item) for item in value]
    if isinstance(value, dict):
        return {key: redacted(item) for key, item in value.items()}
    return value


def expected_body(call: Call) -> Any:
    method, arguments = call
    if method == "track":
        body: Any = arguments["event"].model_dump(mode="json")
        return body
    body = expected_properties(arguments.get("properties"))
    return redacted(body) if method == "feedback" else body


def same(left: Any, right: Any) -> bool:
    """Equality, with NaN equal to NaN (typed events may carry it)."""
    if isinstance(left, float) and isinstance(right, float) and math.isnan(left):
        return math.isnan(right)
    if isinstance(left, dict) and isinstance(right, dict):
        return left.keys() == right.keys() and all(same(left[k], right[k]) for k in left)
    if isinstance(left, list) and isinstance(right, list):
        return len(left) == len(right) and all(map(same, left, right))
    return bool(left == right) and type(left) is type(right)


def check_arrived(call: Call, event_name: str, name: str, body: Any, attributes: Any) -> None:
    method, arguments = call
    assert same(body or None, expected_body(call)), (call, body)
    if method == "track":
        assert (event_name, name) == ("props.fuzzed_signup", "props.fuzzed_signup")
        assert attributes["cs.schema.version"] == "1.2.0"
        return
    assert event_name == f"cs.{method}"
    assert name == arguments["kind" if method == "feedback" else "name"]
    user_id = arguments.get("user_id")
    assert attributes.get("user.id") == (None if user_id is None else str(user_id))
    if method == "outcome" and arguments.get("value") is not None:
        assert attributes["cs.outcome.value"] == float(arguments["value"])
    if method == "feedback" and arguments.get("comment") is not None:
        comment = arguments["comment"]
        if len(comment) > MAX_STRING_LENGTH:
            comment = truncated(comment)
        assert attributes["cs.feedback.comment"] == redact_text(comment)


# -- the properties ---------------------------------------------------------------------------


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(batch=st.lists(calls, min_size=1, max_size=6))
def test_every_recording_call_never_raises_and_counts_what_it_drops(batch: list[Call]) -> None:
    with capture() as captured:
        results = [record(cs_sdk, call) for call in batch]
        stats = cs_sdk.stats()
    expected_valid = [is_valid(call) for call in batch]
    assert [result is not None for result in results] == expected_valid
    assert stats["dropped"]["invalid"] == expected_valid.count(False)
    assert stats["dropped"]["internal_error"] == 0
    assert [event.event_id for event in captured] == [r for r in results if r is not None]
    valid_calls = [call for call, ok in zip(batch, expected_valid, strict=True) if ok]
    for call, event in zip(valid_calls, captured, strict=True):
        check_arrived(call, event.schema_name, event.name, event.properties, event.attributes)


@pytest.mark.parametrize("protocol", ["http/protobuf", "http/json"])
def test_valid_events_arrive_through_the_real_pipeline_and_invalid_ones_are_counted(
    protocol: str,
) -> None:
    recorded: dict[str, Call] = {}
    invalid = 0
    with LocalCollector() as collector:
        client = cs_sdk.Client(
            environ={}, endpoint=collector.endpoint, protocol=protocol, schedule_delay=0.05
        )

        @settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
        @given(batch=st.lists(calls, min_size=1, max_size=6))
        @example(batch=ONE_VALID_CALL_OF_EACH_KIND)  # random batches may miss a kind
        def record_batch(batch: list[Call]) -> None:
            nonlocal invalid
            for call in batch:
                result = record(client, call)
                assert (result is not None) == is_valid(call), call
                if result is None:
                    invalid += 1
                else:
                    recorded[result] = call
            assert client.flush(timeout=10)

        record_batch()
        client.shutdown(timeout=5)
        assert collector.wait_for(len(recorded), timeout=10)
        arrived = collector.records
    stats = client.stats()
    # Every kind of call got through at least once (about 60 valid events in all).
    assert {method for method, _ in recorded.values()} == {
        "milestone", "outcome", "feedback", "track"
    }  # fmt: skip
    assert stats["dropped"]["invalid"] == invalid
    assert stats["refused_total"] == invalid  # refused at the call, apart from the books
    assert stats["dropped_total"] == 0  # nothing was lost on the way
    assert sorted(record.event_id for record in arrived) == sorted(recorded)  # each once
    for arrival in arrived:
        check_arrived(
            recorded[arrival.event_id],
            arrival.event_name,
            arrival.name,
            arrival.body,
            arrival.attributes,
        )
