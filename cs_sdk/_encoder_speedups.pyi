from typing import Any

def encode_pairs(values: dict[str, Any], tag: bytes, depth: int, /) -> bytes | None: ...
def encode_log_record(
    time_unix_nano: int,
    severity: bytes,
    body: dict[str, Any] | None,
    head: bytes,
    attributes: dict[str, Any],
    flags: int,
    trace_id: bytes,
    span_id: bytes,
    event_name: bytes,
    /,
) -> bytes | None: ...
