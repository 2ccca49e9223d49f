"""JSON Schema (draft 2020-12) export of event schemas, stable enough to diff in review.

    cs-sdk schemas export myapp.events billing.events --out schemas/

writes ``schemas/<event name>/<version>.schema.json`` for every event declared in the modules
(and their submodules) and for the SDK's built-in events (``cs.milestone``, ...), plus
``schemas/index.json``. Keys are sorted and the output ends with a newline, so an unchanged
schema produces an unchanged file.
"""

from __future__ import annotations

import importlib
import json
import pkgutil
import sys
from collections.abc import Iterable
from pathlib import Path
from types import ModuleType
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


BUILTIN_MODULE = "cs_sdk.events"


def _import(name: str) -> ModuleType:
    try:
        return importlib.import_module(name)
    except Exception as error:  # a broken module raises anything: SyntaxError, NameError, ...
        raise SchemaError(f"cannot import {name!r}: {type(error).__name__}: {error}") from error


def _walk_error(name: str) -> None:
    # walk_packages calls this inside its ``except``; without it, it skips broken packages.
    error = sys.exc_info()[1]
    raise SchemaError(f"cannot import {name!r}: {type(error).__name__}: {error}") from error


def classes_in_module(module_name: str) -> list[type[Event]]:
    """Every declared event of ``module_name`` and, for a package, of its submodules.

    Raises:
        SchemaError: the module or one of its submodules cannot be imported (the message
            names the one that failed).
    """
    module = _import(module_name)
    if hasattr(module, "__path__"):
        for info in pkgutil.walk_packages(
            module.__path__, prefix=module_name + ".", onerror=_walk_error
        ):
            _import(info.name)
    prefix = module_name + "."
    return [
        cls
        for cls in registry
        if cls.__module__ == module_name or cls.__module__.startswith(prefix)
    ]


def classes_in_modules(modules: Iterable[str], *, builtins: bool = True) -> list[type[Event]]:
    """The events of every module (each must declare one), and the built-in events.

    Raises:
        SchemaError: a module cannot be imported or declares no event.
    """
    found: dict[type[Event], None] = {}  # ordered and without duplicates
    for module_name in modules:
        classes = classes_in_module(module_name)
        if not classes:
            raise SchemaError(f"no cs_sdk.Event declared in {module_name!r}")
        found.update(dict.fromkeys(classes))
    if builtins:
        found.update(dict.fromkeys(classes_in_module(BUILTIN_MODULE)))
    return list(found)


def export_modules(
    modules: Iterable[str], out_dir: str | Path, *, builtins: bool = True
) -> list[Path]:
    """Export the events of ``modules`` (and the built-in events) to ``out_dir``.

    The Python form of ``cs-sdk schemas export MODULE [MODULE ...] --out DIR``::

        from cs_sdk.events import export_modules

        export_modules(["acme_events"], "schemas")

    Returns the files written, the index last.

    Raises:
        SchemaError: a module cannot be imported or declares no event.
    """
    return export_schemas(classes_in_modules(modules, builtins=builtins), out_dir)


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
    """Read an export back: ``{(name, version): schema}``.

    Raises:
        SchemaError: ``directory`` is not an export (no readable index, an entry without
            name, version or file, a schema file missing or not a JSON object).
    """
    root = Path(directory)
    index_path = root / INDEX_FILE
    if not root.is_dir():
        raise SchemaError(f"{root}: not a cs-sdk schema export (no such directory)")
    try:
        index = json.loads(index_path.read_text(encoding="utf-8"))
        entries = index["schemas"]
        keys = [(str(e["name"]), str(e["version"]), root / str(e["file"])) for e in entries]
    except (OSError, ValueError, KeyError, TypeError) as error:
        why = f"{type(error).__name__}: {error}"
        raise SchemaError(f"{index_path}: not a cs-sdk schema export ({why})") from error
    schemas: dict[tuple[str, str], dict[str, Any]] = {}
    for name, version, path in keys:
        try:
            schema = json.loads(path.read_text("utf-8"))
        except (OSError, ValueError) as error:
            raise SchemaError(f"{path}: cannot read schema ({error})") from error
        if not isinstance(schema, dict):
            raise SchemaError(f"{path}: not a JSON Schema (a JSON object)")
        schemas[(name, version)] = schema
    return schemas


def _version_key(cls: type[Event]) -> tuple[int, ...]:
    return tuple(int(part) for part in cls.__cs_schema__.version.split("."))
