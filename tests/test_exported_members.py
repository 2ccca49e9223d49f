"""The public surface is a promise: adding or removing a name must be a conscious change."""

from __future__ import annotations

import cs_sdk


def test_public_surface_is_pinned() -> None:
    assert sorted(cs_sdk.__all__) == sorted(
        [
            "CSError",
            "Client",
            "Config",
            "ConfigError",
            "Event",
            "EventRecord",
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
            "shutdown",
            "stats",
            "track",
        ]
    )


def test_the_types_the_api_takes_and_returns_are_public() -> None:
    import cs_sdk.types

    assert sorted(cs_sdk.types.__all__) == [
        "ClientOptions",
        "Config",
        "EventRecord",
        "Identity",
        "Membership",
        "Pilots",
        "Prompt",
        "Prompts",
        "StatsSnapshot",
    ]
    for name in cs_sdk.types.__all__:
        assert hasattr(cs_sdk.types, name), name
    assert cs_sdk.types.Config is cs_sdk.Config
    with cs_sdk.Client(disabled=True, environ={}) as client:
        assert isinstance(client.pilots, cs_sdk.types.Pilots)
        assert isinstance(client.prompts, cs_sdk.types.Prompts)
        assert set(client.stats()) == set(cs_sdk.types.StatsSnapshot.__annotations__)


def test_every_option_is_declared_once_for_init_and_client() -> None:
    import inspect

    import cs_sdk.types

    options = set(cs_sdk.types.ClientOptions.__optional_keys__)
    # Every field of the resolved configuration is an option (endpoint is a base URL that
    # resolves into logs_endpoint).
    assert options == set(cs_sdk.Config.__dataclass_fields__) | {"endpoint"}
    # init() takes what Client() takes.
    init = inspect.signature(cs_sdk.init).parameters
    client = inspect.signature(cs_sdk.Client).parameters
    assert list(init) == list(client)
    # The keywords are typed for mypy users (the annotations are strings at runtime).
    assert init["options"].annotation == client["options"].annotation == "Unpack[ClientOptions]"


def test_every_exported_name_exists() -> None:
    for name in cs_sdk.__all__:
        assert hasattr(cs_sdk, name), name


def test_exception_tree() -> None:
    assert issubclass(cs_sdk.ConfigError, cs_sdk.CSError)
    assert issubclass(cs_sdk.PromptConfigError, cs_sdk.ConfigError)
    assert issubclass(cs_sdk.InvalidEventError, cs_sdk.CSError)
    assert issubclass(cs_sdk.InvalidEventError, ValueError)
    assert issubclass(cs_sdk.SchemaConflictError, cs_sdk.SchemaError)
