"""``cs-sdk collector``: a local OTLP/HTTP logs receiver that prints and stores what arrives."""

from ._decode import DecodeError, ReceivedRecord, UnsupportedMediaType, decode_export_request
from ._faults import BlackHole, FaultPlan, PartialSuccess, Refuse, ResetMidBody, Slow, Status
from ._printer import Printer, format_record
from ._server import LocalCollector, RequestInfo
from ._store import SqliteStore

__all__ = [
    "BlackHole",
    "DecodeError",
    "FaultPlan",
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
    "UnsupportedMediaType",
    "decode_export_request",
    "format_record",
]
