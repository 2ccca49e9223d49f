"""The neutral, already-mapped form of one OTLP log record.

The mapping step (event record -> ``OtlpLogRecord``) decides *what* goes on the wire;
the encoders (protobuf, JSON) decide only *how*. Both encoders and the test helpers
read this one type, so the wire formats cannot drift apart.

Attribute values are plain Python values and map to OTLP ``AnyValue`` as follows:
``None`` -> empty AnyValue, ``bool`` -> bool_value, ``int`` -> int_value (64-bit),
``float`` -> double_value, ``str`` -> string_value, ``bytes`` -> bytes_value,
``list``/``tuple`` -> array_value, ``dict`` (str keys) -> kvlist_value.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Union

AttributeValue = Union[  # noqa: UP007 (a recursive alias needs the string forward references)
    None,
    bool,
    int,
    float,
    str,
    bytes,
    Sequence["AttributeValue"],
    Mapping[str, "AttributeValue"],
]

SEVERITY_INFO = 9


@dataclass(slots=True)
class OtlpLogRecord:
    """One LogRecord, ready to encode."""

    time_unix_nano: int
    observed_time_unix_nano: int
    event_name: str
    attributes: dict[str, AttributeValue]
    body: AttributeValue = None
    trace_id: bytes = b""  # 16 bytes when set
    span_id: bytes = b""  # 8 bytes when set
    flags: int = 0
    severity_number: int = SEVERITY_INFO
    severity_text: str = "INFO"


@dataclass(frozen=True, slots=True)
class OtlpScope:
    """Resource and instrumentation scope shared by every record of one client."""

    resource_attributes: dict[str, AttributeValue] = field(default_factory=dict)
    scope_name: str = "cs_sdk"
    scope_version: str = ""
