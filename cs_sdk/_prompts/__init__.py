"""Feedback prompts: the configuration document, targeting and throttling rules, the engine.

``client.prompts`` (``cs_sdk.prompts`` for the global client) is a :class:`Prompts`::

    prompt = cs_sdk.prompts.next_for("u1")
    if prompt and cs_sdk.prompts.shown(prompt.id, "u1"):
        ...  # render prompt.kind / prompt.question

See docs/pilots.md for the document a pilot manager writes.
"""

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
from ._engine import Prompts
from ._rules import Prompt, rollout_bucket
from ._source import FileSource, StaticSource, UrlSource

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
