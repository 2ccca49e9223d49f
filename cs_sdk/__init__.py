"""cs_sdk: in-product telemetry and feedback capture for customer success.

import cs_sdk

cs_sdk.init(service_name="web", endpoint="http://127.0.0.1:4318")
with cs_sdk.identify(user_id="u1", account_id="acme"):
    cs_sdk.milestone("first_report_created", properties={"pages": 3})
    cs_sdk.feedback("nps", score=9, comment="Love the new dashboard")
cs_sdk.flush()
"""

from typing import TYPE_CHECKING, Any

from ._api import (
    aflush,
    ashutdown,
    feedback,
    flush,
    get_client,
    init,
    milestone,
    opt_in,
    opt_out,
    outcome,
    pilots,
    prompts,
    respond,
    responses,
    shutdown,
    stats,
    track,
)
from ._context import Identity, identify
from ._errors import (
    ConfigError,
    CSError,
    InvalidEventError,
    PromptConfigError,
    SchemaConflictError,
    SchemaError,
)
from ._lazy import load_lazily
from ._record import EventRecord
from ._version import __version__
from .events import registry

if TYPE_CHECKING:
    from ._client import Client
    from ._config import Config
    from .events._base import Event
    from .state import Answer, FeedbackSummary

__all__ = [
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


# Loaded when first named (PEP 562), not by `import cs_sdk`: the client and everything it
# wires (pipeline, exporter, state stores, pilots, prompts, the OpenTelemetry API) load with
# init() or `cs_sdk.Client`, and Event (pydantic, ~50 ms) when an application declares
# events. tests/test_cold_start.py keeps `import cs_sdk` free of them.
_LAZY = {
    "Client": "._client",
    "Config": "._config",
    "Event": ".events",
    "Answer": ".state",
    "FeedbackSummary": ".state",
}


def __getattr__(name: str) -> Any:
    return load_lazily(__name__, _LAZY, globals(), name)


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
