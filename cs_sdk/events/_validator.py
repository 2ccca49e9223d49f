"""Receiving-side validation: check arrived events against an exported schema directory.

    validator = SchemaValidator("schemas/")        # an export of `cs-sdk schemas export`
    with LocalCollector(schemas=validator) as collector:
        ...
    print(validator.report())

Like Segment Protocols' violations, nothing is dropped: each event is counted per name and
version as valid or violating, with the reasons. Used by ``cs-sdk collector --schemas DIR``.
Needs the ``jsonschema`` package (``pip install 'cs-sdk[schemas]'``).

Numbers are checked as the Python models check them, not as JSON Schema's data model does:
an OTLP ``intValue`` is an integer, a ``doubleValue`` is a float even when it is ``3.0`` (the
sender sent a float; a strict ``int`` field refuses it), and NaN and infinities, which JSON
cannot carry, are not numbers.
"""

from __future__ import annotations

import math
import threading
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .._errors import SchemaError
from ._builtin import wire_document
from ._jsonschema import load_schema_dir

UNKNOWN_SCHEMA = "no schema for this event name and version"


@dataclass
class EventTally:
    """What arrived for one event name and version."""

    arrived: int = 0
    violated: int = 0
    reasons: Counter[str] = field(default_factory=Counter)


def _jsonschema() -> Any:
    try:
        import jsonschema
    except ImportError as error:
        raise SchemaError(
            "schema validation needs the jsonschema package: pip install 'cs-sdk[schemas]'"
        ) from error
    return jsonschema


def _is_integer(checker: Any, instance: Any) -> bool:
    return isinstance(instance, int) and not isinstance(instance, bool)


def _is_number(checker: Any, instance: Any) -> bool:
    if isinstance(instance, float):
        return math.isfinite(instance)
    return _is_integer(checker, instance)


def strict_validator(schema: dict[str, Any]) -> Any:
    """A ``jsonschema`` validator for ``schema`` whose ``integer`` and ``number`` are Python's.

    ``integer`` accepts ``int`` only (JSON Schema also counts ``5.0``); ``number`` accepts
    ``int`` and finite ``float``. What it accepts is then what the strict pydantic model
    accepts, for documents of JSON values (see docs/schemas.md for the two exceptions).

    Raises:
        SchemaError: jsonschema is not installed, or ``schema`` is not a valid JSON Schema.
    """
    jsonschema = _jsonschema()
    base = jsonschema.validators.validator_for(schema)
    try:
        base.check_schema(schema)
    except jsonschema.exceptions.SchemaError as error:
        raise SchemaError(f"not a valid JSON Schema: {error.message}") from error
    checker = base.TYPE_CHECKER.redefine_many({"integer": _is_integer, "number": _is_number})
    return jsonschema.validators.extend(base, type_checker=checker)(schema)


class SchemaValidator:
    """Validates event documents against the schemas of one export directory. Thread-safe.

    Raises:
        SchemaError: jsonschema is not installed, ``directory`` is not an export, or one of
            its files is not a valid JSON Schema.
    """

    def __init__(self, directory: str | Path) -> None:
        _jsonschema()  # before reading the directory: the install hint matters most
        self._validators: dict[tuple[str, str], Any] = {}
        for (name, version), schema in load_schema_dir(directory).items():
            try:
                self._validators[(name, version)] = strict_validator(schema)
            except SchemaError as error:
                raise SchemaError(f"{directory}: {name} {version}: {error}") from error
        self._lock = threading.Lock()
        self.tallies: dict[tuple[str, str], EventTally] = {}

    def violations(
        self, event_name: str, version: str, attributes: dict[str, Any], body: Any
    ) -> list[str]:
        """Why this event breaks its schema (empty when it conforms)."""
        validator = self._validators.get((event_name, version))
        if validator is None:
            return [UNKNOWN_SCHEMA]
        document = wire_document(event_name, version, attributes, body)
        errors = sorted(validator.iter_errors(document), key=lambda error: list(error.path))
        return [_describe(error) for error in errors]

    def observe(
        self, event_name: str, version: str, attributes: dict[str, Any], body: Any
    ) -> list[str]:
        """Validate and count one arrived event; returns its violations."""
        problems = self.violations(event_name, version, attributes, body)
        with self._lock:
            tally = self.tallies.setdefault((event_name, version), EventTally())
            tally.arrived += 1
            if problems:
                tally.violated += 1
                tally.reasons.update(problems)
        return problems

    def report(self) -> str:
        """A table of arrivals and violations per event name and version."""
        with self._lock:
            rows = sorted(self.tallies.items())
        if not rows:
            return "no events validated"
        lines = [f"{'event':<32} {'version':<9} {'arrived':>8} {'violated':>9}  top reasons"]
        for (name, version), tally in rows:
            reasons = "; ".join(f"{reason} (x{n})" for reason, n in tally.reasons.most_common(3))
            lines.append(
                f"{name:<32} {version:<9} {tally.arrived:>8} {tally.violated:>9}  {reasons}"
            )
        return "\n".join(lines)


def _describe(error: Any) -> str:
    where = ".".join(str(part) for part in error.absolute_path) or "(event)"
    return f"{where}: {error.message}"
