"""The one table (rows = metrics, columns = SDKs, then cs_sdk-vs-peer ratios) and RESULTS.md."""

from __future__ import annotations

import datetime as dt
import os
import platform
from collections.abc import Callable
from dataclasses import dataclass
from importlib import metadata
from typing import Any

# cs_sdk_py: cs_sdk without its C accelerator, as installs without a compiler run it.
SDKS = ("cs_sdk", "cs_sdk_py", "segment", "posthog", "otel", "amplitude")
PEERS = SDKS[2:]
BASELINE = "none"  # the host-impact run without an SDK (bench._peers.NoSdk)
DISTRIBUTIONS = (
    "cs-sdk",
    "segment-analytics-python",
    "posthog",
    "opentelemetry-sdk",
    "opentelemetry-exporter-otlp-proto-http",
    "amplitude-analytics",
    "opentelemetry-proto",
    "protobuf",
    "requests",
    "urllib3",
    "httpx",
)
MB = 1024 * 1024

Results = dict[str, dict[str, dict[str, Any]]]  # sdk -> scenario -> result


@dataclass(frozen=True)
class Row:
    label: str
    scenario: str
    value: Callable[[dict[str, Any]], float | None]
    fmt: str = "{:,.1f}"
    # "cost": lower is better, ratio = peer / cs_sdk; "rate": higher is better,
    # ratio = cs_sdk / peer; None: no ratio (counts, percentages).
    kind: str | None = "cost"
    unbounded: str | None = None  # how to show a None value that means "did not finish"


def _us(ms: float | None) -> float | None:
    return None if ms is None else ms * 1000


def _held(r: dict[str, Any]) -> float:
    return float(r["events"] - r["dropped_reported"])


def _per_held(r: dict[str, Any]) -> float | None:
    held = _held(r)
    return r["peak_growth_bytes"] / held if held > 0 else None


def rows(shutdown_limit: float, down_events: int, trace: bool, host: bool = True) -> list[Row]:
    limit = f">{shutdown_limit:g}"
    table = [
        Row("caller µs/call, median", "latency", lambda r: r["us_median"], "{:,.2f}"),
        Row("caller µs/call, p99", "latency", lambda r: r["us_p99"], "{:,.2f}"),
        Row("caller: slowest batch of 100 calls, ms", "latency", lambda r: r["slowest_batch_ms"]),
        Row(
            "caller µs/call in a burst (sender busy)",
            "throughput",
            lambda r: 1e6 * r["record_s"] / r["events"],
            "{:,.2f}",
        ),
        Row("end-to-end events/s", "throughput", lambda r: r["events_per_s"], "{:,.0f}", "rate"),
        Row("delivered", "throughput", lambda r: r["delivered"], "{:,.0f}", None),
        Row("lost %", "throughput", lambda r: r["lost_pct"], "{:.1f}", None),
        Row("CPU µs / delivered event", "throughput", lambda r: r["cpu_us_per_delivered"]),
        Row("wire bytes / delivered event", "throughput", lambda r: r["wire_bytes_per_event"]),
        Row("events / request", "throughput", lambda r: r["events_per_request"], "{:,.0f}", None),
        Row(
            "burst: peak RSS growth, MB",
            "throughput",
            lambda r: r["peak_growth_bytes"] / MB if "peak_growth_bytes" in r else None,
        ),
    ]
    if host:
        table += [
            Row("host: request latency p50, ms", "host", lambda r: r["p50_ms"], "{:,.2f}", None),
            Row("host: request latency p99, ms", "host", lambda r: r["p99_ms"], "{:,.2f}", None),
            Row(
                "host: p50 overhead vs no SDK, ms",
                "host",
                lambda r: r.get("p50_overhead_ms"),
                "{:,.2f}",
            ),
            Row(
                "host: p99 overhead vs no SDK, ms",
                "host",
                lambda r: r.get("p99_overhead_ms"),
                "{:,.2f}",
            ),
            Row(
                "host: CPU overhead / request, µs",
                "host",
                lambda r: _us(r.get("cpu_overhead_ms_per_request")),
                "{:,.0f}",
            ),
            Row("host: events dropped", "host", lambda r: r["dropped_during"], "{:,.0f}", None),
        ]
    table.append(
        Row(
            f"sink down: peak RSS growth, MB ({down_events:,} events)",
            "down",
            lambda r: r["peak_growth_bytes"] / MB,
        )
    )
    if trace:
        table.append(
            Row(
                "sink down: tracemalloc peak, MB",
                "down-trace",
                lambda r: r["tracemalloc_peak_bytes"] / MB,
            )
        )
    table += [
        Row("sink down: events held (not dropped)", "down", _held, "{:,.0f}", None),
        Row("sink down: peak RSS growth / held event, B", "down", _per_held, "{:,.0f}"),
        Row(
            "sink down: shutdown() s", "down", lambda r: r["shutdown_s"], "{:.2f}", unbounded=limit
        ),
        Row(
            "black-hole endpoint: shutdown() s",
            "hang",
            lambda r: r["shutdown_s"],
            "{:.2f}",
            unbounded=limit,
        ),
        Row("RSS after import + init, MB", "latency", lambda r: r["rss_init_bytes"] / MB),
        Row(
            "GC-tracked objects after import + init",
            "latency",
            lambda r: r["gc_objects_init"],
            "{:,.0f}",
        ),
        Row("background threads started", "latency", lambda r: r["threads"], "{:.0f}", None),
    ]
    return table


