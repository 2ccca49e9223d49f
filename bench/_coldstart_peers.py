"""Cold start, every SDK side by side: ``import`` time, and construction plus the first event.

Each figure is one fresh interpreter (``python -c``, or ``python -m bench._coldstart_peers``
for the first event), the SDKs taking turns, the median of the repetitions:

- **import**: ``perf_counter_ns`` around the import statements a user of that SDK writes to
  send events (``IMPORTS``), inside the interpreter: its own start-up (the same for all) is
  left out.
- **first event**: from the interpreter's first statement to the return of the first
  recorded event (the flat event of the main table): the SDK's import, its client built at
  its defaults and pointed at the loopback sink (``cs_sdk.Client`` as ``cs_sdk.init()``
  builds it, the peers' constructors as bench/_peers.py builds them) and one call. The
  harness's own modules (bench._peers: logging, random) load inside that span too, so the
  same run without an SDK (``none``) is subtracted.

Every SDK is measured as installed alone: bytecode compiled (``compile_as_installed``) and
without the packages only the project's test tools bring (``DEV_TOOLS_ONLY``).
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
# What a user imports to send events with each SDK (OpenTelemetry: the logs SDK, its batch
# processor and the OTLP/HTTP exporter; the other SDKs are one package each).
IMPORTS: dict[str, str] = {
    "cs_sdk": "import cs_sdk",
    "segment": "import segment.analytics",
    "posthog": "import posthog",
    "otel": (
        "import opentelemetry.sdk._logs, opentelemetry.sdk._logs.export, "
        "opentelemetry.exporter.otlp.proto.http._log_exporter"
    ),
    "amplitude": "import amplitude",
}
# Packages this environment has only for the project's test tools (selenium brings trio,
# import-linter brings rich), which httpcore and httpx import whenever they are installed
# (trio: httpcore's async backend probe; rich: httpx's command line). No SDK needs them and
# an application that installs one SDK does not have them, so every child, the baseline
# included, starts without them (a child that needed one would fail and lose its row).
DEV_TOOLS_ONLY = ("trio", "rich")
HIDE_DEV_TOOLS = f"import sys; sys.modules.update(dict.fromkeys({DEV_TOOLS_ONLY!r}))"
_IMPORT_CODE = (
    HIDE_DEV_TOOLS + "; import time; t0 = time.perf_counter_ns(); {statement}; "
    "print((time.perf_counter_ns() - t0) / 1e6)"
)
_FIRST_CODE = (
    HIDE_DEV_TOOLS + "; import time; t0 = time.perf_counter_ns(); "
    "from bench._coldstart_peers import first_event; "
    "first_event({sdk!r}, {url!r}, t0)"
)
BASELINE = "none"


def compile_as_installed() -> None:
    """Write the bytecode of cs_sdk and of the harness, as ``pip install`` does for a wheel.

    The peers come from wheels, their bytecode compiled at install; cs_sdk is installed
    editable, and where imports never write bytecode (``PYTHONDONTWRITEBYTECODE``, as on
    this machine) each child would compile ~50 of its modules from source, ~50 ms that no
    installed user pays. Compiling here leaves every SDK measured as installed.
    """
    import compileall

    for package in ("cs_sdk", "bench"):
        compileall.compile_dir(str(ROOT / package), quiet=2)


def _child_ms(command: list[str], env: Mapping[str, str], timeout: float) -> float | None:
    """The milliseconds a child printed on its last line; None if it failed."""
    import subprocess  # here, not at the top: the first-event child must not pay for it

    try:
        proc = subprocess.run(
            command, cwd=ROOT, env=dict(env), capture_output=True, text=True, timeout=timeout
        )
    except subprocess.TimeoutExpired:
        return None
    lines = proc.stdout.strip().splitlines()
    if proc.returncode != 0 or not lines:
        return None
    try:
        return float(lines[-1])
    except ValueError:
        return None


def measure(
    sdks: list[str],
    url: str,
    repeat: int,
    env: Mapping[str, str],
    log: Callable[[str], None] = lambda _: None,
) -> dict[str, dict[str, Any]]:
    """SDK -> {"import_ms", "first_event_ms", and the runs}: medians over ``repeat``
    interleaved rounds. An SDK without an import statement (cs_sdk_py: the same import as
    cs_sdk) gets only the first event; a failed child leaves its figure out."""
    import statistics

    compile_as_installed()
    order = [BASELINE, *sdks]
    runs: dict[str, dict[str, list[float]]] = {s: {"import": [], "first": []} for s in order}
    for _ in range(repeat):
        for sdk in order:
            if sdk in IMPORTS:
                code = _IMPORT_CODE.format(statement=IMPORTS[sdk])
                ms = _child_ms([sys.executable, "-c", code], env, 60.0)
                if ms is not None:
                    runs[sdk]["import"].append(ms)
            code = _FIRST_CODE.format(sdk=sdk, url=url)
            ms = _child_ms([sys.executable, "-c", code], env, 60.0)
            if ms is not None:
                runs[sdk]["first"].append(ms)
    base = statistics.median(runs[BASELINE]["first"] or [0.0])
    results: dict[str, dict[str, Any]] = {}
    for sdk in sdks:
        by = runs[sdk]
        result: dict[str, Any] = {"runs": by, "harness_ms": base}
        if by["import"]:
            result["import_ms"] = statistics.median(by["import"])
        if by["first"]:
            result["first_event_ms"] = statistics.median(by["first"]) - base
        log(
            f"[ coldstart] {sdk:<9} "
            + ", ".join(f"{k} {v:.1f}" for k, v in result.items() if k.endswith("_ms"))
        )
        results[sdk] = result
    return results


def first_event(sdk_name: str, url: str, t0: int) -> None:
    """In a fresh interpreter started at ``t0``: import and construct ``sdk_name``, record
    one event, print the milliseconds since ``t0`` and leave (the SDKs' exit hooks would
    flush, which is not part of what is measured)."""
    import os

    from ._peers import ADAPTERS, USERS, LogCounter, properties

    sdk = ADAPTERS[sdk_name](url, LogCounter())
    sdk.record(USERS[0], properties(0))
    print((time.perf_counter_ns() - t0) / 1e6, flush=True)
    os._exit(0)
