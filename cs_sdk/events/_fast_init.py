"""Whether a typed event's class can be built without pydantic's validator: decided once per
class, at declaration, from pydantic's own core schema; used by ``Event.__init__``.

Building ``ReportCreated(**fields)`` (8 scalar fields) cost ~1.4 µs, ~1 µs of it in
``validate_python``: more than the whole ``track()`` of the result, and what kept a typed
event above twice a flat milestone's cost (issue 15). For a class whose every field is a
``str``, ``int``, ``bool``, ``float`` or ``None`` (optional or not), or a ``Literal`` of str,
int, bool or None, each with or without a scalar default, validation leaves an exact value
of those types as it is. The C accelerator (``_init_speedups.c``) then builds the instance
itself: the values given, the defaults of the others, in declaration order, and the names
given as ``model_fields_set``. Any other input (a missing or unknown field, a value of
another type, a str subclass, a bool for an int, an int for a float, inf or nan) goes to
pydantic, whose result and errors are the reference: tests/test_events_fast_init.py compares
both on random classes and inputs.

Decision, conservative by construction: the schema must be exactly a ``model`` of
``model-fields`` with only the keys listed below. No validator (a validator wraps the schema
in a function schema), no constraint (``max_length``, ``ge``... are keys of the scalar
schema), no alias for validation, no ``default_factory`` or ``validate_default``, no
``model_post_init`` or private attributes, no custom ``__init__``, no configuration beyond
``title``, ``strict`` and ``extra`` of "forbid" or "ignore" (``str_strip_whitespace``,
``allow_inf_nan``, ``use_enum_values`` and the rest change what validation does, so they
are not listed). A key this file does not know, including one a new pydantic adds, means
"not plain": pydantic's validator is always right, only slower.

``CS_SDK_SPEEDUPS=false`` in the environment at import turns this off, as it turns off every
C accelerator.
"""

from __future__ import annotations

import importlib
import inspect
import os
from collections.abc import Callable, Mapping
from typing import Any

__all__ = ["FAST_INIT", "event_init", "fast_init_spec", "install_init"]

FAST_INIT = "__cs_fast_init__"
"""The class attribute (in the class's own ``__dict__``) holding the spec, or None.
_init_speedups.c reads it under this name."""

# The kinds of _init_speedups.c (KIND_*).
_KINDS = {"str": 1, "int": 2, "bool": 4, "float": 8, "none": 16}
_NONE = _KINDS["none"]
_MODEL_KEYS = frozenset(
    {"type", "cls", "schema", "config", "custom_init", "root_model", "post_init", "ref"}
    | {"metadata"}
)
_CONFIG_KEYS = frozenset({"title", "strict", "extra_fields_behavior"})
_FIELDS_KEYS = frozenset({"type", "fields", "model_name", "computed_fields", "strict", "ref"})
# A model field's keys: what only serialisation reads is harmless here; a validation alias
# is not (it changes the accepted keywords) and is not listed.
_FIELD_KEYS = frozenset(
    {"type", "schema", "metadata", "frozen", "serialization_alias", "serialization_exclude"}
)
_SCALAR_KEYS = frozenset({"type", "strict", "ref", "metadata"})
_NULLABLE_KEYS = _SCALAR_KEYS | {"schema"}
_DEFAULT_KEYS = frozenset({"type", "schema", "default", "ref", "metadata"})
_LITERAL_KEYS = frozenset({"type", "expected", "ref", "metadata"})
_SCALAR_TYPES = (str, int, bool, float, type(None))

_STATE = ("__dict__", "__pydantic_fields_set__", "__pydantic_extra__", "__pydantic_private__")

FieldSpec = tuple[str, int, "tuple[Any, ...] | None", "tuple[Any, ...]"]