def _result(results: Results, sdk: str, scenario: str) -> dict[str, Any] | None:
    """One SDK's result for one scenario; a skip (the SDK failed to import or construct,
    after which the harness runs nothing more of it) stands for all its scenarios."""
    runs = results.get(sdk, {})
    skipped = next((r for r in runs.values() if "skipped" in r), None)
    return skipped or runs.get(scenario)


def _cell(row: Row, result: dict[str, Any] | None) -> tuple[str, float | None, bool]:
    """(text, value, unbounded) for one SDK's cell."""
    if result is None:
        return "n/a", None, False
    if "skipped" in result:
        return "skipped", None, False
    if "error" in result:
        return "error", None, False
    value = row.value(result)
    if value is None:
        if row.unbounded:
            return row.unbounded, None, True
        return "—", None, False
    return row.fmt.format(value), float(value), False


def _ratio(row: Row, ours: float | None, peer: float | None, peer_unbounded: bool) -> str:
    if row.kind is None or ours is None or ours <= 0:
        return ""
    if peer_unbounded and row.unbounded:  # the peer did not finish: a lower bound
        limit = float(row.unbounded.lstrip(">"))
        return f">{limit / ours:,.1f}x"
    if peer is None or peer <= 0:
        return ""
    ratio = peer / ours if row.kind == "cost" else ours / peer
    return f"{ratio:,.1f}x"


def table(
    results: Results,
    table_rows: list[Row],
    extra: tuple[str, Callable[[Row], str]] | None = None,
    first: str = "metric",
) -> str:
    """A Markdown table; it reads as well in a terminal as in RESULTS.md. ``extra``: one more
    column, (header, the cell for a row); ``first``: the first column's header."""
    header = [first, *SDKS, *(f"vs {peer}" for peer in PEERS)]
    header += [extra[0]] if extra else []
    lines = [header]
    for row in table_rows:
        cells = {sdk: _cell(row, _result(results, sdk, row.scenario)) for sdk in SDKS}
        ours = cells["cs_sdk"][1]
        ratios = [_ratio(row, ours, cells[p][1], cells[p][2]) for p in PEERS]
        line = [row.label, *(cells[sdk][0] for sdk in SDKS), *ratios]
        lines.append(line + ([extra[1](row)] if extra else []))
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]

    def fmt(line: list[str]) -> str:
        padded = [
            cell.ljust(widths[i]) if i == 0 else cell.rjust(widths[i])
            for i, cell in enumerate(line)
        ]
        return "| " + " | ".join(padded) + " |"

    separator = "|" + "|".join(
        ":" + "-" * (w + 1) if i == 0 else "-" * (w + 1) + ":" for i, w in enumerate(widths)
    )
    return "\n".join([fmt(lines[0]), separator + "|", *(fmt(line) for line in lines[1:])])


LEGEND = (
    "Ratio columns: how many times cheaper (costs: peer ÷ cs_sdk) or faster (events/s: "
    "cs_sdk ÷ peer) cs_sdk is; above 1x cs_sdk is better, below 1x the peer is. "
    "`>N` = still running when stopped at N seconds."
)


