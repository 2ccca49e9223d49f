"""JSON Schema (draft 2020-12) export of event schemas, stable enough to diff in review.

    cs-sdk schemas export myapp.events --out schemas/

writes ``schemas/<event name>/<version>.schema.json`` for every event declared in the module
(and its submodules) plus ``schemas/index.json``. Keys are sorted and the output ends with a
newline, so an unchanged schema produces an unchanged file.
"""

from __future__ import annotations

import importlib
import json
import pkgutil
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from .._errors import SchemaError
from ._base import Event, registry

DRAFT = "https://json-schema.org/draft/2020-12/schema"
INDEX_FILE = "index.json"


def schema_id(name: str, version: str) -> str:
    return f"urn:cs-sdk:event:{name}:{version}"


def event_json_schema(cls: type[Event]) -> dict[str, Any]:
    """The JSON Schema of one declared event class, with its name and version recorded."""
    ref = cls.__cs_schema__
    schema = cls.model_json_schema(mode="validation")
    schema["$schema"] = DRAFT
    schema["$id"] = schema_id(ref.name, ref.version)
    schema["x-cs-event"] = {"name": ref.name, "version": ref.version}
    return schema


def dumps(schema: dict[str, Any]) -> str:
    """Deterministic JSON text: sorted keys, two-space indent, trailing newline."""
    return json.dumps(schema, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def classes_in_module(module_name: str) -> list[type[Event]]:
    """Every declared event of ``module_name`` and, for a package, of its submodules."""
    try:
        module = importlib.import_module(module_name)
    except ImportError as error:
        raise SchemaError(f"cannot import {module_name!r}: {error}") from error
    if hasattr(module, "__path__"):
        for info in pkgutil.walk_packages(module.__path__, prefix=module_name + "."):
            importlib.import_module(info.name)
    prefix = module_name + "."
    return [
        cls
        for cls in registry
        if cls.__module__ == module_name or cls.__module__.startswith(prefix)
    ]


def export_schemas(classes: Iterable[type[Event]], out_dir: str | Path) -> list[Path]:
    """Write one schema file per event name and version, and the index. Returns the files."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    index: list[dict[str, str]] = []
    ordered = sorted(classes, key=lambda c: (c.__cs_schema__.name, _version_key(c)))
    for cls in ordered:
        ref = cls.__cs_schema__
        relative = Path(ref.name) / f"{ref.version}.schema.json"
        path = out / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(dumps(event_json_schema(cls)), encoding="utf-8")
        written.append(path)
        index.append(
            {
                "name": ref.name,
                "version": ref.version,
                "file": relative.as_posix(),
                "class": f"{cls.__module__}.{cls.__qualname__}",
            }
        )
    index_path = out / INDEX_FILE
    index_path.write_text(dumps({"schemas": index}), encoding="utf-8")
    written.append(index_path)
    return written


def load_schema_dir(directory: str | Path) -> dict[tuple[str, str], dict[str, Any]]:
    """Read an export back: ``{(name, version): schema}``."""
    root = Path(directory)
    index_path = root / INDEX_FILE
    try:
        index = json.loads(index_path.read_text(encoding="utf-8"))
        entries = index["schemas"]
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise SchemaError(f"{index_path}: not a cs-sdk schema export ({error})") from error
    schemas: dict[tuple[str, str], dict[str, Any]] = {}
    for entry in entries:
        path = root / entry["file"]
        try:
            schemas[(entry["name"], entry["version"])] = json.loads(path.read_text("utf-8"))
        except (OSError, ValueError) as error:
            raise SchemaError(f"{path}: cannot read schema ({error})") from error
    return schemas


def _version_key(cls: type[Event]) -> tuple[int, ...]:
    return tuple(int(part) for part in cls.__cs_schema__.version.split("."))
