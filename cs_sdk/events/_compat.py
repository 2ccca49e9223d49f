"""Compatibility of two schema exports: what changed, and whether it breaks senders or readers.

    report = check_dirs("schemas-main", "schemas")   # cs-sdk schemas check schemas-main schemas
    report.ok, report.summary()

The rules (see docs/schemas.md, whose tables list exactly the names in :data:`RULES`): a
breaking change needs a new major version. Versions are paired here (a new version with the
same one, or else the highest older one, of the old export); the two schemas of a pair are
compared field by field in :mod:`._compare`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ._compare import RULES, Finding, compare_schemas
from ._jsonschema import load_schema_dir

__all__ = ["RULES", "Change", "CompatReport", "Finding", "check", "check_dirs", "compare_schemas"]


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
        where = self.field if self.field.startswith("[") else f".{self.field}"
        detail = f" ({self.detail})" if self.detail else ""
        return f"{self.event}{where if self.field else ''} [{versions}]: {self.rule}{detail}"


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


def _event_change(name: str, old: str | None, new: str | None, rule: str) -> Change:
    return Change(name, old, new, "", rule, RULES[rule])


def check(
    old: dict[tuple[str, str], dict[str, Any]], new: dict[tuple[str, str], dict[str, Any]]
) -> CompatReport:
    """Compare two sets of schemas keyed by ``(name, version)``."""
    report = CompatReport()
    old_names = {name for name, _ in old}
    new_names = {name for name, _ in new}
    for name in sorted(old_names - new_names):
        for _, version in sorted(k for k in old if k[0] == name):
            report.failures.append(_event_change(name, version, None, "event removed"))
    for name in sorted(new_names - old_names):
        for _, version in sorted(k for k in new if k[0] == name):
            report.additive.append(_event_change(name, None, version, "new event"))
    for name in sorted(old_names & new_names):
        old_versions = sorted((v for n, v in old if n == name), key=_version)
        new_versions = sorted((v for n, v in new if n == name), key=_version)
        for version in old_versions:
            if version not in new_versions:
                report.failures.append(_event_change(name, version, None, "version removed"))
        for version in new_versions:
            base = _base_version(version, old_versions)
            if base is None:
                report.additive.append(_event_change(name, None, version, "new version"))
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
        in_place = "<rule> without a version bump"
        for change in changes:
            # Any change to a published version misleads whoever pinned it.
            report.failures.append(
                Change(
                    name,
                    base,
                    version,
                    change.field,
                    in_place.replace("<rule>", change.rule),
                    RULES[in_place],
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