def host_baseline(results: Results) -> str | None:
    """The host-impact baseline in one sentence, or None if it did not run."""
    base = results.get(BASELINE, {}).get("host")
    if not base:
        return None
    if "p50_ms" not in base:
        return f"Host impact, no SDK: {base.get('error', 'no result')}."
    return (
        f"Host impact, no SDK (the baseline of the overhead rows): p50 {base['p50_ms']:.2f} ms, "
        f"p99 {base['p99_ms']:.2f} ms, CPU {base['cpu_ms_per_request']:.2f} ms / request; "
        f"the calibrated work alone, uncontended: {base['work_ms']:.2f} ms."
    )


def machine() -> dict[str, Any]:
    cpu = platform.processor() or "unknown"
    try:
        with open("/proc/cpuinfo") as info:
            for line in info:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "os": f"{platform.system()} {platform.release()}",
    }


def versions() -> dict[str, str]:
    found = {}
    for name in DISTRIBUTIONS:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = "not installed"
    return found


def now() -> str:
    return dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")


METHOD = """\
## How it was measured

Each SDK runs at its defaults, pointed at a loopback sink (`bench/_sink.py`, a keep-alive
HTTP/1.1 server in the parent process that decodes every request and counts the events in
it). Every SDK/scenario pair runs in a fresh interpreter (`bench/_measure.py`). The event is
the same everywhere: a named event for one of 1000 users with 8 properties (3 str, 2 int,
2 float, 1 bool), values varying per event.

- Sink-up metrics are the per-metric median of {repeat} run(s) per SDK{host_runs}, the SDKs
  taking turns; the sink-down ones come from one run.
- **caller µs/call**: {calls:,} calls after 1000 warm-up calls, sink up, background sender
  running; timed in batches of 100 with `perf_counter_ns`, with a {pace_ms:g} ms pause
  after each batch so the sender keeps up (the normal path, not the queue-full one).
  Median and p99 over the batches of the per-call cost, and the slowest batch whole
  (where a full garbage collection landing in the caller shows up); includes building
  the property dict (~0.1 µs, the same for all).
- **caller µs/call in a burst**: the throughput run's recording loop (every call back to
  back while the SDK's sender works on the earlier ones), wall time ÷ events: what a hot
  loop in the application pays, contention for the GIL with the sender included.
- **end-to-end events/s**: {events:,} events recorded as fast as possible, then the
  SDK's flush; events/s = delivered ÷ (last delivery - first call). Lost = never
  received (given up after {timeout:g} s, or after 2 s without a delivery once flush
  returned). CPU = `time.process_time()` of the SDK's process over the same span,
  ÷ delivered (events dropped still cost CPU). Wire bytes = request bytes (headers +
  body) as received by the sink, ÷ delivered. Peak RSS growth = VmHWM (reset just before
  the burst) when the delivery ends, minus RSS before the burst: what the queue and the
  encoding cost in memory while the collector is up (bounded in cs_sdk by
  `max_queue_size` and `max_queue_bytes`; the peers hold less because they drop).
{host}- **sink down**: {down:,} events against a closed loopback port. Peak RSS growth =
  VmHWM (reset through `/proc/self/clear_refs` just before the burst) over the burst,
  1 s after it and the shutdown, minus RSS before the burst; the tracemalloc peak is a
  separate run (tracemalloc's own overhead would distort RSS). Held = events not
  dropped at record time. `shutdown()` is the SDK's own final-delivery call (cs_sdk:
  `shutdown(timeout=1.0)`; the peers' take no budget), stopped after {limit:g} s.
- **black-hole endpoint**: {hang:,} events against a loopback port that accepts
  connections and never answers (a hung collector or load balancer), 1 s for the first
  send to hang, then the same `shutdown()`, stopped after {limit:g} s.
- SDK log records (e.g. one "queue is full" warning per dropped event) go to a counting
  handler instead of stderr.
"""

HOST_METHOD = """\
- **host impact**: a simulated request handler. Each request does {slices} slices of
  pure-Python CPU work (an integer loop, no allocation; calibrated once per benchmark, in
  the parent before anything else runs, to {slice_iters:,} iterations ≈ {slice_us} µs per
  slice, the same in every run) and records one event after each slice: {slices} events
  per request, numbered by request, so every SDK gets the same events. {host_threads}
  handler threads serve {requests:,} timed requests, after {host_warm} untimed ones (and
  200 warm-up events plus a flush, so the connection is open), arriving open-loop as a
  Poisson process at {host_rate:g} requests/s, the same seeded schedule in every run:
  ~{load:.0%} of one core in handler CPU, loaded but not saturated (the GIL keeps the
  handlers on one core; the sink has the other). The next free thread takes the next
  request; its latency runs from its scheduled arrival to the end of its work
  (`perf_counter_ns`), so time spent queued behind a slow request counts (no coordinated
  omission). Sink up, the SDK's sender running at its defaults. The baseline ("no SDK") is
  the same run in a fresh interpreter with `record` a no-op (the property dicts still
  built), taking its turn before the SDKs in each of {host_repeat} repetition(s). p50/p99:
  inclusive quantiles over one run's timed requests, then the median over the runs;
  overhead = the SDK's median minus the baseline's. CPU overhead = the process's CPU time
  (handlers and sender) per request, minus the baseline's. Dropped = events the SDK
  dropped at record time during the run.
"""

