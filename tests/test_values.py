"""Property values of common types are converted as docs/otlp-mapping.md says, on every path.

One table of values runs through the recording calls on the C path and the Python path,
through ``testing.capture()`` and through both wire protocols to the local collector.
"""

from __future__ import annotations

import datetime as dt
import decimal
import enum
import logging
import uuid
from pathlib import Path
from typing import Any

import pytest

import cs_sdk
from cs_sdk import InvalidEventError, _accelerated
from cs_sdk.collector import LocalCollector
from cs_sdk.testing import capture


class Plan(enum.Enum):
    TEAM = "team"


class Seats(enum.IntEnum):
    FIVE = 5


UID = uuid.UUID("12345678-1234-5678-1234-567812345678")
AWARE = dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.timezone.utc)
# (value, what the event carries): the table of docs/otlp-mapping.md, "Property values".
CONVERTED: list[tuple[Any, Any]] = [
    (AWARE, "2026-01-02T03:04:05+00:00"),
    (dt.datetime(2026, 1, 2, 3, 4, 5, 600_000), "2026-01-02T03:04:05.600000"),
    (dt.date(2026, 1, 2), "2026-01-02"),
    (dt.time(3, 4, 5), "03:04:05"),
    (decimal.Decimal("12.50"), "12.50"),
    (
        decimal.Decimal("0.1000000000000000055511151231257827"),
        "0.1000000000000000055511151231257827",
    ),
    (UID, "12345678-1234-5678-1234-567812345678"),
    (Plan.TEAM, "team"),
    (Seats.FIVE, 5),
    ({3, 1, 2}, [1, 2, 3]),
    (frozenset({"b", "a"}), ["a", "b"]),
    ({Plan.TEAM, "a"}, ["a", "team"]),
    (b"\x00\xff", b"\x00\xff"),
    (bytearray(b"ab"), b"ab"),
    ([AWARE, {UID}], ["2026-01-02T03:04:05+00:00", ["12345678-1234-5678-1234-567812345678"]]),
    ({"when": dt.date(2026, 1, 2)}, {"when": "2026-01-02"}),
]
# (value, what is left of {"bad": value, "pages": 3}): the innermost key holding it goes.
UNCONVERTIBLE: list[tuple[Any, dict[str, Any]]] = [
    (object(), {"pages": 3}),
    ({1, "a"}, {"pages": 3}),
    ([1, object()], {"pages": 3}),  # a list is one value: its key goes
    ({"inner": Path("/tmp"), "kept": 1}, {"bad": {"kept": 1}, "pages": 3}),
]
PATHS = ["python", *(["c"] if _accelerated.AVAILABLE else [])]


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize(("value", "expected"), CONVERTED, ids=lambda v: type(v).__name__)
def test_common_types_are_converted_as_documented(path: str, value: Any, expected: Any) -> None:
    with capture(speedups=path == "c") as events:
        cs_sdk.milestone("m", properties={"value": value, "pages": 3})
        cs_sdk.outcome("o", properties={"value": value})
        stats = cs_sdk.stats()
    assert [event.properties for event in events] == [
        {"value": expected, "pages": 3},
        {"value": expected},
    ]
    assert stats["properties_dropped"] == 0


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize(("value", "left"), UNCONVERTIBLE, ids=lambda v: type(v).__name__)
def test_a_value_that_cannot_be_converted_drops_its_key_only(
    path: str, value: Any, left: dict[str, Any], caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="cs_sdk"), capture(speedups=path == "c") as events:
        for _ in range(3):
            assert cs_sdk.milestone("m", properties={"bad": value, "pages": 3}) is not None
        stats = cs_sdk.stats()
    assert [event.properties for event in events] == [left] * 3
    assert stats["properties_dropped"] == 3 and stats["dropped"]["invalid"] == 0
    logged = [r.getMessage() for r in caplog.records if "cannot be sent" in r.getMessage()]
    assert len(logged) == 1 and "properties.bad" in logged[0]  # once, naming the key


@pytest.mark.parametrize(("value", "_left"), UNCONVERTIBLE, ids=lambda v: type(v).__name__)
def test_strict_mode_raises_for_a_value_that_cannot_be_converted(value: Any, _left: Any) -> None:
    with capture(strict=True) as events, pytest.raises(InvalidEventError) as raised:
        cs_sdk.milestone("m", properties={"bad": value})
    assert raised.value.field.startswith("properties.bad")
    assert list(events) == []


def test_an_event_whose_every_key_is_dropped_is_still_sent_without_properties() -> None:
    with capture() as events:
        cs_sdk.milestone("m", properties={"a": object()})
    assert [event.properties for event in events] == [{}]


@pytest.mark.parametrize("protocol", ["http/protobuf", "http/json"])
def test_converted_values_arrive_at_the_collector_over_both_protocols(protocol: str) -> None:
    properties = {f"v{index}": value for index, (value, _) in enumerate(CONVERTED)}
    expected = {f"v{index}": wire for index, (_, wire) in enumerate(CONVERTED)}
    with LocalCollector() as collector:
        client = cs_sdk.Client(environ={}, endpoint=collector.endpoint, protocol=protocol)
        client.milestone("m", properties=properties)
        assert client.shutdown(timeout=10)
        (record,) = collector.records
    assert record.body == expected
