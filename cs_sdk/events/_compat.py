"""Compatibility of two schema exports: what changed, and whether it breaks senders or readers.

The rules (see docs/schemas.md): a breaking change needs a new major version. Breaking are
removing a field, renaming it, changing or narrowing its type (an enum losing a value, a
tighter bound, a new pattern), making an optional field required, adding a required field,
and forbidding extra properties. Adding an optional field, widening a type, loosening a bound
and making a required field optional are additive (a minor version).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ._jsonschema import load_schema_dir

_LOWER_BOUNDS = ("minimum", "exclusiveMinimum", "minLength", "minItems", "minProperties")
_UPPER_BOUNDS = ("maximum", "exclusiveMaximum", "maxLength", "maxItems", "maxProperties")
_IGNORED = frozenset(("title", "description", "default", "examples", "$defs", "$schema", "$id"))


@dataclass(frozen=True, slots=True)
class Change:
    """One difference between an old and a new version of an event schema."""

    event: str
    old_version: str | None
    new_version: str | None
    field: str
    rule: str
    breaking: bool
    detail: str = ""

    def __str__(self) -> str:
        versions = f"{self.old_version or '-'} -> {self.new_version or '-'}"
        where = f".{self.field}" if self.field else ""
        detail = f" ({self.detail})" if self.detail else ""
        return f"{self.event}{where} [{versions}]: {self.rule}{detail}"


@dataclass
class CompatReport:
    """Every change found; ``failures`` are the breaking ones not covered by a major bump."""

    failures: list[Change] = field(default_factory=list)
    allowed_breaking: list[Change] = field(default_factory=list)
    additive: list[Change] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.failures

    def summary(self) -> str:
        lines: list[str] = []
        if self.failures:
            lines.append(f"{len(self.failures)} breaking change(s) without a major version bump:")
            lines += [f"  BREAKING {change}" for change in self.failures]
        if self.allowed_breaking:
            lines.append(
                f"{len(self.allowed_breaking)} breaking change(s) under a new major version:"
            )
            lines += [f"  major    {change}" for change in self.allowed_breaking]
        if self.additive:
            lines.append(f"{len(self.additive)} additive change(s):")
            lines += [f"  additive {change}" for change in self.additive]
        if not lines:
            lines.append("no changes")
        return "\n".join(lines)


def _version(text: str) -> tuple[int, int, int]:
    major, minor, patch = (int(part) for part in text.split("."))
    return major, minor, patch


def check_dirs(old_dir: str | Path, new_dir: str | Path) -> CompatReport:
    """Compare two ``cs-sdk schemas export`` directories."""
    return check(load_schema_dir(old_dir), load_schema_dir(new_dir))


def check(
    old: dict[tuple[str, str], dict[str, Any]], new: dict[tuple[str, str], dict[str, Any]]
) -> CompatReport:
    """Compare two sets of schemas keyed by ``(name, version)``."""
    report = CompatReport()
    old_names = {name for name, _ in old}
    new_names = {name for name, _ in new}
    for name in sorted(old_names - new_names):
        for _, version in sorted(k for k in old if k[0] == name):
            report.failures.append(Change(name, version, None, "", "event removed", True))
    for name in sorted(new_names - old_names):
        for _, version in sorted(k for k in new if k[0] == name):
            report.additive.append(Change(name, None, version, "", "new event", False))
    for name in sorted(old_names & new_names):
        old_versions = sorted((v for n, v in old if n == name), key=_version)
        new_versions = sorted((v for n, v in new if n == name), key=_version)
        for version in old_versions:
            if version not in new_versions:
                report.failures.append(Change(name, version, None, "", "version removed", True))
        for version in new_versions:
            base = _base_version(version, old_versions)
            if base is None:
                report.additive.append(Change(name, None, version, "", "new version", False))
                continue
            _judge(report, name, base, version, old[(name, base)], new[(name, version)])
    return report


def _base_version(version: str, old_versions: list[str]) -> str | None:
    if version in old_versions:
        return version
    earlier = [v for v in old_versions if _version(v) < _version(version)]
    return earlier[-1] if earlier else None


def _judge(
    report: CompatReport,
    name: str,
    base: str,
    version: str,
    old_schema: dict[str, Any],
    new_schema: dict[str, Any],
) -> None:
    changes = [
        Change(name, base, version, path, rule, breaking, detail)
        for path, rule, breaking, detail in compare_schemas(old_schema, new_schema)
    ]
    if base == version:
        for change in changes:
            # Any change to a published version misleads whoever pinned it.
            report.failures.append(
                Change(
                    name,
                    base,
                    version,
                    change.field,
                    f"{change.rule} without a version bump",
                    True,
                    change.detail,
                )
            )
        return
    major_bumped = _version(version)[0] > _version(base)[0]
    for change in changes:
        if not change.breaking:
            report.additive.append(change)
        elif major_bumped:
            report.allowed_breaking.append(change)
        else:
            report.failures.append(change)


Finding = tuple[str, str, bool, str]  # (field path, rule, breaking, detail)


def compare_schemas(old: dict[str, Any], new: dict[str, Any]) -> list[Finding]:
    """Field-level differences between two JSON Schemas of one event."""
    return _Comparison(old, new).node(old, new, "")


class _Comparison:
    def __init__(self, old_root: dict[str, Any], new_root: dict[str, Any]) -> None:
        self.old_root = old_root
        self.new_root = new_root
        self._seen: set[tuple[int, int]] = set()

    @staticmethod
    def _resolve(schema: Any, root: dict[str, Any]) -> dict[str, Any]:
        hops = 0
        while isinstance(schema, dict) and "$ref" in schema and hops < 32:
            target: Any = root
            for part in schema["$ref"].lstrip("#/").split("/"):
                target = target.get(part, {}) if isinstance(target, dict) else {}
            schema = {**target, **{k: v for k, v in schema.items() if k != "$ref"}}
            hops += 1
        return schema if isinstance(schema, dict) else {}

    def _normal(self, schema: Any, root: dict[str, Any]) -> tuple[dict[str, Any], set[str], bool]:
        """(the non-null branch, its types, whether null is accepted)."""
        schema = self._resolve(schema, root)
        branches = schema.get("anyOf") or schema.get("oneOf")
        if branches:
            resolved = [self._resolve(branch, root) for branch in branches]
            nullable = any(branch.get("type") == "null" for branch in resolved)
            others = [branch for branch in resolved if branch.get("type") != "null"]
            if len(others) == 1:
                merged = {
                    **{k: v for k, v in schema.items() if k not in ("anyOf", "oneOf")},
                    **others[0],
                }
                return merged, _types(merged), nullable
            types: set[str] = set()
            for branch in others:
                types |= _types(branch) or {"any"}
            return schema, types, nullable
        types = _types(schema)
        return schema, types - {"null"}, "null" in types

    def node(self, old: Any, new: Any, path: str) -> list[Finding]:
        key = (id(old), id(new))
        if key in self._seen:  # recursive models
            return []
        self._seen.add(key)
        old_s, old_types, old_null = self._normal(old, self.old_root)
        new_s, new_types, new_null = self._normal(new, self.new_root)
        found: list[Finding] = []
        if old_types and new_types and old_types != new_types:
            lost = old_types - new_types
            if "integer" in lost and "number" in new_types:
                lost.discard("integer")  # integer -> number widens
            if lost:
                found.append(
                    (path, "type changed", True, f"{_fmt(old_types)} -> {_fmt(new_types)}")
                )
            else:
                found.append(
                    (path, "type widened", False, f"{_fmt(old_types)} -> {_fmt(new_types)}")
                )
        elif new_types and not old_types:
            found.append((path, "type narrowed", True, f"any -> {_fmt(new_types)}"))
        if old_null and not new_null:
            found.append((path, "null no longer accepted", True, ""))
        elif new_null and not old_null:
            found.append((path, "null now accepted", False, ""))
        found += self._enum(old_s, new_s, path)
        found += self._bounds(old_s, new_s, path)
        found += self._object(old_s, new_s, path)
        if "items" in old_s or "items" in new_s:
            found += self.node(old_s.get("items", {}), new_s.get("items", {}), f"{path}[]")
        return found

    @staticmethod
    def _enum(old: dict[str, Any], new: dict[str, Any], path: str) -> list[Finding]:
        old_values = _allowed_values(old)
        new_values = _allowed_values(new)
        if old_values is None and new_values is None:
            return []
        if new_values is None:
            return [(path, "enum removed (any value accepted)", False, "")]
        if old_values is None:
            return [(path, "enum added (narrowed)", True, f"only {sorted(new_values)}")]
        found: list[Finding] = []
        if old_values - new_values:
            found.append(
                (path, "enum value removed", True, ", ".join(sorted(old_values - new_values)))
            )
        if new_values - old_values:
            found.append(
                (path, "enum value added", False, ", ".join(sorted(new_values - old_values)))
            )
        return found

    @staticmethod
    def _bounds(old: dict[str, Any], new: dict[str, Any], path: str) -> list[Finding]:
        found: list[Finding] = []
        for key in _LOWER_BOUNDS:
            a, b = old.get(key), new.get(key)
            if b is not None and (a is None or b > a):
                found.append((path, f"tighter bound: {key}", True, f"{a} -> {b}"))
            elif a is not None and (b is None or b < a):
                found.append((path, f"looser bound: {key}", False, f"{a} -> {b}"))
        for key in _UPPER_BOUNDS:
            a, b = old.get(key), new.get(key)
            if b is not None and (a is None or b < a):
                found.append((path, f"tighter bound: {key}", True, f"{a} -> {b}"))
            elif a is not None and (b is None or b > a):
                found.append((path, f"looser bound: {key}", False, f"{a} -> {b}"))
        for key in ("pattern", "format"):
            a, b = old.get(key), new.get(key)
            if b is not None and a != b:
                found.append((path, f"{key} changed", True, f"{a!r} -> {b!r}"))
            elif a is not None and b is None:
                found.append((path, f"{key} removed", False, repr(a)))
        return found

    def _object(self, old: dict[str, Any], new: dict[str, Any], path: str) -> list[Finding]:
        old_props: dict[str, Any] = old.get("properties") or {}
        new_props: dict[str, Any] = new.get("properties") or {}
        if not old_props and not new_props:
            return []
        old_required = set(old.get("required") or ())
        new_required = set(new.get("required") or ())
        prefix = f"{path}." if path else ""
        found: list[Finding] = []
        removed = [name for name in old_props if name not in new_props]
        added = [name for name in new_props if name not in old_props]
        for old_name in list(removed):
            twin = next((a for a in added if self._same(old_props[old_name], new_props[a])), None)
            if twin is not None:
                found.append((f"{prefix}{old_name}", "field renamed", True, f"now {twin!r}"))
                removed.remove(old_name)
                added.remove(twin)
        found += [(f"{prefix}{name}", "field removed", True, "") for name in removed]
        for name in added:
            if name in new_required:
                found.append((f"{prefix}{name}", "required field added", True, ""))
            else:
                found.append((f"{prefix}{name}", "optional field added", False, ""))
        for name in old_props:
            if name not in new_props:
                continue
            if name in new_required and name not in old_required:
                found.append((f"{prefix}{name}", "optional field made required", True, ""))
            elif name in old_required and name not in new_required:
                found.append((f"{prefix}{name}", "required field made optional", False, ""))
            found += self.node(old_props[name], new_props[name], f"{prefix}{name}")
        if (
            old.get("additionalProperties", True) is not False
            and new.get("additionalProperties") is False
        ):
            found.append((path, "additional properties no longer allowed", True, ""))
        return found

    def _same(self, old: Any, new: Any) -> bool:
        old_shape = _strip(self._resolve(old, self.old_root))
        return bool(old_shape == _strip(self._resolve(new, self.new_root)))


def _types(schema: dict[str, Any]) -> set[str]:
    kind = schema.get("type")
    if isinstance(kind, str):
        return {kind}
    if isinstance(kind, list):
        return {str(k) for k in kind}
    return set()


def _allowed_values(schema: dict[str, Any]) -> set[str] | None:
    if "enum" in schema:
        return {json.dumps(value, sort_keys=True) for value in schema["enum"]}
    if "const" in schema:
        return {json.dumps(schema["const"], sort_keys=True)}
    return None


def _strip(schema: Any) -> Any:
    if isinstance(schema, dict):
        return {k: _strip(v) for k, v in schema.items() if k not in _IGNORED}
    if isinstance(schema, list):
        return [_strip(item) for item in schema]
    return schema


def _fmt(types: set[str]) -> str:
    return "|".join(sorted(types))