CONFIG = """\
## SDK defaults in play (as measured)

- **cs_sdk**: OTLP protobuf, gzip, `POST /v1/logs`; queue 100 000, batches of up to 2048
  or every 1 s; the C accelerator built by `pip install` (`milestone()` and the protobuf
  writer's flat dicts). **cs_sdk_py**: the same with `speedups=False`, the pure-Python
  path of an install without a compiler. The ratio columns compare the peers with cs_sdk.
- **segment**: JSON, no gzip, `POST /v1/batch`; one consumer thread, queue 10 000 (drops
  the *new* event when full, one warning each), batches of 100 or every 0.5 s.
- **posthog**: JSON, no gzip, `POST /batch/` (capture v0, the default); queue 10 000
  (drops the new event), batches of 100, flush_interval 5 s; no feature-flag polling
  without a secret key, `disable_geoip=True` by default.
- **otel**: OTLP protobuf, no compression, `POST /v1/logs`; `BatchLogRecordProcessor`
  queue 2048 (drops the *oldest* record; logs only the first drop), batches of 512 or
  every 1 s.
- **amplitude**: JSON, no gzip, `POST /2/httpapi` (HTTP V2 API); batches of 200 or every
  10 s, sent by a pool of up to 16 threads, a new connection (urllib) per request; its
  buffer has no bound for new events (never drops at record time; retries stop at 20,000).

Reading the burst numbers: while the caller records flat out, a peer's single sender
thread gets the GIL back only at the 5 ms switch interval after each socket operation, so
it delivers far below its idle capacity and its bounded queue overflows. How that falls is
bimodal from run to run (Segment has lost anywhere from 0 % to ~75 % of a 100k burst on
this machine), hence the median of several runs.
"""


def markdown(
    results: Results,
    table_rows: list[Row],
    meta: dict[str, Any],
    plan: dict[str, Any],
    notes: list[str],
    shapes: tuple[str, str] = ("", ""),
) -> str:
    """The whole cs_sdk-vs-peers section; ``shapes``: (the realistic mix and the shapes'
    tables, put first; how they were measured, put after the main method)."""
    m = meta["machine"]
    version_list = ", ".join(f"{k} {v}" for k, v in meta["versions"].items())
    parts = [
        "# cs_sdk vs peers: benchmark results",
        "",
        f"- Command: `{meta['command']}`",
        f"- Date: {meta['date']}; code measured: {meta.get('code', 'not recorded')}",
        f"- Machine: {m['cpu']}, {m['cores']} cores, {m['os']}, "
        f"{m['implementation']} {m['python']}",
        f"- Versions: {version_list}",
        f"- Wall time of the run: {meta['wall_s'] / 60:.1f} min; other processes used "
        f"{meta.get('foreign_cpu_cores', 0):.2f} of the {m['cores']} cores on average",
        "",
    ]
    if shapes[0]:
        parts += [shapes[0], "", "## The flat event (8 scalar properties), every scenario", ""]
    parts += [
        table(results, table_rows),
        "",
        LEGEND,
        "",
    ]
    host = ""
    if plan.get("requests"):
        baseline = host_baseline(results)
        if baseline:
            parts += [baseline, ""]
        load = plan["host_rate"] * plan["slices"] * plan["slice_us"] / 1e6
        host = HOST_METHOD.format(load=load, **plan)
    if notes:
        parts += ["## Notes from this run", "", *(f"- {note}" for note in notes), ""]
    host_runs = f" ({plan['host_repeat']} for host impact)" if host else ""
    parts += [METHOD.format(host=host, host_runs=host_runs, **plan)]
    parts += [shapes[1], CONFIG] if shapes[1] else [CONFIG]
    return "\n".join(parts)
