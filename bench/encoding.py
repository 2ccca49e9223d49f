"""python -m bench.encoding [--records N] [--repeat N] [--in-span F] [--json PATH]

Run from the repository root. Measures what one export batch costs the worker to encode and
compress, in one process, on one set of records: ``--records`` (default 2048, a full batch)
milestone events as ``Client.milestone`` records them, each with the 8 varied properties of
``bench._peers.properties(i)``, a user from ``bench._peers.USERS`` and, for a share
``--in-span`` of them (default 0.5), an active span's (random) trace and span id, mapped to
OTLP with ``cs_sdk._export._mapping.to_otlp`` for (a) to (c).

Encoders, in microseconds per record for the whole request body (median of ``--repeat`` runs,
interleaved so that drift on the machine spreads over all of them evenly):

(a) opentelemetry-proto message objects: a LogRecord with KeyValue/AnyValue per record, one
    ExportLogsServiceRequest, ``SerializeToString()`` -- what an exporter built on the
    generated classes does (the opentelemetry-sdk exporter works this way);
(b) cs_sdk's ``ProtobufEncoder``: ``encode_record`` per record, then ``encode_request``,
    with the encoder's caches warm as in the long-lived worker (and, for reference, with a
    fresh encoder per batch, and without the C accelerator's loop over flat dicts);
(c) cs_sdk's ``JsonEncoder`` (OTLP/JSON), the same way;
(d) the worker's whole step from event record to bytes, mapping (``to_otlp``) included, as
    two steps; (e) the same in one pass, as the worker runs it (``encode_event``).

(a) and (b) are checked to produce identical bytes. The ratio (a)/(b) is printed against its
target of 3x. Then gzip at zlib levels 1, 3, 6 and 9 on both encoded batches: compression
time per record and compressed bytes per record, next to ``GZIP_LEVEL`` of
``cs_sdk/_export/_exporter.py``. A run takes ~5 s; ``--json PATH`` writes every sample.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import random
import statistics
import sys
import time
import zlib
from collections.abc import Callable, Sequence
from importlib import metadata
from pathlib import Path
from typing import Any

from google.protobuf.internal import api_implementation
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import (
    AnyValue,
    ArrayValue,
    InstrumentationScope,
    KeyValue,
    KeyValueList,
)
from opentelemetry.proto.logs.v1.logs_pb2 import LogRecord, ResourceLogs, ScopeLogs
from opentelemetry.proto.resource.v1.resource_pb2 import Resource

import cs_sdk
from cs_sdk._export._exporter import GZIP_LEVEL, gzip_compress
from cs_sdk._export._json import JsonEncoder
from cs_sdk._export._mapping import build_scope, to_otlp
from cs_sdk._export._otlp_types import OtlpLogRecord, OtlpScope
from cs_sdk._export._protobuf import ProtobufEncoder
from cs_sdk._record import EventRecord
from cs_sdk._validate import check_properties_sized
from cs_sdk.events._builtin import MILESTONE

from ._peers import EVENT, USERS, properties

LEVELS = (1, 3, 6, 9)
TARGET = 3.0  # (a)/(b): the hand-written writer must be at least this many times faster


# -- the records -------------------------------------------------------------------------------


def make_records(n: int, in_span: float, seed: int = 2048) -> list[OtlpLogRecord]:
    """``make_events``, mapped to OTLP as the two-step path maps them."""
    return [to_otlp(event) for event in make_events(n, in_span, seed)]


def make_events(n: int, in_span: float, seed: int = 2048) -> list[EventRecord]:
    """``n`` milestone event records, built as ``Client._emit`` and the worker build them;
    a share ``in_span`` of them recorded inside a span (random, incompressible ids)."""
    rng = random.Random(seed)
    id_prefix = rng.randbytes(8).hex()
    start = 1_763_980_000_000_000_000
    records = []
    for i in range(n):
        traced = rng.random() < in_span
        event = EventRecord(
            f"{id_prefix}{i:016x}",
            start + i * rng.randint(1_000, 2_000_000),
            MILESTONE,
            EVENT,
            check_properties_sized(properties(i))[0],
            None,
            rng.choice(USERS),
            None,
            None,
            rng.getrandbits(128) if traced else 0,
            rng.getrandbits(64) if traced else 0,
            1 if traced else 0,
        )
        records.append(event)
    return records


# -- (a): opentelemetry-proto message objects --------------------------------------------------


def _any_value(value: Any) -> AnyValue:
    """The plain type-dispatch an exporter on the generated classes does (no int64 range or
    surrogate handling, which only makes it cheaper than what cs_sdk does)."""
    kind = type(value)
    if kind is str:
        return AnyValue(string_value=value)
    if kind is bool:
        return AnyValue(bool_value=value)
    if kind is int:
        return AnyValue(int_value=value)
    if kind is float:
        return AnyValue(double_value=value)
    if kind is dict:
        return AnyValue(kvlist_value=KeyValueList(values=_key_values(value)))
    if kind is list or kind is tuple:
        return AnyValue(array_value=ArrayValue(values=[_any_value(v) for v in value]))
    if value is None:
        return AnyValue()
    if kind is bytes:
        return AnyValue(bytes_value=value)
    return AnyValue(string_value=str(value))


def _key_values(values: dict[str, Any]) -> list[KeyValue]:
    return [KeyValue(key=key, value=_any_value(value)) for key, value in values.items()]


def _log_record(record: OtlpLogRecord) -> LogRecord:
    fields: dict[str, Any] = {
        "time_unix_nano": record.time_unix_nano,
        "observed_time_unix_nano": record.observed_time_unix_nano,
        "severity_number": record.severity_number,
        "severity_text": record.severity_text,
        "attributes": _key_values(record.attributes),
        "flags": record.flags,
        "trace_id": record.trace_id,
        "span_id": record.span_id,
        "event_name": record.event_name,
    }
    if record.body is not None:
        fields["body"] = _any_value(record.body)
    return LogRecord(**fields)


def opentelemetry_proto_request(scope: OtlpScope, records: Sequence[OtlpLogRecord]) -> bytes:
    scope_logs = ScopeLogs(
        scope=InstrumentationScope(name=scope.scope_name, version=scope.scope_version),
        log_records=[_log_record(r) for r in records],
    )
    resource = Resource(attributes=_key_values(scope.resource_attributes))
    request = ExportLogsServiceRequest(
        resource_logs=[ResourceLogs(resource=resource, scope_logs=[scope_logs])]
    )
    return bytes(request.SerializeToString())


# -- timing ------------------------------------------------------------------------------------


def timed(fn: Callable[[], object]) -> float:
    """Seconds one call of ``fn`` takes, from a collected heap (the call's own GC included)."""
    gc.collect()
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def measure(
    cases: dict[str, Callable[[], object]], repeat: int, per: int
) -> dict[str, list[float]]:
    """µs per ``per`` items for each case, ``repeat`` times, the cases interleaved."""
    for fn in cases.values():
        fn()  # warm-up: caches filled, code paths specialised
    samples: dict[str, list[float]] = {name: [] for name in cases}
    for _ in range(repeat):
        for name, fn in cases.items():
            samples[name].append(timed(fn) * 1e6 / per)
    return samples


def versions() -> dict[str, str]:
    found = {platform.python_implementation(): platform.python_version()}
    for name in ("protobuf", "opentelemetry-proto"):
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = "?"
    found["protobuf"] += f" ({api_implementation.Type()})"
    found["cs-sdk"] = cs_sdk.__version__
    found["zlib"] = zlib.ZLIB_RUNTIME_VERSION
    return found


# -- the run -----------------------------------------------------------------------------------


def run(n: int, repeat: int, in_span: float) -> dict[str, Any]:
    events = make_events(n, in_span)
    records = [to_otlp(event) for event in events]
    scope = build_scope({"service.name": "bench"}, cs_sdk.__version__)
    protobuf = ProtobufEncoder(scope)
    python_only = ProtobufEncoder(scope, accelerated=False)
    json_encoder = JsonEncoder(scope)

    def cs_protobuf() -> bytes:
        encode = protobuf.encode_record
        return protobuf.encode_request([encode(r) for r in records])

    def cs_protobuf_python() -> bytes:
        encode = python_only.encode_record
        return python_only.encode_request([encode(r) for r in records])

    def cs_protobuf_fresh() -> bytes:
        encoder = ProtobufEncoder(scope)
        encode = encoder.encode_record
        return encoder.encode_request([encode(r) for r in records])

    def worker_two_steps() -> bytes:
        encode = protobuf.encode_record
        return protobuf.encode_request([encode(to_otlp(e)) for e in events])

    def worker_one_pass() -> bytes:
        encode = protobuf.encode_event
        return protobuf.encode_request([encode(e) for e in events])

    def worker_one_pass_python() -> bytes:
        encode = python_only.encode_event
        return python_only.encode_request([encode(e) for e in events])

    def cs_json() -> bytes:
        encode = json_encoder.encode_record
        return json_encoder.encode_request([encode(r) for r in records])

    reference = opentelemetry_proto_request(scope, records)
    bodies = {"protobuf": cs_protobuf(), "json": cs_json()}
    if bodies["protobuf"] != reference or cs_protobuf_fresh() != reference:
        raise SystemExit("ProtobufEncoder and SerializeToString() disagree on these records")
    for same in (cs_protobuf_python, worker_one_pass, worker_one_pass_python):
        if same() != reference:
            raise SystemExit(f"{same.__name__} and SerializeToString() disagree on these records")

    encoders = {
        "(a) opentelemetry-proto messages": (lambda: opentelemetry_proto_request(scope, records)),
        "(b) cs_sdk ProtobufEncoder": cs_protobuf,
        "    fresh encoder per batch": cs_protobuf_fresh,
        "    (b) in pure Python": cs_protobuf_python,
        "(c) cs_sdk JsonEncoder": cs_json,
        "(d) worker: to_otlp + encode_record": worker_two_steps,
        "(e) worker: encode_event (one pass)": worker_one_pass,
        "    (e) in pure Python": worker_one_pass_python,
    }
    sizes = {name: len(reference if "(c)" not in name else bodies["json"]) for name in encoders}
    encode_samples = measure(encoders, repeat, n)

    gzip_cases = {
        f"{kind} {level}": (lambda body=body, level=level: gzip_compress(body, level))
        for kind, body in bodies.items()
        for level in LEVELS
    }
    gzip_samples = measure(gzip_cases, repeat, n)

    result: dict[str, Any] = {
        "records": n,
        "repeat": repeat,
        "in_span": in_span,
        "versions": versions(),
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, {platform.system()}",
        "identical_bytes": True,
        "encoders": {
            name: {
                "us_per_record": statistics.median(encode_samples[name]),
                "bytes_per_record": sizes[name] / n,
                "samples_us_per_record": encode_samples[name],
            }
            for name in encoders
        },
        "gzip_level": GZIP_LEVEL,
        "gzip": {kind: {} for kind in bodies},
    }
    medians = {name: e["us_per_record"] for name, e in result["encoders"].items()}
    baseline = medians["(a) opentelemetry-proto messages"]
    result["ratio_a_over_b"] = baseline / medians["(b) cs_sdk ProtobufEncoder"]
    result["ratio_a_over_b_python"] = baseline / medians["    (b) in pure Python"]
    for kind, body in bodies.items():
        for level in LEVELS:
            compressed = len(gzip_compress(body, level))
            samples = gzip_samples[f"{kind} {level}"]
            result["gzip"][kind][str(level)] = {
                "us_per_record": statistics.median(samples),
                "bytes_per_record": compressed / n,
                "ratio": len(body) / compressed,
                "samples_us_per_record": samples,
            }
    return result


def report(result: dict[str, Any]) -> str:
    n, repeat, in_span = result["records"], result["repeat"], result["in_span"]
    lines = [
        f"cs_sdk encoding: a batch of {n} milestone records ({in_span:.0%} in a span), "
        f"median of {repeat} runs",
        ", ".join(f"{k} {v}" for k, v in result["versions"].items()) + f"; {result['machine']}",
        "",
        f"{'encoder':<34} {'µs/record':>10} {'bytes/record':>13} {'vs (a)':>7}",
    ]
    encoders = result["encoders"]
    baseline = encoders["(a) opentelemetry-proto messages"]["us_per_record"]
    for name, e in encoders.items():
        us = e["us_per_record"]
        lines.append(
            f"{name:<34} {us:>10.2f} {e['bytes_per_record']:>13.1f} {baseline / us:>6.1f}x"
        )
    ratio, python = result["ratio_a_over_b"], result["ratio_a_over_b_python"]
    verdict = "met" if min(ratio, python) >= TARGET else "NOT MET"
    lines += [
        f"(a)/(b) = {ratio:.1f}x, {python:.1f}x in pure Python (target >= {TARGET:.0f}x: "
        f"{verdict}); every cs_sdk protobuf body is byte-identical to (a)",
        "",
        f"gzip of the encoded batch (zlib, gzip container); GZIP_LEVEL = {result['gzip_level']}",
        f"{'level':<7}"
        + "".join(
            f"{kind + ' µs/rec':>16} {'bytes/rec':>10} {'ratio':>6}" for kind in result["gzip"]
        ),
    ]
    for level in LEVELS:
        mark = " *" if level == result["gzip_level"] else ""
        row = f"{str(level) + mark:<7}"
        for levels in result["gzip"].values():
            g = levels[str(level)]
            row += f"{g['us_per_record']:>16.2f} {g['bytes_per_record']:>10.1f} {g['ratio']:>5.1f}x"
        lines.append(row)
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.encoding",
        description="OTLP encoders and gzip levels, µs and bytes per record",
    )
    parser.add_argument("--records", type=int, default=2048, help="records per batch")
    parser.add_argument("--repeat", type=int, default=11, help="timed runs, median taken")
    parser.add_argument(
        "--in-span", type=float, default=0.5, help="share of records with trace and span ids"
    )
    parser.add_argument("--json", type=Path, metavar="PATH", help="write the raw numbers here")
    args = parser.parse_args(argv)
    result = run(args.records, args.repeat, args.in_span)
    print(report(result))
    if args.json is not None:
        args.json.write_text(json.dumps(result, indent=2) + "\n")
        print(f"\nraw numbers: {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
