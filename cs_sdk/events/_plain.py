"""Whether a typed event can be queued as its wire body: decided once per class, checked per
event. No pydantic import: ``track()`` reads this on the caller's thread, before pydantic is
needed for anything else, and the class side only reads what pydantic already built.

A typed event used to be queued as its pydantic instance, serialised on the worker. The
instance carries pydantic's ``__pydantic_fields_set__`` (a set of the field names, ~728 B), so
a held typed event cost ~1.5 KB against ~600 B for the same fields as milestone properties
(issue 15: 105 MB against 59 MB of peak RSS in a 100k burst, page faults on the caller's
thread). For a *plain* class, the body the worker would build, ``to_python(mode="json")``, is
the validated field values themselves: ``track()`` then queues a copy of ``event.__dict__``
under the event's name, and the instance dies at the end of the caller's statement. The
worker handles that body as it handles a milestone's dict; nothing downstream can tell.

Decision, conservative by construction: a class is plain only when pydantic's own core schema
(what its serializer runs) says the dump is the values: every field a ``str``, ``int``,
``bool``, ``float`` or ``None``, optional or a union of those, or a ``Literal`` of str, int,
bool or None; no serializer anywhere, no computed field, no excluded or aliased field, extra
fields not allowed, ``wire_fields`` not overridden, the schema complete at declaration (a
class completed later by ``model_rebuild()`` stays on the instance form). Anything this file
does not know, including a pydantic that adds a key to these schemas, is "not plain": the
instance form is always right, only slower.

Per event, the values are checked again by their exact type (``model_construct`` and
``model_copy(update=...)`` skip validation), and the field count must match the class's.
Non-finite floats also take the instance form: pydantic 2.14's ``to_python(mode="json")``
keeps ``inf``/``nan`` as they are (only ``to_json`` applies ``ser_json_inf_nan``), so the two
forms agree today, but that is pydantic's choice, not a promise it documents.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

__all__ = ["PLAIN_FIELDS", "plain_field_count", "wire_body"]

PLAIN_FIELDS = "__cs_plain_fields__"
"""The class attribute (in the class's own ``__dict__``) holding the number of fields of a
plain class, or None. _speedups.c's track() reads it under this name."""

_SCALAR_SCHEMAS = frozenset({"str", "int", "bool", "float", "none"})
# The keys a scalar schema may carry: constraints and strictness change what validates, never
# how a valid value is dumped. A "serialization" key (a field serializer) is not among them.
_SCALAR_KEYS = frozenset(
    [
        "type",
        "strict",
        "ref",
        "metadata",
        "min_length",
        "max_length",
        "pattern",
        "regex_engine",
        "strip_whitespace",
        "to_lower",
        "to_upper",
        "coerce_numbers_to_str",
        "gt",
        "ge",
        "lt",
        "le",
        "multiple_of",
        "allow_inf_nan",
    ]
)
_WRAPPER_KEYS = frozenset({"type", "schema", "strict", "ref", "metadata"})
_DEFAULT_KEYS = _WRAPPER_KEYS | {
    "default",
    "default_factory",
    "default_factory_takes_data",
    "on_error",
    "validate_default",
}
_UNION_KEYS = frozenset(
    [
        "type",
        "choices",
        "auto_collapse",
        "mode",
        "strict",
        "ref",
        "metadata",
        "custom_error_type",
        "custom_error_message",
        "custom_error_context",
    ]
)
_LITERAL_KEYS = frozenset({"type", "expected", "ref", "metadata"})
# A model field's keys besides its schema: an alias for validation only is harmless; a
# serialization alias, an exclusion or exclude_if is not, and is not listed.
_FIELD_KEYS = frozenset({"type", "schema", "validation_alias", "frozen", "metadata"})
_LITERAL_TYPES = (str, int, bool, type(None))


def plain_field_count(cls: Any, default_wire_fields: Callable[..., Any]) -> int | None:
    """The number of fields of ``cls`` when its JSON-mode dump is provably its field values
    (see the module docstring), else None. ``default_wire_fields``: ``Event.wire_fields``."""
    try:
        if getattr(cls, "wire_fields", None) is not default_wire_fields:
            return None
        if not cls.__dict__.get("__pydantic_complete__", False):
            return None
        if cls.model_config.get("extra") == "allow" or cls.__pydantic_computed_fields__:
            return None
        decorators = cls.__pydantic_decorators__
        if decorators.field_serializers or decorators.model_serializers:
            return None
        schema = cls.__pydantic_core_schema__
        if not isinstance(schema, Mapping) or schema.get("type") != "model":
            return None  # a "definitions" wrapper (a recursive model), a mock (incomplete)
        if "serialization" in schema or schema.get("root_model"):
            return None
        if schema.get("config", {}).get("extra_fields_behavior") == "allow":
            return None
        fields_schema = schema.get("schema")
        if not isinstance(fields_schema, Mapping) or fields_schema.get("type") != "model-fields":
            return None
        if fields_schema.get("computed_fields") or "extras_schema" in fields_schema:
            return None
        if "serialization" in fields_schema:
            return None
        fields = fields_schema.get("fields")
        if not isinstance(fields, Mapping) or set(fields) != set(cls.__pydantic_fields__):
            return None
        for field in fields.values():
            if not isinstance(field, Mapping) or field.get("type") != "model-field":
                return None
            if not field.keys() <= _FIELD_KEYS or not _dumps_as_itself(field.get("schema")):
                return None
        return len(fields)
    except Exception:  # a schema of a shape this file does not know: not plain
        return None


def _dumps_as_itself(schema: object) -> bool:
    """True when every value that validates against ``schema`` is its own JSON-mode dump."""
    if not isinstance(schema, Mapping):
        return False
    kind = schema.get("type")
    if kind in _SCALAR_SCHEMAS:
        return schema.keys() <= _SCALAR_KEYS
    if kind == "literal":
        expected = schema.get("expected")
        return (
            schema.keys() <= _LITERAL_KEYS
            and isinstance(expected, list)
            and all(type(value) in _LITERAL_TYPES for value in expected)
        )
    if kind == "nullable":
        return schema.keys() <= _WRAPPER_KEYS and _dumps_as_itself(schema.get("schema"))
    if kind == "default":
        return schema.keys() <= _DEFAULT_KEYS and _dumps_as_itself(schema.get("schema"))
    if kind == "union":
        choices = schema.get("choices")
        return (
            schema.keys() <= _UNION_KEYS
            and isinstance(choices, list)
            and all(
                _dumps_as_itself(choice[0] if isinstance(choice, tuple) else choice)
                for choice in choices
            )
        )
    return False


def wire_body(event: object) -> dict[str, Any] | None:
    """The body to queue for ``event``, a ``cs_sdk.Event``: a copy of its fields when its
    class is plain and every value is a str, int, bool, None or finite float (a copy: the
    pipeline may change a body, and the user's frozen instance must not change); None to
    queue the instance itself. Mirrored by ``plain_body`` in _speedups.c."""
    count = type(event).__dict__.get(PLAIN_FIELDS)
    if count is None:
        return None
    fields = event.__dict__
    if len(fields) != count:
        return None
    for value in fields.values():
        kind = type(value)
        if kind is float:
            if value - value != 0.0:  # inf or nan
                return None
        elif kind is not str and kind is not int and kind is not bool and value is not None:
            return None
    body: dict[str, Any] = fields.copy()
    return body
