"""Feedback prompts: the configuration document, targeting and throttling rules, the engine.

``client.prompts`` (``cs_sdk.prompts`` for the global client) is a :class:`Prompts`::

    prompt = cs_sdk.prompts.next_for("u1")
    if prompt and cs_sdk.prompts.shown(prompt.id, "u1"):
        ...  # render prompt.kind / prompt.question

See docs/pilots.md for the document a pilot manager writes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ._engine import Prompts
from ._rules import Prompt, rollout_bucket
from ._source import FileSource, StaticSource, UrlSource

if TYPE_CHECKING:
    from ._config import (
        GlobalThrottle,
        PilotSpec,
        PromptConfig,
        PromptSpec,
        RoutingSpec,
        SuccessMetric,
        Targeting,
        TeamSpec,
        Throttle,
        load_config,
        parse_config,
    )

__all__ = [
    "FileSource",
    "GlobalThrottle",
    "PilotSpec",
    "Prompt",
    "PromptConfig",
    "PromptSpec",
    "Prompts",
    "RoutingSpec",
    "StaticSource",
    "SuccessMetric",
    "Targeting",
    "TeamSpec",
    "Throttle",
    "UrlSource",
    "load_config",
    "parse_config",
    "rollout_bucket",
]

# The document's models are pydantic's: loaded when first named (PEP 562), so that
# `import cs_sdk` and a client without prompts= never import pydantic.
_CONFIG_NAMES = frozenset(
    (
        "GlobalThrottle",
        "PilotSpec",
        "PromptConfig",
        "PromptSpec",
        "RoutingSpec",
        "SuccessMetric",
        "Targeting",
        "TeamSpec",
        "Throttle",
        "load_config",
        "parse_config",
    )
)


def __getattr__(name: str) -> Any:
    if name not in _CONFIG_NAMES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from . import _config

    value = getattr(_config, name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
