"""``cs-sdk collector``: a local OTLP/HTTP logs receiver that prints and stores what arrives.

    from cs_sdk.collector import FaultPlan, LocalCollector, Status

    plan = FaultPlan().add(Status(503, retry_after="1"))
    with LocalCollector(db="events.db", faults=plan) as collector:
        client = cs_sdk.Client(endpoint=collector.endpoint)
        ...
        assert collector.wait_for(10, timeout=5)
        [record.name for record in collector.records]

Parts: ``_handler`` (HTTP), ``_decode`` (OTLP protobuf/JSON), ``_store`` (SQLite),
``_printer`` (terminal lines), ``_faults`` (scripted failures), ``_server`` (lifecycle),
``_io`` (sockets, deadlines, connection bounds), ``_limits`` (what a sender may ask for).
"""

from ._decode import (
    DecodeError,
    ReceivedRecord,
    TooLarge,
    UnsupportedMediaType,
    decode_export_request,
)
from ._faults import (
    BlackHole,
    Fault,
    FaultPlan,
    PartialSuccess,
    Refuse,
    ResetMidBody,
    Slow,
    Status,
)
from ._limits import Limits
from ._printer import Printer, escape, format_record
from ._server import LocalCollector, RequestInfo, is_loopback
from ._store import SqliteStore

__all__ = [
    "BlackHole",
    "DecodeError",
    "Fault",
    "FaultPlan",
    "Limits",
    "LocalCollector",
    "PartialSuccess",
    "Printer",
    "ReceivedRecord",
    "Refuse",
    "RequestInfo",
    "ResetMidBody",
    "Slow",
    "SqliteStore",
    "Status",
    "TooLarge",
    "UnsupportedMediaType",
    "decode_export_request",
    "escape",
    "format_record",
    "is_loopback",
]
