"""Typed events: ``cs_sdk.Event`` subclasses declare their name and schema version.

    class ReportExported(cs_sdk.Event, name="report.exported", version="1.0.0"):
        format: Literal["pdf", "csv"]
        pages: int

Declaring the class registers it in :data:`registry`. Events are frozen: an event is a fact,
and the SDK serialises it on its worker thread, after ``track()`` has returned.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from pydantic import BaseModel, ConfigDict

from .._errors import SchemaError
from .._names import NAME_PATTERN
from ._fast_init import FAST_INIT, event_init, fast_init_spec, install_init
from ._plain import PLAIN_FIELDS, plain_field_count

# The registry and SchemaRef live in _schema.py (no pydantic), re-exported here.
from ._schema import RESERVED_PREFIX, VERSION_PATTERN, EventRegistry, SchemaRef, registry

__all__ = ["RESERVED_PREFIX", "Event", "EventRegistry", "SchemaRef", "registry"]

_NAME = NAME_PATTERN  # the one name rule (cs_sdk/_names.py), also for milestones and outcomes
_VERSION = VERSION_PATTERN


if TYPE_CHECKING:  # the type checker sees pydantic's (private) metaclass by its name
    from pydantic._internal._model_construction import ModelMetaclass as _ModelMetaclass
else:
    _ModelMetaclass = type(BaseModel)


class _EventMeta(_ModelMetaclass):
    """Renames the ``name=`` and ``version=`` class arguments on their way in.

    Pydantic's metaclass passes class arguments on to ``ABCMeta.__new__``, whose first
    parameter on Python 3.10 is also called ``name`` (3.11 made it positional-only): a class
    argument of that name fails there with "got multiple values for argument 'name'".
    """

    def __new__(
        mcs,
        cls_name: str,
        bases: tuple[type, ...],
        namespace: dict[str, Any],
        name: str | None = None,
        version: str | None = None,
        **kwargs: Any,
    ) -> type:
        if name is not None or version is not None:
            kwargs.update(event_name=name, event_version=version)
        cls: type = super().__new__(mcs, cls_name, bases, namespace, **kwargs)
        return cls


_EVENT_INIT = event_init(BaseModel)  # None: BaseModel's own (not built, or off)


class Event(BaseModel, metaclass=_EventMeta):
    """Base class of typed events. Subclass with ``name=`` and ``version=`` class arguments.

    A subclass without ``name=`` is an abstract base for shared fields: it is not registered
    and cannot be tracked itself.
    """

    # Strict: an event is exact data; "3" is not silently an int, so what validates in Python
    # and what validates against the exported JSON Schema stay the same set.
    model_config = ConfigDict(frozen=True, extra="forbid", strict=True)

    __cs_schema__: ClassVar[SchemaRef]
    __cs_plain_fields__: ClassVar[int | None] = None  # PLAIN_FIELDS, set for each subclass
    __cs_fast_init__: ClassVar[tuple[Any, ...] | None] = None  # FAST_INIT, idem

    # A plain class's exact scalars are built in C, anything else (and every error) by
    # pydantic's validator (_fast_init.py). Hidden from type checkers, which keep
    # synthesising each subclass's own __init__ from its fields.
    if not TYPE_CHECKING and _EVENT_INIT is not None:
        __init__ = _EVENT_INIT

    def __init_subclass__(
        cls, *, event_name: str | None = None, event_version: str | None = None, **kw: Any
    ):
        # Pydantic hands class keywords to both hooks; only the second one registers.
        super().__init_subclass__(**kw)

    @classmethod
    def __pydantic_init_subclass__(
        cls, *, event_name: str | None = None, event_version: str | None = None, **kw: Any
    ) -> None:
        super().__pydantic_init_subclass__(**kw)
        # Whether track() may queue this class's events as their field values (_plain.py):
        # decided here, once, for every class (a subclass decides again for itself).
        setattr(cls, PLAIN_FIELDS, plain_field_count(cls, Event.wire_fields))
        # Whether Event.__init__ may build this class's instances in C (_fast_init.py).
        setattr(cls, FAST_INIT, fast_init_spec(cls))
        if _EVENT_INIT is not None:
            install_init(cls, _EVENT_INIT)
        name, version = event_name, event_version
        if name is None:
            if version is not None:
                raise SchemaError(f"{cls.__qualname__}: version= needs name= as well")
            return
        if not isinstance(name, str) or not _NAME.fullmatch(name):
            raise SchemaError(
                f"{cls.__qualname__}: event name {name!r} must be lower-case words separated "
                "by '.', '_' or '-', e.g. 'report.exported'"
            )
        if name.startswith(RESERVED_PREFIX) and not cls.__module__.startswith("cs_sdk."):
            raise SchemaError(f"{cls.__qualname__}: names starting with 'cs.' are reserved")
        version = "1.0.0" if version is None else version
        if not isinstance(version, str) or not _VERSION.match(version):
            raise SchemaError(
                f"{cls.__qualname__}: version {version!r} must be a semantic version like '1.0.0'"
            )
        cls.__cs_schema__ = SchemaRef(name, version)
        registry.register(cls)

    @classmethod
    def is_declared(cls) -> bool:
        """True for a class declared with ``name=`` (a trackable event)."""
        return "__cs_schema__" in cls.__dict__

    def wire_fields(self) -> tuple[str, dict[str, Any] | None, dict[str, Any]]:
        """``(event name, body, first-class attributes)`` as sent over OTLP.

        Typed events send their fields as the body. Built-in events override this to put
        their first-class fields (pilot ids, prompt ids, scores) into attributes.
        """
        # model_dump(mode="json") is this call behind a keyword-only wrapper; called directly
        # it costs the worker ~0.4 µs less per typed event, with the same defaults.
        body = self.__pydantic_serializer__.to_python(self, mode="json")
        return self.__cs_schema__.name, body, {}
