"""OTLP request encoders: the ``Encoder`` interface the worker uses, and the factory.

    encoder = make_encoder("http/protobuf", scope)
    fragments = [encoder.encode_record(record) for record in records]
    post(encoder.encode_request(fragments), content_type=encoder.content_type)

Batches are cut by encoded size, so the worker encodes each record on its own into a
fragment as it arrives, sums fragment sizes, and assembles a request from the fragments it
has when a cut is due; the shared resource and scope are written once per request.

``ProtobufEncoder`` (``_protobuf.py``) writes the protobuf wire format directly;
``JsonEncoder`` (``_json.py``) writes OTLP/JSON. Both read the same ``OtlpLogRecord``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal, Protocol

from .._record import EventRecord
from ._json import JsonEncoder
from ._otlp_types import OtlpLogRecord, OtlpScope
from ._protobuf import ProtobufEncoder

__all__ = ["Encoder", "JsonEncoder", "ProtobufEncoder", "make_encoder"]


class Encoder(Protocol):
    """Turns log records into ExportLogsServiceRequest bodies, one record at a time."""

    content_type: str
    """The request's Content-Type: ``application/x-protobuf`` or ``application/json``."""

    def encode_record(self, record: OtlpLogRecord) -> bytes:
        """One record's fragment; its length is what the record adds to a request."""
        ...

    def encode_event(self, record: EventRecord) -> bytes:
        """``encode_record(to_otlp(record))``, possibly in one pass: the worker's path."""
        ...

    def encode_request(self, fragments: Sequence[bytes]) -> bytes:
        """A full ExportLogsServiceRequest body holding ``fragments``, in order."""
        ...


def make_encoder(
    protocol: Literal["http/protobuf", "http/json"], scope: OtlpScope, *, accelerated: bool = True
) -> Encoder:
    """The encoder for an OTLP/HTTP protocol (``OTEL_EXPORTER_OTLP_LOGS_PROTOCOL`` values);
    ``accelerated=False`` keeps the protobuf writer off the C accelerator.

    Example:
        >>> make_encoder("http/json", OtlpScope()).content_type
        'application/json'
    """
    if protocol == "http/json":
        return JsonEncoder(scope)
    return ProtobufEncoder(scope, accelerated=accelerated)
