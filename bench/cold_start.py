"""python -m bench.cold_start [--repeat N] [--sdk NAME ...] [--json PATH]

What a cold start costs with each SDK: a fresh interpreter imports the SDK, then builds a
client and records one event (the 8-property event of ``_peers.properties``). Each run is a
new process; the SDKs take turns within each round, so the machine's load falls on all of
them alike, and every figure is the median over ``--repeat`` rounds (default 11).

Per SDK:

* ``process_ms``: wall time of ``python -c "<import>"`` as a shell sees it, interpreter start
  included (``bare`` is ``python -c pass``, the floor every row shares);
* ``import_ms``: the import statement alone, timed inside the process;
* ``init_event_ms``: building the client (``cs_sdk.init()``) plus the first recorded event,
  timed inside the process after the import;
* ``cold_ms``: ``import_ms + init_event_ms``, what a CLI or serverless function pays before
  its first event is on its way;
* ``import_modules`` / ``cold_modules``: the modules the import loads, and the import plus
  the first event: a figure the machine's load does not move.

After the timed part each process flushes to the loopback sink of this process and shuts
down; ``delivered`` says whether its event arrived (a start that loses its event would not
be a fair row). cs_sdk runs its C accelerator, as installed; every SDK is measured as
installed alone (bytecode compiled, without the packages only the project's test tools
bring: ``bench/_coldstart_peers.py``). Peers missing from the
environment (the bench extra; ``amplitude-analytics`` is not in it) are skipped and listed.
``python -m bench``'s own cold-start rows come from ``bench/_coldstart_peers.py``; this
script adds the process wall time and the modules each start loads.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ._coldstart_peers import HIDE_DEV_TOOLS, compile_as_installed
from ._peers import EVENT, properties
from ._sink import Sink

# (module that must be installed, import statement, build + first event, flush + shutdown).
# URL, PROPS and EVENT are defined before these run; each snippet is the SDK's documented
# quick start, at its defaults, pointed at the loopback sink.
SDKS: dict[str, tuple[str, str, str, str]] = {
    "cs_sdk": (
        "cs_sdk",
        "import cs_sdk",
        "cs_sdk.init(service_name='bench', endpoint=URL)\n"
        "cs_sdk.milestone(EVENT, user_id='u1', properties=PROPS)",
        "cs_sdk.shutdown(timeout=10)",
    ),
    "segment": (
        "segment.analytics",
        "from segment.analytics import Client",
        "client = Client('bench-write-key', host=URL)\nclient.track('u1', EVENT, PROPS)",
        "client.flush()\nclient.shutdown()",
    ),
    "posthog": (
        "posthog",
        "from posthog import Posthog",
        "client = Posthog('phc_bench', host=URL)\n"
        "client.capture(EVENT, distinct_id='u1', properties=PROPS)",
        "client.shutdown()",
    ),
    "otel": (
        "opentelemetry.exporter.otlp.proto.http",
        "from opentelemetry._logs import SeverityNumber\n"
        "from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter\n"
        "from opentelemetry.sdk._logs import LoggerProvider\n"
        "from opentelemetry.sdk._logs.export import BatchLogRecordProcessor\n"
        "from opentelemetry.sdk.resources import Resource",
        "provider = LoggerProvider(resource=Resource.create({'service.name': 'bench'}))\n"
        "provider.add_log_record_processor(\n"
        "    BatchLogRecordProcessor(OTLPLogExporter(endpoint=URL + '/v1/logs'))\n"
        ")\n"
        "provider.get_logger('bench').emit(\n"
        "    event_name=EVENT, severity_number=SeverityNumber.INFO,\n"
        "    attributes={'user.id': 'u1', **PROPS},\n"
        ")",
        "provider.shutdown()",
    ),
    "amplitude": (
        "amplitude",
        "from amplitude import Amplitude, BaseEvent, Config",
        "client = Amplitude('bench-key', Config(server_url=URL + '/2/httpapi'))\n"
        "client.track(BaseEvent(event_type=EVENT, user_id='u1', event_properties=PROPS))",
        "client.shutdown()",
    ),
}

_CHILD = """\
import sys as _sys, time as _time
_m0 = len(_sys.modules)
_t0 = _time.perf_counter()
{imports}
_t1 = _time.perf_counter()
_m1 = len(_sys.modules)
URL, EVENT, PROPS = {url!r}, {event!r}, {props!r}
{first}
_t2 = _time.perf_counter()
_m2 = len(_sys.modules)
{done}
print("cold-start", (_t1 - _t0) * 1e3, (_t2 - _t1) * 1e3, _m1 - _m0, _m2 - _m0)
"""


def _run(code: str, timeout: float = 120.0) -> tuple[float, str]:
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", f"{HIDE_DEV_TOOLS}\n{code}"],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    wall = (time.perf_counter() - start) * 1e3
    if done.returncode != 0:
        raise RuntimeError(f"a cold-start child failed:\n{done.stderr[-2000:]}")
    return wall, done.stdout


def available(names: Sequence[str]) -> tuple[list[str], list[str]]:
    """(installed, missing) among ``names``."""
    present, missing = [], []
    for name in names:
        module = SDKS[name][0]
        try:
            found = importlib.util.find_spec(module) is not None
        except ModuleNotFoundError:
            found = False
        (present if found else missing).append(name)
    return present, missing


def measure(repeat: int = 11, sdks: Sequence[str] = tuple(SDKS)) -> dict[str, Any]:
    """Medians over ``repeat`` rounds of fresh processes; see the module docstring."""
    compile_as_installed()  # every SDK measured with its bytecode written, as installed
    names, missing = available(sdks)
    samples: dict[str, dict[str, list[float]]] = {
        name: {"process_ms": [], "import_ms": [], "init_event_ms": []} for name in names
    }
    bare: list[float] = []
    delivered = {name: True for name in names}
    modules: dict[str, list[int]] = {}
    with Sink() as sink:  # the bench's loopback sink: it reads every SDK's format
        for _ in range(repeat):
            bare.append(_run("pass")[0])
            for name in names:
                _, imports, first, done = SDKS[name]
                samples[name]["process_ms"].append(_run(imports)[0])
                code = _CHILD.format(
                    imports=imports, url=sink.url, event=EVENT, props=properties(1),
                    first=first, done=done,
                )  # fmt: skip
                sink.reset()
                _, out = _run(code)
                line = next(x for x in out.splitlines() if x.startswith("cold-start "))
                imported, started, *loaded = (float(x) for x in line.split()[1:])
                samples[name]["import_ms"].append(imported)
                samples[name]["init_event_ms"].append(started)
                modules[name] = [int(n) for n in loaded]
                delivered[name] = delivered[name] and sink.snapshot()["events"] > 0
    results: dict[str, Any] = {"bare_process_ms": statistics.median(bare)}
    for name in names:
        row = {key: statistics.median(values) for key, values in samples[name].items()}
        row["cold_ms"] = row["import_ms"] + row["init_event_ms"]
        row["delivered"] = delivered[name]
        row["import_modules"], row["cold_modules"] = modules[name]
        results[name] = row
    return {"repeat": repeat, "results": results, "missing": missing}


def table(measured: dict[str, Any]) -> str:
    results = measured["results"]
    lines = [
        f"Cold start, median of {measured['repeat']} fresh processes per figure (ms); "
        f"a bare `python -c pass` took {results['bare_process_ms']:.0f} ms.",
        "",
        "| SDK | `python -c <import>` | import | init + first event | import + init + event "
        "| modules: import / + init + event | event delivered |",
        "|---|---:|---:|---:|---:|---:|---|",
    ]
    for name, row in results.items():
        if name == "bare_process_ms":
            continue
        lines.append(
            f"| {name} | {row['process_ms']:.0f} | {row['import_ms']:.1f} | "
            f"{row['init_event_ms']:.1f} | {row['cold_ms']:.1f} | "
            f"{row['import_modules']} / {row['cold_modules']} | "
            f"{'yes' if row['delivered'] else 'NO'} |"
        )
    if measured["missing"]:
        lines += ["", f"Not installed, skipped: {', '.join(measured['missing'])}."]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.cold_start", description=__doc__)
    parser.add_argument("--repeat", type=int, default=11, help="rounds (default 11)")
    parser.add_argument("--sdk", action="append", choices=sorted(SDKS), help="default: all")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args(argv)
    measured = measure(args.repeat, args.sdk or tuple(SDKS))
    print(table(measured))
    if args.json:
        args.json.write_text(json.dumps(measured, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
