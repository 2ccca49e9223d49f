"""Type-checked by mypy in CI (`mypy tests/typing`): init() and Client() declare their options.

A misspelt option is a type error, not only a ConfigError at runtime: each line below needs
its `type: ignore`, and mypy (strict, warn_unused_ignores) fails if one is not needed.
"""

from __future__ import annotations

from pathlib import Path

import cs_sdk
from cs_sdk.types import ClientOptions, Membership, Prompt, StatsSnapshot

client = cs_sdk.Client(service_name="web", endpoint="http://127.0.0.1:4318", spool_dir=Path("s"))
cs_sdk.init(service_name="web", max_queue_size=10_000, compression="gzip", strict=True)

cs_sdk.init(servce_name="web")  # type: ignore[call-arg]
cs_sdk.Client(endpont="http://127.0.0.1:4318")  # type: ignore[call-arg]
cs_sdk.init(max_queue_size="big")  # type: ignore[arg-type]
cs_sdk.Client(compression="brotli")  # type: ignore[arg-type]

options: ClientOptions = {"service_name": "web", "timeout": 5.0}
configured = cs_sdk.Client(**options)

memberships: list[Membership] = cs_sdk.pilots.of("u1")
prompt: Prompt | None = cs_sdk.prompts.next_for("u1")
counters: StatsSnapshot = client.stats()