def fast_init_spec(cls: Any) -> tuple[FieldSpec, ...] | None:
    """The spec _init_speedups.c builds ``cls``'s instances from, or None when pydantic's
    validator must (see the module docstring)."""
    try:
        if not cls.__dict__.get("__pydantic_complete__", False):
            return None
        if cls.__pydantic_post_init__ is not None or cls.__private_attributes__:
            return None
        schema = cls.__pydantic_core_schema__
        if not isinstance(schema, Mapping) or schema.get("type") != "model":
            return None
        if not schema.keys() <= _MODEL_KEYS or id(schema.get("cls")) != id(cls):
            return None
        if schema.get("custom_init") or schema.get("root_model") or schema.get("post_init"):
            return None
        config = schema.get("config", {})
        if not config.keys() <= _CONFIG_KEYS:
            return None
        if config.get("extra_fields_behavior", "ignore") not in ("forbid", "ignore"):
            return None
        fields_schema = schema.get("schema")
        if not isinstance(fields_schema, Mapping) or fields_schema.get("type") != "model-fields":
            return None
        if not fields_schema.keys() <= _FIELDS_KEYS:
            return None
        fields = fields_schema.get("fields")
        if not isinstance(fields, Mapping) or list(fields) != list(cls.__pydantic_fields__):
            return None
        spec: list[FieldSpec] = []
        for name, field in fields.items():
            if not isinstance(field, Mapping) or field.get("type") != "model-field":
                return None
            if not field.keys() <= _FIELD_KEYS or type(name) is not str:
                return None
            entry = _field(name, field.get("schema"))
            if entry is None:
                return None
            spec.append(entry)
        return tuple(spec)
    except Exception:  # a schema of a shape this file does not know: pydantic validates
        return None


def _field(name: str, schema: object) -> FieldSpec | None:
    default: tuple[Any, ...] = ()
    if isinstance(schema, Mapping) and schema.get("type") == "default":
        if not schema.keys() <= _DEFAULT_KEYS or "default" not in schema:
            return None
        value = schema["default"]
        if type(value) not in _SCALAR_TYPES:  # a mutable default is copied by pydantic
            return None
        default = (value,)
        schema = schema.get("schema")
    kinds = 0
    if isinstance(schema, Mapping) and schema.get("type") == "nullable":
        if not schema.keys() <= _NULLABLE_KEYS:
            return None
        kinds = _NONE
        schema = schema.get("schema")
    if not isinstance(schema, Mapping):
        return None
    kind = schema.get("type")
    if kind == "literal":
        expected = schema.get("expected")
        if not schema.keys() <= _LITERAL_KEYS or not isinstance(expected, list):
            return None
        if not all(type(value) in (str, int, bool, type(None)) for value in expected):
            return None
        literals = tuple(expected) + ((None,) if kinds & _NONE else ())
        return (name, kinds, literals, default)
    if kind not in _KINDS or not schema.keys() <= _SCALAR_KEYS:
        return None
    return (name, kinds | _KINDS[kind], None, default)


_installer: list[Callable[[type, object], bool]] = []  # _init_speedups.install, once loaded


def install_init(cls: type, init: object) -> bool:
    """Let ``cls(...)`` run ``init`` (Event's EventInit) straight from its metaclass's call,
    when ``cls`` keeps it as its ``__init__``: no ``__init__`` lookup, and no attribute values
    made for the instance only to be thrown away (_init_speedups.c, install).
    False where it does not apply (the accelerator is off, the class has its own __init__)."""
    return bool(_installer and _installer[0](cls, init))


def event_init(base: type) -> Callable[..., None] | None:
    """``Event.__init__``: _init_speedups.c's ``EventInit``, which builds a plain class's
    instance itself and hands anything else to ``base.__init__`` (``BaseModel``'s); None
    when the accelerator is not built or ``CS_SDK_SPEEDUPS=false`` (then Event keeps
    BaseModel's ``__init__``)."""
    # CS_SDK_SPEEDUPS=false turns every C accelerator off, this one included (CI runs the
    # suite once that way, so pydantic's validator keeps being the tested path there).
    if os.environ.get("CS_SDK_SPEEDUPS", "").strip().lower() == "false":
        return None
    try:
        # By name: a compiled extension has no source for import-linter to read.
        module = importlib.import_module(f"{__package__}._init_speedups")
    except ImportError:  # not built (no compiler at install time, or not CPython)
        return None
    fallback = base.__dict__["__init__"]
    # The instance's state, set through BaseModel's own descriptors (its __dict__, slots).
    state = tuple(base.__dict__[name] for name in _STATE)
    init: Any = module.EventInit(fallback, state)
    _installer.append(module.install)
    # What pydantic and inspect read of an __init__: the base's marker (the class keeps its
    # base's __init__: no custom_init) and the signature (pydantic builds the class's
    # __signature__ from it), as BaseModel.__init__'s own.
    init.__pydantic_base_init__ = True
    init.__signature__ = inspect.signature(fallback)
    init.__name__ = "__init__"
    init.__qualname__ = "Event.__init__"
    init.__doc__ = fallback.__doc__
    typed: Callable[..., None] = init
    return typed
