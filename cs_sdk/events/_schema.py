"""Event schema identities and the registry, without pydantic.

``SchemaRef`` and :data:`registry` are read by the recording calls, the exporter and
``import cs_sdk``; the ``Event`` base class (``_base.py``) is a pydantic model, and pydantic
takes ~50 ms to import. Keeping these here lets ``import cs_sdk`` and ``init()`` run without
it: pydantic is imported when an application first touches ``cs_sdk.Event`` (to declare or
build an event) or reads the registry, which then loads the built-in events. ``is_event``
(in the package's ``__init__``) answers ``isinstance(x, Event)`` without importing it.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterator
from typing import Any, ClassVar, Generic, NamedTuple, Protocol, TypeVar

from .._errors import SchemaConflictError

RESERVED_PREFIX = "cs."
# The module that defines cs_sdk.Event (and imports pydantic). Named, not imported, by what
# must answer "is this an event?" before anyone declared one: is_event() and the C track().
EVENT_MODULE = f"{__package__}._base"
VERSION_PATTERN = re.compile(r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)$")


class SchemaRef(NamedTuple):
    """The identity of an event schema on the wire: its name and semantic version.

    A tuple of two strings rather than a dataclass: queued events refer to it, and a tuple
    holding only strings and numbers is one the garbage collector stops tracking, so a
    queue of 100,000 events adds nothing to the work of a full collection.
    """

    name: str
    version: str

    @property
    def major(self) -> int:
        return int(self.version.split(".", 1)[0])


class Declared(Protocol):
    """What the registry reads of an event class (``cs_sdk.Event`` subclasses have it)."""

    __cs_schema__: ClassVar[SchemaRef]


E = TypeVar("E", bound=Declared)


def _location(cls: type) -> str:
    import inspect  # only to word a conflict: not worth ~10 ms at every start

    try:
        file = inspect.getsourcefile(cls) or "<unknown>"
        line = inspect.getsourcelines(cls)[1]
        return f"{cls.__module__}.{cls.__qualname__} ({file}:{line})"
    except (OSError, TypeError):
        return f"{cls.__module__}.{cls.__qualname__}"


class EventRegistry(Generic[E]):
    """Every declared event schema, by name and version. Thread-safe.

    The loader ``cs_sdk.events`` injects declares the built-in events the first time the
    registry is read, so that reading it answers the same whether or not pydantic was
    already imported; declaring a class (``register``) does not need them.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._schemas: dict[tuple[str, str], type[E]] = {}
        self._load: Callable[[], object] | None = None

    def load_on_first_read(self, load: Callable[[], object]) -> None:
        """Call ``load`` before the first read (``get``, ``versions``, iteration, ``len``)."""
        self._load = load

    def _loaded(self) -> None:
        # Outside the lock: loading declares classes, which register. Cleared only once the
        # load returned; a second thread meanwhile waits on the module's import lock.
        load = self._load
        if load is not None:
            load()
            self._load = None

    def register(self, cls: type[E]) -> None:
        """Add ``cls``; a *different* class with the same name and version is an error.

        The one exception is a class re-declared at module level under the same module and
        qualified name: a module reload or a notebook cell run again. The new class replaces
        the old. A class declared inside a function (``<locals>`` in its qualified name) is a
        new class on every call, so a second one while the first is registered is a conflict,
        as for any other pair of classes.
        """
        ref = cls.__cs_schema__
        key = (ref.name, ref.version)
        with self._lock:
            existing = self._schemas.get(key)
            if existing is not None and existing is not cls:
                redeclared = (existing.__module__, existing.__qualname__) == (
                    cls.__module__,
                    cls.__qualname__,
                )
                if not redeclared or "<locals>" in cls.__qualname__:
                    hint = (
                        " (a class declared in a function is a new class on every call: "
                        "declare it once at module level, or registry.unregister() the "
                        "earlier one first)"
                        if redeclared
                        else ""
                    )
                    raise SchemaConflictError(
                        f"event {ref.name!r} version {ref.version} is declared twice: "
                        f"by {_location(existing)} and by {_location(cls)}{hint}"
                    )
            self._schemas[key] = cls

    def get(self, name: str, version: str | None = None) -> type[E] | None:
        """The class for ``name`` at ``version``, or at its highest version when omitted."""
        self._loaded()
        with self._lock:
            if version is not None:
                return self._schemas.get((name, version))
            versions = [(version_key(v), cls) for (n, v), cls in self._schemas.items() if n == name]
        return max(versions, key=lambda item: item[0])[1] if versions else None

    def versions(self, name: str) -> list[str]:
        """Every registered version of ``name``, lowest first."""
        self._loaded()
        with self._lock:
            found = [v for (n, v) in self._schemas if n == name]
        return sorted(found, key=version_key)

    def __iter__(self) -> Iterator[type[E]]:
        self._loaded()
        with self._lock:
            items = sorted(self._schemas.items(), key=lambda kv: (kv[0][0], version_key(kv[0][1])))
        return iter([cls for _, cls in items])

    def __len__(self) -> int:
        self._loaded()
        with self._lock:
            return len(self._schemas)

    def unregister(self, cls: type[E]) -> None:
        """Remove ``cls`` (for tests that declare throwaway events)."""
        ref = cls.__cs_schema__
        with self._lock:
            if self._schemas.get((ref.name, ref.version)) is cls:
                del self._schemas[(ref.name, ref.version)]


def version_key(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in version.split("."))


# Typed as EventRegistry[Event] where it is public (cs_sdk.events): naming Event here would
# make this module import the one that defines it.
registry: EventRegistry[Any] = EventRegistry()
"""The process-wide registry every :class:`Event` subclass joins when it is declared."""
