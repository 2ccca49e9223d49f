"""The public surface is a promise: adding or removing a name must be a conscious change."""

from __future__ import annotations

import cs_sdk


def test_public_surface_is_pinned() -> None:
    assert sorted(cs_sdk.__all__) == sorted(
        [
            "Answer",
            "CSError",
            "Client",
            "Config",
            "ConfigError",
            "Event",
            "EventRecord",
            "FeedbackSummary",
            "Identity",
            "InvalidEventError",
            "PromptConfigError",
            "SchemaConflictError",
            "SchemaError",
            "__version__",
            "aflush",
            "ashutdown",
            "feedback",
            "flush",
            "get_client",
            "identify",
            "init",
            "milestone",
            "opt_in",
            "opt_out",
            "outcome",
            "pilots",
            "prompts",
            "registry",
            "respond",
            "responses",
            "shutdown",
            "stats",
            "track",
        ]
    )


def test_every_exported_name_exists() -> None:
    for name in cs_sdk.__all__:
        assert hasattr(cs_sdk, name), name


def test_exception_tree() -> None:
    assert issubclass(cs_sdk.ConfigError, cs_sdk.CSError)
    assert issubclass(cs_sdk.PromptConfigError, cs_sdk.ConfigError)
    assert issubclass(cs_sdk.InvalidEventError, cs_sdk.CSError)
    assert issubclass(cs_sdk.InvalidEventError, ValueError)
    assert issubclass(cs_sdk.SchemaConflictError, cs_sdk.SchemaError)
