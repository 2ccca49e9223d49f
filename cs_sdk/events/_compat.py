"""Compatibility of two schema exports: what changed, and whether it breaks senders or readers.

    report = check_dirs("schemas-main", "schemas")   # cs-sdk schemas check schemas-main schemas
    report.ok, report.summary()

The rules (see docs/schemas.md, whose tables list exactly the names in :data:`RULES`): a
breaking change needs a new major version. Versions are paired here (a new version with the
same one, or else the highest older one, of the old export); the two schemas of a pair are
compared field by field in :mod:`._compare`.

A version left out of the new export is judged as semver users expect (and as Buf and the
Confluent registry do): superseded, not breaking, when a later version of the same major is
declared that accepts every document it did (1.0.0 replaced in place by a 1.1.0 that only
adds optional fields); removed, breaking, when no such version is (the last 1.x gone, or its
successor refusing some of its documents). A failure says how to fix it (:func:`fix_for`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ._compare import RULES, Finding, compare_schemas
from ._jsonschema import load_schema_dir

__all__ = [
    "RULES",
    "Change",
    "CompatReport",
    "Finding",
    "check",
    "check_dirs",
    "compare_schemas",
    "fix_for",
]


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
            fixes = dict.fromkeys(fix_for(change) for change in self.failures)  # in order, once
            lines.append("how to fix:")
            lines += [f"  - {fix}" for fix in fixes]
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
                _judge_missing(report, name, version, old, new, new_versions)
        for version in new_versions:
            base = _base_version(version, old_versions)
            if base is None:
                report.additive.append(_event_change(name, None, version, "new version"))
                continue
            _judge(report, name, base, version, old[(name, base)], new[(name, version)])
    return report


def _judge_missing(
    report: CompatReport,
    name: str,
    version: str,
    old: dict[tuple[str, str], dict[str, Any]],
    new: dict[tuple[str, str], dict[str, Any]],
    new_versions: list[str],
) -> None:
    """A version of the old export that the new one no longer declares."""
    major = _version(version)[0]
    later = [v for v in new_versions if _version(v)[0] == major and _version(v) > _version(version)]
    for successor in later:  # the lowest compatible one supersedes it
        findings = compare_schemas(old[(name, version)], new[(name, successor)])
        if not any(breaking for _path, _rule, breaking, _detail in findings):
            report.additive.append(
                Change(name, version, successor, "", "version superseded", False)
            )
            return
    detail = (
        f"{', '.join(later)} refuse(s) some of its documents"
        if later
        else f"no later {major}.x version is declared"
    )
    report.failures.append(Change(name, version, None, "", "version removed", True, detail))


def fix_for(change: Change) -> str:
    """How to resolve a breaking change, in one sentence (printed under the failures)."""
    old = change.old_version
    if change.rule == "event removed":
        return (
            f"keep {change.event} {old} declared: deployed services still send it "
            "(an event is retired by no longer recording it, not by deleting its class)"
        )
    major = _version(old)[0] if old else 0
    if change.rule == "version removed":
        return (
            f"keep {change.event} {old} declared next to the new version: deployed services "
            f"still send it; a breaking change goes into {major + 1}.0.0, declared next to {old}"
        )
    if change.old_version == change.new_version:
        return (
            f"restore {change.event} {old} as published and declare the change as a new "
            f"version next to it ({major}.x for an additive change, {major + 1}.0.0 for a "
            "breaking one)"
        )
    return (
        f"declare the new shape of {change.event} as {major + 1}.0.0 next to {old} "
        f"(a breaking change needs a new major version), or keep {change.new_version} "
        f"compatible with {old}"
    )


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
