"""Hypothesis strategies for event documents, valid and nearly valid, read off a JSON Schema.

    documents(event_json_schema(SomeEvent))

Each field gets values of its own type near its bounds and enum, values of other types, and
integral floats for integers (``5.0``), so the Python model and the exported schema are
compared where they could disagree. Used by tests/events and tests/examples.
"""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

json_values: st.SearchStrategy[Any] = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-1000, 1000)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=8),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=6), children, max_size=3)
    ),
    max_leaves=8,
)


def _resolve(schema: Any, root: dict[str, Any]) -> dict[str, Any]:
    while isinstance(schema, dict) and "$ref" in schema:
        target: Any = root
        for part in schema["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        schema = {**target, **{k: v for k, v in schema.items() if k != "$ref"}}
    return schema if isinstance(schema, dict) else {}


def _strings(schema: dict[str, Any]) -> st.SearchStrategy[Any]:
    low, high = schema.get("minLength", 0), schema.get("maxLength")
    options = [st.text(max_size=6), st.sampled_from(["", " ", "\n", "x"])]
    if low:
        options.append(st.text(min_size=max(low - 1, 0), max_size=low + 1))
    if high is not None and high <= 1024:  # longer ones cost more than they find
        options.append(st.text(alphabet="ab", min_size=max(high - 1, 0), max_size=high + 1))
    return st.one_of(options)


def _numbers(schema: dict[str, Any], integral: bool) -> st.SearchStrategy[Any]:
    bounds = [schema[k] for k in ("minimum", "maximum") if isinstance(schema.get(k), int)]
    low, high = (min(bounds) - 2, max(bounds) + 2) if bounds else (-3, 12)
    near = st.integers(low, high)
    inside = st.integers(schema.get("minimum", -1000), schema.get("maximum", 1000))
    options: list[st.SearchStrategy[Any]] = [
        inside,
        near,
        st.integers(),
        near.map(float),  # 5.0: an integer to JSON Schema, not to a strict int field
        st.floats(allow_nan=False, allow_infinity=False),
        st.booleans(),
    ]
    if not integral:
        options.append(st.floats(low, high, allow_nan=False))
    return st.one_of(options)


def values(
    schema: Any, root: dict[str, Any], depth: int = 0, *, typed: bool = False
) -> st.SearchStrategy[Any]:
    """Values for one field: of its type, near its limits, and (unless ``typed``) of others."""
    schema = _resolve(schema, root)
    options: list[st.SearchStrategy[Any]] = []
    branches = schema.get("anyOf") or schema.get("oneOf")
    if branches:
        options += [values(branch, root, depth + 1, typed=typed) for branch in branches]
    enum = schema.get("enum", [schema["const"]] if "const" in schema else None)
    kind = schema.get("type")
    if enum is not None:
        options += [st.sampled_from(enum), st.sampled_from([*enum, "zzz", 0])]
    elif kind == "string":
        options.append(_strings(schema))
    elif kind in ("integer", "number"):
        options.append(_numbers(schema, integral=kind == "integer"))
    elif kind == "boolean":
        options.append(st.booleans())
    elif kind == "null":
        options.append(st.none())
    elif kind == "array" and depth < 3:
        items = values(schema.get("items", {}), root, depth + 1, typed=typed)
        options.append(st.lists(items, max_size=3))
    elif kind == "object" and depth < 3:
        if "properties" in schema:
            options.append(objects(schema, root, depth + 1, typed=typed))
        else:
            extra = schema.get("additionalProperties", True)
            entries = values(extra, root, depth + 1, typed=typed) if extra is not True else None
            entries = json_values if entries is None else entries
            options.append(st.dictionaries(st.text(max_size=4), entries, max_size=3))
    if not options:
        return json_values
    own = st.one_of(options)
    return own if typed else st.one_of(own, own, own, json_values)  # mostly its own type


def objects(
    schema: dict[str, Any], root: dict[str, Any], depth: int = 0, *, typed: bool = False
) -> st.SearchStrategy[Any]:
    """Objects with the declared properties: the required ones present and each value of its
    type (mostly valid), or the required ones present, or any of them missing and sometimes
    an unknown one."""

    def fields(typed: bool) -> dict[str, st.SearchStrategy[Any]]:
        found = {
            name: values(prop, root, depth, typed=typed)
            for name, prop in schema["properties"].items()
        }
        # Values an if/then rule tests and asks for (the feedback kinds and their score
        # ranges) are worth trying too.
        rules = [schema] if "if" in schema else []
        rules += [rule for rule in schema.get("allOf", []) if isinstance(rule, dict)]
        for rule in rules:
            for part in ("if", "then", "else"):
                for name, prop in rule.get(part, {}).get("properties", {}).items():
                    if name in found:
                        found[name] = found[name] | values(prop, root, depth, typed=typed)
        return found

    def with_required(found: dict[str, st.SearchStrategy[Any]]) -> st.SearchStrategy[Any]:
        required = {n: found[n] for n in schema.get("required", []) if n in found}
        rest = {n: v for n, v in found.items() if n not in required}
        return st.fixed_dictionaries(required, optional=rest)

    near = with_required(fields(typed=True))
    if typed:
        return near
    mixed = fields(typed=False)
    extra = {"not_declared": json_values}
    return st.one_of(
        near,
        with_required(mixed),
        st.fixed_dictionaries({}, optional={**mixed, **extra}),
    )


def documents(schema: dict[str, Any]) -> st.SearchStrategy[dict[str, Any]]:
    """Documents for one event's JSON Schema, most of them close to valid."""
    return objects(_resolve(schema, schema), schema)
