"""Exceptions raised by cs_sdk.

Only configuration mistakes and, in strict mode, invalid events ever reach the caller;
delivery failures are results and counters (see ``Client.stats()``), never exceptions.

    CSError
    ├── ConfigError                 bad option, environment variable or configuration file
    │   └── PromptConfigError       the pilot/prompt configuration document is invalid
    ├── InvalidEventError           (also a ValueError) an event broke a rule; strict mode only
    └── SchemaError                 event schema registry and compatibility problems
        └── SchemaConflictError     two classes claim one event name and version
"""

from __future__ import annotations

__all__ = [
    "CSError",
    "ConfigError",
    "InvalidEventError",
    "PromptConfigError",
    "SchemaConflictError",
    "SchemaError",
]


class CSError(Exception):
    """Root of every exception cs_sdk raises."""


class ConfigError(CSError):
    """An option, environment variable or configuration document is invalid."""


class PromptConfigError(ConfigError):
    """The pilot/prompt configuration document is invalid."""


class InvalidEventError(CSError, ValueError):
    """An event broke a rule. Raised only with ``strict=True``; otherwise counted and dropped.

    Attributes:
        field: where the problem is, e.g. ``"properties.pages"`` or ``"score"``.
        rule: the rule that was broken, e.g. ``"must be an integer from 0 to 10"``.
    """

    def __init__(self, field: str, rule: str) -> None:
        self.field = field
        self.rule = rule
        super().__init__(f"{field}: {rule}")


class SchemaError(CSError):
    """An event schema is invalid or incompatible."""


class SchemaConflictError(SchemaError):
    """Two different classes claim the same event name and version."""
