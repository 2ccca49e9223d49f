"""examples/shared_events: two services share one events package; the collector validates."""

from __future__ import annotations

import importlib
import importlib.util
import json
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx
import jsonschema
import pytest
from hypothesis import HealthCheck, given, settings
from pydantic import ValidationError

from cs_sdk.cli import main
from cs_sdk.collector import LocalCollector
from cs_sdk.events import SchemaValidator, registry
from cs_sdk.events._jsonschema import event_json_schema
from cs_sdk.events._validator import strict_validator

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "shared_events"


def _load_strategies() -> ModuleType:
    """tests/events/_strategies.py, whatever pytest's import mode (tests/ is no package)."""
    path = Path(__file__).resolve().parents[1] / "events" / "_strategies.py"
    spec = importlib.util.spec_from_file_location("_event_strategies", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


documents = _load_strategies().documents
MODULES = ("acme_events", "web_app", "billing_worker", "run_demo")


def _forget_example_modules() -> None:
    for name in list(sys.modules):
        if name.split(".", 1)[0] in MODULES:
            del sys.modules[name]


@pytest.fixture
def example(monkeypatch: pytest.MonkeyPatch, own_registry: None) -> Iterator[dict[str, ModuleType]]:
    """The example's modules, imported fresh, in a registry holding only the built-ins.

    Other test modules declare events at import time (one of them a ``report.exported``
    1.0.0 of its own), which would conflict; they are set aside and put back afterwards.
    """
    _forget_example_modules()
    monkeypatch.syspath_prepend(str(EXAMPLE))
    try:
        yield {name: importlib.import_module(name) for name in MODULES}
    finally:
        for cls in list(registry):  # the example's own, before own_registry restores the rest
            if not cls.__module__.startswith("cs_sdk."):
                registry.unregister(cls)
        _forget_example_modules()


@pytest.fixture
def validator(example: dict[str, ModuleType], tmp_path: Path) -> SchemaValidator:
    """A validator over ``cs-sdk schemas export acme_events``: the events plus the built-ins."""
    assert main(["schemas", "export", "acme_events", "--out", str(tmp_path)]) == 0
    return SchemaValidator(tmp_path)


def _otlp_json(event_name: str, version: str, body: dict[str, Any]) -> dict[str, Any]:
    """A hand-built OTLP/JSON export request carrying one typed event."""

    def value(item: Any) -> dict[str, Any]:
        if isinstance(item, bool):
            return {"boolValue": item}
        if isinstance(item, int):
            return {"intValue": str(item)}
        if isinstance(item, float):
            return {"doubleValue": item}
        return {"stringValue": str(item)}

    attributes = {
        "cs.event.id": "0" * 31 + "1",
        "cs.event.name": event_name,
        "cs.schema.name": event_name,
        "cs.schema.version": version,
    }
    record = {
        "timeUnixNano": "1764000000000000000",
        "eventName": event_name,
        "severityNumber": 9,
        "attributes": [{"key": k, "value": value(v)} for k, v in attributes.items()],
        "body": {
            "kvlistValue": {"values": [{"key": k, "value": value(v)} for k, v in body.items()]}
        },
    }
    resource = {"attributes": [{"key": "service.name", "value": {"stringValue": "rogue"}}]}
    return {
        "resourceLogs": [
            {
                "resource": resource,
                "scopeLogs": [{"scope": {"name": "hand"}, "logRecords": [record]}],
            }
        ]
    }


def test_both_services_events_arrive_and_validate(
    example: dict[str, ModuleType], validator: SchemaValidator
) -> None:
    with LocalCollector(schemas=validator) as collector:
        example["web_app"].main(collector.endpoint)
        example["billing_worker"].main(collector.endpoint)
        assert collector.wait_for(8, timeout=5)
        records = collector.records

    assert Counter((r.service_name, r.event_name) for r in records) == {
        ("web", "cs.milestone"): 2,
        ("web", "report.exported"): 2,
        ("billing", "cs.outcome"): 2,
        ("billing", "subscription.renewed"): 2,
    }
    exported = [r for r in records if r.event_name == "report.exported"]
    assert {(r.user_id, r.account_id) for r in exported} == {("u1", "acme"), ("u2", "globex")}
    assert {r.body["format"] for r in exported} == {"pdf", "csv"}
    renewed = [r for r in records if r.event_name == "subscription.renewed"]
    assert {(r.account_id, r.body["currency"], r.body["seats"]) for r in renewed} == {
        ("acme", "USD", 40),
        ("globex", "EUR", 15),
    }

    tallies = {key: (t.arrived, t.violated) for key, t in validator.tallies.items()}
    assert tallies == {
        ("cs.milestone", "1.0.0"): (2, 0),
        ("cs.outcome", "1.0.0"): (2, 0),
        ("report.exported", "1.0.0"): (2, 0),
        ("subscription.renewed", "1.0.0"): (2, 0),
    }


def test_a_violating_payload_is_counted_with_its_reason_and_kept(
    validator: SchemaValidator,
) -> None:
    with LocalCollector(schemas=validator) as collector:
        response = httpx.post(
            f"{collector.endpoint}/v1/logs",
            json=_otlp_json("report.exported", "1.0.0", {"format": "pdf", "pages": "three"}),
        )
        assert response.status_code == 200
        assert collector.wait_for(1, timeout=5)
        (record,) = collector.records  # not dropped

    assert record.event_name == "report.exported"
    assert record.body == {"format": "pdf", "pages": "three"}
    tally = validator.tallies[("report.exported", "1.0.0")]
    assert (tally.arrived, tally.violated) == (1, 1)
    (reason,) = tally.reasons
    assert reason.startswith("pages: ")
    assert "'three' is not of type 'integer'" in reason
    report = validator.report()
    assert "report.exported" in report
    assert "pages: " in report


def test_several_violations_of_one_event_are_all_named(validator: SchemaValidator) -> None:
    problems = validator.observe(
        "subscription.renewed",
        "1.0.0",
        {},
        {"amount": -5.0, "currency": "JPY", "seats": 0, "coupon": "x"},
    )
    fields = sorted(problem.split(":", 1)[0] for problem in problems)
    assert fields == ["(event)", "amount", "currency", "seats"]  # (event): extra 'coupon'


def test_the_shared_events_are_strict_and_frozen(example: dict[str, ModuleType]) -> None:
    acme = example["acme_events"]
    with pytest.raises(ValidationError):
        acme.ReportExported(format="pdf", pages="3")  # no "3" -> 3 coercion
    with pytest.raises(ValidationError):
        acme.SubscriptionRenewed(amount=10.0, currency="JPY", seats=1)
    event = acme.ReportExported(format="pdf", pages=3)
    with pytest.raises(ValidationError):
        event.pages = 4  # type: ignore[misc]


def test_run_demo_reports_no_violation(
    example: dict[str, ModuleType], capsys: pytest.CaptureFixture[str]
) -> None:
    assert example["run_demo"].main() == 0
    out = capsys.readouterr().out
    assert "received 8 events" in out
    for name in ("cs.milestone", "cs.outcome", "report.exported", "subscription.renewed"):
        assert name in out


def test_a_double_for_an_integer_field_is_a_violation(validator: SchemaValidator) -> None:
    """seats is an int: a Python sender sends intValue 40; a doubleValue 40.0 is a float."""
    with LocalCollector(schemas=validator) as collector:
        request = _otlp_json(
            "subscription.renewed",
            "1.0.0",
            {"amount": 12000.0, "currency": "USD", "seats": 40.0},
        )
        assert httpx.post(f"{collector.endpoint}/v1/logs", json=request).status_code == 200
        assert collector.wait_for(1, timeout=5)
        (record,) = collector.records
    assert record.body["seats"] == 40.0 and isinstance(record.body["seats"], float)
    assert validator.tallies[("subscription.renewed", "1.0.0")].reasons == {
        "seats: 40.0 is not of type 'integer'": 1
    }


@pytest.mark.parametrize("name", ["ReportExported", "SubscriptionRenewed"])
def test_python_and_the_exported_schema_agree_on_the_shared_events(
    example: dict[str, ModuleType], name: str
) -> None:
    cls = getattr(example["acme_events"], name)
    schema = event_json_schema(cls)
    validator = strict_validator(schema)
    verdicts: Counter[bool] = Counter()

    @settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(document=documents(schema))
    def agree(document: dict[str, Any]) -> None:
        try:
            cls.model_validate_json(json.dumps(document))
            accepted = True
        except ValidationError:
            accepted = False
        assert accepted == validator.is_valid(document), document
        verdicts[accepted] += 1

    agree()
    assert verdicts[True] and verdicts[False], verdicts
    jsonschema.Draft202012Validator.check_schema(schema)
