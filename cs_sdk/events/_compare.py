"""The field-by-field comparison of two JSON Schemas of one event, and the rules it applies.

The rules (see docs/schemas.md, whose tables list exactly the names in :data:`RULES`): a
breaking change needs a new major version. A change is breaking when the new schema refuses
a document the old one accepted: a field removed or renamed, a type changed or narrowed, an
enum losing a value, a tighter bound, a new pattern or ``multipleOf``, an optional field made
required, extra properties forbidden, a new ``allOf``/``if`` constraint. The reverse changes
(the new schema accepts more) are additive, a minor version.

The comparison walks both schemas together: ``$ref`` is followed, object properties,
``additionalProperties`` (dict values, ``counts.*``), ``propertyNames`` (dict keys,
``counts.<keys>``), ``items`` (``tags[]``) and ``prefixItems`` (tuples, ``pair[0]``) are
compared recursively, union branches (``anyOf``/``oneOf``) are paired by ``$ref``, title or
type and compared pairwise, and ``if``/``then`` rules (in ``allOf`` or not) are paired by
their condition (``[if kind="nps"].score``). A keyword the checker does not know is compared
as a whole and, when it differs, reported as breaking: unknown is not safe.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, Final

_LOWER_BOUNDS = ("minimum", "exclusiveMinimum", "minLength", "minItems", "minProperties")
_UPPER_BOUNDS = ("maximum", "exclusiveMaximum", "maxLength", "maxItems", "maxProperties")
# Documentation, identifiers and vendor extensions (x-*): never a change of what validates.
_ANNOTATIONS = frozenset(
    (
        "title",
        "description",
        "default",
        "examples",
        "deprecated",
        "readOnly",
        "writeOnly",
        "$comment",
        "$anchor",
        "$schema",
        "$id",
        "$defs",
        "definitions",
        "discriminator",  # OpenAPI's hint next to oneOf; the branches themselves are compared
    )
)
# Keywords compared by a rule below; any other keyword is compared as a whole.
_HANDLED = frozenset(
    (
        "$ref",
        "type",
        "enum",
        "const",
        "multipleOf",
        "pattern",
        "format",
        "uniqueItems",
        "properties",
        "required",
        "additionalProperties",
        "propertyNames",
        "items",
        "prefixItems",
        "additionalItems",
        "anyOf",
        "oneOf",
        "allOf",
        "if",
        "then",
        "else",
        *_LOWER_BOUNDS,
        *_UPPER_BOUNDS,
    )
)
# Keys whose value maps names (of fields, of definitions) to schemas.
_NAME_MAPS = frozenset(("properties", "$defs", "definitions", "patternProperties"))

RULES: Final[dict[str, bool]] = {
    # breaking (True): the new schema refuses something the old one accepted
    "field removed": True,
    "field renamed": True,
    "type changed": True,
    "type narrowed": True,
    "null no longer accepted": True,
    "enum added (narrowed)": True,
    "enum value removed": True,
    "tighter bound: <keyword>": True,
    "pattern changed": True,
    "format changed": True,
    "multipleOf added": True,
    "multipleOf changed": True,
    "unique items required": True,
    "optional field made required": True,
    "required field added": True,
    "additional properties no longer allowed": True,
    "constraint added": True,
    "keyword changed: <keyword>": True,
    "event removed": True,
    "version removed": True,
    "<rule> without a version bump": True,
    # additive (False): the new schema accepts everything the old one did
    "optional field added": False,
    "enum value added": False,
    "enum removed (any value accepted)": False,
    "looser bound: <keyword>": False,
    "type widened": False,
    "null now accepted": False,
    "pattern removed": False,
    "format removed": False,
    "multipleOf removed": False,
    "multipleOf loosened": False,
    "unique items no longer required": False,
    "required field made optional": False,
    "additional properties now allowed": False,
    "constraint removed": False,
    "new event": False,
    "new version": False,
    "version superseded": False,
}
"""Every rule ``check`` applies, by the name it prints, and whether it is breaking."""


Finding = tuple[str, str, bool, str]  # (field path, rule, breaking, detail)


def _finding(path: str, rule: str, detail: str = "", keyword: str = "") -> Finding:
    """A finding of one of :data:`RULES` (a ``KeyError`` for a rule the docs do not list)."""
    return path, rule.replace("<keyword>", keyword), RULES[rule], detail


def compare_schemas(old: dict[str, Any], new: dict[str, Any]) -> list[Finding]:
    """Field-level differences between two JSON Schemas of one event."""
    return _Comparison(old, new).node(old, new, "")


@dataclass(frozen=True, slots=True)
class _Branch:
    """One alternative of a schema (the whole schema unless it is a union), ``$ref``s followed."""

    schema: dict[str, Any]
    refs: tuple[str, ...] = ()

    @property
    def ref_name(self) -> str:
        return self.refs[-1].rsplit("/", 1)[-1] if self.refs else ""

    @property
    def title(self) -> str:
        title = self.schema.get("title")
        return title if isinstance(title, str) else ""

    @property
    def types(self) -> frozenset[str]:
        return frozenset(_types(self.schema) - {"null"})

    @property
    def label(self) -> str:
        return self.ref_name or self.title or _fmt(set(self.types)) or "any"


class _Comparison:
    def __init__(self, old_root: dict[str, Any], new_root: dict[str, Any]) -> None:
        self.old_root = old_root
        self.new_root = new_root
        # Pairs of $ref chains being compared further up: a recursive model ends here.
        self._active: set[tuple[tuple[str, ...], tuple[str, ...]]] = set()

    # -- resolving ----------------------------------------------------------------------

    def _resolve(self, schema: Any, root: dict[str, Any]) -> _Branch:
        schema = _boolean(schema)
        refs: list[str] = []
        while isinstance(schema.get("$ref"), str) and len(refs) < 32:
            ref = schema["$ref"]
            refs.append(ref)
            rest = {k: v for k, v in schema.items() if k != "$ref"}
            schema = {**_boolean(_pointer(root, ref)), **rest}
        all_of = schema.get("allOf")
        if isinstance(all_of, list) and len(all_of) == 1 and not _is_rule(all_of[0]):
            # allOf of one plain schema is that schema (older pydantic wraps $ref so).
            inner = self._resolve(all_of[0], root)
            rest = {k: v for k, v in schema.items() if k != "allOf"}
            return _Branch({**inner.schema, **rest}, (*refs, *inner.refs))
        return _Branch(schema, tuple(refs))

    def _branches(self, schema: Any, root: dict[str, Any]) -> tuple[list[_Branch], bool]:
        """(the non-null alternatives, whether null is accepted)."""
        resolved = self._resolve(schema, root)
        kind = next((k for k in ("anyOf", "oneOf") if isinstance(resolved.schema.get(k), list)), "")
        if not kind:
            types = _types(resolved.schema)
            nullable = "null" in types or not types  # no type: any type, null too
            return ([] if types == {"null"} else [resolved]), nullable
        # Keywords beside the union apply to every branch (its title is the union's, not theirs).
        siblings = {
            k: v
            for k, v in resolved.schema.items()
            if k != kind and k not in _ANNOTATIONS and not k.startswith("x-")
        }
        branches: list[_Branch] = []
        nullable = False
        for raw in resolved.schema[kind]:
            inner, inner_null = self._branches(raw, root)
            nullable = nullable or inner_null
            branches += [
                _Branch({**siblings, **b.schema}, (*resolved.refs, *b.refs)) for b in inner
            ]
        return branches, nullable

    # -- comparing ----------------------------------------------------------------------

    def node(self, old: Any, new: Any, path: str) -> list[Finding]:
        old_branches, old_null = self._branches(old, self.old_root)
        new_branches, new_null = self._branches(new, self.new_root)
        if (not old_branches and old_null and new_branches and not new_null) or (
            not new_branches and new_null and old_branches and not old_null
        ):  # only null -> never null, or the reverse
            detail = f"{_labels(old_branches)} -> {_labels(new_branches)}"
            return [_finding(path, "type changed", detail)]
        found: list[Finding] = []
        if old_null and not new_null:
            found.append(_finding(path, "null no longer accepted"))
        elif new_null and not old_null:
            found.append(_finding(path, "null now accepted"))
        if len(old_branches) == 1 and len(new_branches) == 1:
            return found + self._pair(old_branches[0], new_branches[0], path)
        return found + self._union(old_branches, new_branches, path)

    def _pair(self, old: _Branch, new: _Branch, path: str) -> list[Finding]:
        key = (old.refs, new.refs)
        if key in self._active:  # a recursive model: already being compared further up
            return []
        if old.refs or new.refs:
            self._active.add(key)
        try:
            o, n = old.schema, new.schema
            return [
                *self._type(o, n, path),
                *self._enum(o, n, path),
                *self._bounds(o, n, path),
                *self._object(o, n, path),
                *self._array(o, n, path),
                *self._rules(o, n, path),
                *self._unknown(o, n, path),
            ]
        finally:
            self._active.discard(key)

    def _union(self, old: list[_Branch], new: list[_Branch], path: str) -> list[Finding]:
        pairs, lost, gained = _match(old, new)
        old_any = any(not b.types for b in old)
        new_any = [b for b in new if not b.types]
        detail = f"{_labels(old)} -> {_labels(new)}"
        found: list[Finding] = []
        if old_any and not new_any and new:
            found.append(_finding(path, "type narrowed", detail))
        elif lost and not new_any:
            found.append(_finding(path, "type changed", detail))
        elif gained and not old_any:
            found.append(_finding(path, "type widened", detail))
        # A branch without a type takes every type, but may still constrain: the lost
        # branches are compared with it (a widened type, and whatever else it demands).
        pairs += [(branch, new_any[0]) for branch in lost if new_any]
        for old_branch, new_branch in pairs:
            found += self._pair(old_branch, new_branch, path)
        return found

    @staticmethod
    def _type(old: dict[str, Any], new: dict[str, Any], path: str) -> list[Finding]:
        old_types = _types(old) - {"null"}
        new_types = _types(new) - {"null"}
        detail = f"{_fmt(old_types) or 'any'} -> {_fmt(new_types) or 'any'}"
        if old_types and new_types and old_types != new_types:
            lost = old_types - new_types
            if "integer" in lost and "number" in new_types:
                lost.discard("integer")  # integer -> number widens
            return [_finding(path, "type changed" if lost else "type widened", detail)]
        if new_types and not old_types:
            return [_finding(path, "type narrowed", detail)]
        if old_types and not new_types:
            return [_finding(path, "type widened", detail)]
        return []

    @staticmethod
    def _enum(old: dict[str, Any], new: dict[str, Any], path: str) -> list[Finding]:
        # A const is an enum of one value: Literal["a"] -> Literal["a", "b"] is a value added.
        old_values = _allowed_values(old)
        new_values = _allowed_values(new)
        if old_values is None and new_values is None:
            return []
        if new_values is None:
            return [_finding(path, "enum removed (any value accepted)")]
        if old_values is None:
            return [
                _finding(path, "enum added (narrowed)", f"only {', '.join(sorted(new_values))}")
            ]
        found: list[Finding] = []
        if old_values - new_values:
            found.append(
                _finding(path, "enum value removed", ", ".join(sorted(old_values - new_values)))
            )
        if new_values - old_values:
            found.append(
                _finding(path, "enum value added", ", ".join(sorted(new_values - old_values)))
            )
        return found

    @staticmethod
    def _bounds(old: dict[str, Any], new: dict[str, Any], path: str) -> list[Finding]:
        found: list[Finding] = []
        for keys, tighter in ((_LOWER_BOUNDS, _gt), (_UPPER_BOUNDS, _lt)):
            for key in keys:
                a, b = old.get(key), new.get(key)
                if a == b:
                    continue
                if b is not None and (a is None or tighter(b, a)):
                    found.append(_finding(path, "tighter bound: <keyword>", f"{a} -> {b}", key))
                else:
                    found.append(_finding(path, "looser bound: <keyword>", f"{a} -> {b}", key))
        for key in ("pattern", "format"):
            a, b = old.get(key), new.get(key)
            if b is not None and a != b:
                found.append(_finding(path, f"{key} changed", f"{a!r} -> {b!r}"))
            elif a is not None and b is None:
                found.append(_finding(path, f"{key} removed", repr(a)))
        a, b = old.get("multipleOf"), new.get("multipleOf")
        if a != b:
            detail = f"{a} -> {b}"
            if b is None:
                found.append(_finding(path, "multipleOf removed", detail))
            elif a is None:
                found.append(_finding(path, "multipleOf added", detail))
            elif _is_multiple(a, of=b):  # every multiple of 4 is one of 2
                found.append(_finding(path, "multipleOf loosened", detail))
            else:
                found.append(_finding(path, "multipleOf changed", detail))
        if bool(new.get("uniqueItems")) and not old.get("uniqueItems"):
            found.append(_finding(path, "unique items required"))  # list -> set
        elif bool(old.get("uniqueItems")) and not new.get("uniqueItems"):
            found.append(_finding(path, "unique items no longer required"))
        return found

    def _object(self, old: dict[str, Any], new: dict[str, Any], path: str) -> list[Finding]:
        old_props: dict[str, Any] = _mapping(old.get("properties"))
        new_props: dict[str, Any] = _mapping(new.get("properties"))
        old_required = set(_names(old.get("required")))
        new_required = set(_names(new.get("required")))
        prefix = f"{path}." if path else ""
        found: list[Finding] = []
        removed = [name for name in old_props if name not in new_props]
        added = [name for name in new_props if name not in old_props]
        for old_name in list(removed):
            twin = next((a for a in added if self._same(old_props[old_name], new_props[a])), None)
            if twin is not None:
                found.append(_finding(f"{prefix}{old_name}", "field renamed", f"now {twin!r}"))
                removed.remove(old_name)
                added.remove(twin)
        found += [_finding(f"{prefix}{name}", "field removed") for name in removed]
        old_extra = old.get("additionalProperties")
        for name in added:
            if name in old_required:  # required before without a schema here (an if/then)
                if name not in new_required:
                    found.append(_finding(f"{prefix}{name}", "required field made optional"))
            elif name in new_required:
                found.append(_finding(f"{prefix}{name}", "required field added"))
            else:
                found.append(_finding(f"{prefix}{name}", "optional field added"))
            if old_extra is not False:
                # The old schema took this name as an extra property, of any value (or of
                # additionalProperties' schema): what the new field refuses of it breaks.
                found += self.node(old_extra, new_props[name], f"{prefix}{name}")
        for name in old_props:
            if name not in new_props:
                continue
            if name in new_required and name not in old_required:
                found.append(_finding(f"{prefix}{name}", "optional field made required"))
            elif name in old_required and name not in new_required:
                found.append(_finding(f"{prefix}{name}", "required field made optional"))
            found += self.node(old_props[name], new_props[name], f"{prefix}{name}")
        # Required names without a property schema here (e.g. in an if/then rule).
        declared = set(old_props) | set(new_props)
        for name in sorted(new_required - old_required - declared):
            found.append(_finding(f"{prefix}{name}", "optional field made required"))
        for name in sorted(old_required - new_required - declared):
            found.append(_finding(f"{prefix}{name}", "required field made optional"))
        new_extra = new.get("additionalProperties")
        if old_extra is not False and new_extra is False:
            found.append(_finding(path, "additional properties no longer allowed"))
        elif old_extra is False and new_extra is not False:
            found.append(_finding(path, "additional properties now allowed"))
        elif isinstance(old_extra, dict) or isinstance(new_extra, dict):
            found += self.node(old_extra, new_extra, f"{prefix}*")  # dict values
        if "propertyNames" in old or "propertyNames" in new:
            found += self.node(
                old.get("propertyNames"), new.get("propertyNames"), f"{prefix}<keys>"
            )
        return found

    def _array(self, old: dict[str, Any], new: dict[str, Any], path: str) -> list[Finding]:
        old_prefix, old_rest = _tuple(old)
        new_prefix, new_rest = _tuple(new)
        found: list[Finding] = []
        for i in range(max(len(old_prefix), len(new_prefix))):
            a = old_prefix[i] if i < len(old_prefix) else old_rest
            b = new_prefix[i] if i < len(new_prefix) else new_rest
            found += self.node(a, b, f"{path}[{i}]")
        if old_rest is not None or new_rest is not None:
            found += self.node(old_rest, new_rest, f"{path}[]")
        return found

    def _rules(self, old: dict[str, Any], new: dict[str, Any], path: str) -> list[Finding]:
        """``allOf`` entries and ``if``/``then``/``else``: conditions paired by their ``if``."""
        old_plain, old_rules = self._constraints(old, self.old_root)
        new_plain, new_rules = self._constraints(new, self.new_root)
        found: list[Finding] = []
        unmatched = list(new_rules)
        for condition, rule in old_rules:
            twin = next((item for item in unmatched if item[0] == condition), None)
            if twin is None:
                found.append(_finding(path, "constraint removed", f"if {_condition(rule)}"))
                continue
            unmatched.remove(twin)
            label = _condition(rule)
            for key, where in (("then", f"[if {label}]"), ("else", f"[if not {label}]")):
                if key in rule or key in twin[1]:
                    found += self.node(rule.get(key), twin[1].get(key), f"{path}{where}")
        for _, rule in unmatched:
            found.append(_finding(path, "constraint added", f"if {_condition(rule)}"))
        pairs, lost, gained = _match(old_plain, new_plain)
        found += [_finding(path, "constraint removed", branch.label) for branch in lost]
        found += [_finding(path, "constraint added", branch.label) for branch in gained]
        for old_branch, new_branch in pairs:
            found += self._pair(old_branch, new_branch, path)
        return found

    def _constraints(
        self, schema: dict[str, Any], root: dict[str, Any]
    ) -> tuple[list[_Branch], list[tuple[str, dict[str, Any]]]]:
        entries = [schema] if "if" in schema else []
        all_of = schema.get("allOf")
        if isinstance(all_of, list) and not (len(all_of) == 1 and not _is_rule(all_of[0])):
            entries += all_of
        plain: list[_Branch] = []
        rules: list[tuple[str, dict[str, Any]]] = []
        for entry in entries:
            resolved = self._resolve(entry, root) if entry is not schema else _Branch(schema)
            if _is_rule(resolved.schema):
                condition = self._resolve(resolved.schema["if"], root).schema
                rules.append((_canonical(condition), resolved.schema))
            else:
                plain.append(resolved)
        return plain, rules

    @staticmethod
    def _unknown(old: dict[str, Any], new: dict[str, Any], path: str) -> list[Finding]:
        found: list[Finding] = []
        for key in sorted(set(old) | set(new)):
            if key in _HANDLED or key in _ANNOTATIONS or key.startswith("x-"):
                continue
            a, b = old.get(key, _MISSING), new.get(key, _MISSING)
            if _strip(a) != _strip(b):
                detail = f"{_short(a)} -> {_short(b)}"
                found.append(_finding(path, "keyword changed: <keyword>", detail, key))
        return found

    def _same(self, old: Any, new: Any) -> bool:
        old_shape = _strip(self._resolve(old, self.old_root).schema)
        return bool(old_shape == _strip(self._resolve(new, self.new_root).schema))


_MISSING: Final = object()


def _match(
    old: list[_Branch], new: list[_Branch]
) -> tuple[list[tuple[_Branch, _Branch]], list[_Branch], list[_Branch]]:
    """Pair branches by ``$ref`` name, then title, then type; (pairs, lost, gained)."""
    pairs: list[tuple[_Branch, _Branch]] = []
    old_left, new_left = list(old), list(new)
    tests = (
        lambda a, b: bool(a.ref_name) and a.ref_name == b.ref_name,
        lambda a, b: bool(a.title) and a.title == b.title,
        lambda a, b: a.types == b.types,
        lambda a, b: bool(a.types) and _covers(b.types, a.types),
    )
    for same in tests:
        for a in list(old_left):
            b = next((b for b in new_left if same(a, b)), None)
            if b is not None:
                pairs.append((a, b))
                old_left.remove(a)
                new_left.remove(b)
    return pairs, old_left, new_left


def _covers(new: frozenset[str], old: frozenset[str]) -> bool:
    """Every type in ``old`` is accepted by ``new`` (``number`` accepts integers)."""
    return not old - new - ({"integer"} if "number" in new else set())


def _labels(branches: list[_Branch]) -> str:
    return "|".join(sorted(branch.label for branch in branches)) or "null"


def _boolean(schema: Any) -> dict[str, Any]:
    """Boolean schemas as objects: ``true`` accepts anything, ``false`` nothing."""
    if isinstance(schema, dict):
        return schema
    if schema is False:
        return {"not": {}}
    return {}


def _pointer(root: dict[str, Any], ref: str) -> Any:
    if ref == "#":
        return root
    if not ref.startswith("#/"):
        return {}  # not in this document: nothing to compare it with
    target: Any = root
    for part in ref[2:].split("/"):
        part = part.replace("~1", "/").replace("~0", "~")
        target = target.get(part, {}) if isinstance(target, dict) else {}
    return target


def _is_rule(schema: Any) -> bool:
    return isinstance(schema, dict) and "if" in schema


def _tuple(schema: dict[str, Any]) -> tuple[list[Any], Any]:
    """(per-position item schemas, the schema of the items after them or None)."""
    items = schema.get("items")
    if isinstance(items, list):  # draft 2019-09 and earlier spelling of a tuple
        return items, schema.get("additionalItems")
    prefix = schema.get("prefixItems")
    return (prefix if isinstance(prefix, list) else []), items


def _gt(a: Any, b: Any) -> bool:
    try:
        return bool(a > b)
    except TypeError:
        return True


def _lt(a: Any, b: Any) -> bool:
    try:
        return bool(a < b)
    except TypeError:
        return True


def _is_multiple(value: Any, *, of: Any) -> bool:
    try:
        ratio = Fraction(str(value)) / Fraction(str(of))
    except (ValueError, ZeroDivisionError, TypeError):
        return False
    return ratio.denominator == 1


def _mapping(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _names(value: Any) -> list[str]:
    return [item for item in value if isinstance(item, str)] if isinstance(value, list) else []


_JSON_TYPES: Final = ((bool, "boolean"), (int, "integer"), (float, "number"), (str, "string"))


def _types(schema: dict[str, Any]) -> set[str]:
    kind = schema.get("type")
    if isinstance(kind, str):
        return {kind}
    if isinstance(kind, list):
        return {str(k) for k in kind}
    values = _values(schema)
    if values is None:
        return set()
    # An enum without "type" accepts the types of its values.
    types: set[str] = set()
    for value in values:
        if value is None:
            types.add("null")
        elif isinstance(value, list):
            types.add("array")
        elif isinstance(value, dict):
            types.add("object")
        else:
            # bool before int: True is an int to Python, a boolean to JSON.
            found = next((name for cls, name in _JSON_TYPES if isinstance(value, cls)), None)
            if found is not None:
                types.add(found)
    return types


def _values(schema: dict[str, Any]) -> list[Any] | None:
    if "const" in schema:
        return [schema["const"]]
    enum = schema.get("enum")
    return enum if isinstance(enum, list) else None


def _allowed_values(schema: dict[str, Any]) -> set[str] | None:
    values = _values(schema)
    return None if values is None else {json.dumps(value, sort_keys=True) for value in values}


def _condition(rule: dict[str, Any]) -> str:
    """``kind="nps"`` for the usual ``if`` (properties pinned to constants), else its JSON."""
    condition = _boolean(rule.get("if"))
    properties = condition.get("properties")
    if isinstance(properties, dict) and properties and set(condition) <= {"properties", "required"}:
        parts = []
        for name, schema in properties.items():
            values = _values(schema) if isinstance(schema, dict) else None
            if values is None or set(schema) - {"const", "enum", "type"}:
                break
            shown = json.dumps(values[0] if len(values) == 1 else values, ensure_ascii=False)
            parts.append(f"{name}={shown}" if len(values) == 1 else f"{name} in {shown}")
        else:
            return " and ".join(parts)
    return _short(condition)


def _canonical(schema: Any) -> str:
    return json.dumps(_strip(schema), sort_keys=True, ensure_ascii=False)


def _short(value: Any, limit: int = 60) -> str:
    if value is _MISSING:
        return "-"
    text = json.dumps(_strip(value), sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _strip(schema: Any, names: bool = False) -> Any:
    """``schema`` without annotations; ``names``: a map of names (kept) to schemas."""
    if isinstance(schema, dict):
        return {
            k: _strip(v, names=k in _NAME_MAPS and not names)
            for k, v in schema.items()
            if names or not (k in _ANNOTATIONS or k.startswith("x-"))
        }
    if isinstance(schema, list):
        return [_strip(item) for item in schema]
    return schema


def _fmt(types: set[str] | frozenset[str]) -> str:
    return "|".join(sorted(types))
