"""The bytes the collector answers with: whole HTTP responses, google.rpc.Status bodies and
ExportLogsServiceResponse bodies, in the request's format (protobuf or JSON).

    head_and_body = compose(200, *export_response(0, "", as_json=False))
    handler.wfile.write(head_and_body)   # one write per response

A response is always one bytes object because one ``write`` is one ``send``: headers and body
sent apart on a keep-alive connection meet Nagle's algorithm and the client's delayed ACK, and
each request then stalls ~40 ms.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from http import HTTPStatus
from typing import Final

from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceResponse

PROTOBUF: Final = "application/x-protobuf"
JSON: Final = "application/json"

# google.rpc.Code for the HTTP statuses the collector answers with (the OTLP/HTTP spec asks
# for a Status body on every failure; clients log its message).
_RPC_CODES: Final[Mapping[int, int]] = {
    400: 3,  # INVALID_ARGUMENT
    401: 16,  # UNAUTHENTICATED
    403: 7,  # PERMISSION_DENIED
    404: 5,  # NOT_FOUND
    405: 12,  # UNIMPLEMENTED
    408: 4,  # DEADLINE_EXCEEDED
    413: 8,  # RESOURCE_EXHAUSTED
    415: 3,  # INVALID_ARGUMENT
    429: 8,  # RESOURCE_EXHAUSTED
    431: 8,  # RESOURCE_EXHAUSTED
    500: 13,  # INTERNAL
    501: 12,  # UNIMPLEMENTED
    502: 14,  # UNAVAILABLE
    503: 14,  # UNAVAILABLE
    504: 4,  # DEADLINE_EXCEEDED
}


def is_json(content_type: str | None) -> bool:
    """Whether a Content-Type is OTLP/JSON (parameters such as ``charset`` ignored)."""
    return (content_type or "").split(";", 1)[0].strip().lower() == JSON


def compose(
    status: int,
    body: bytes = b"",
    content_type: str = "text/plain",
    headers: Mapping[str, str] | None = None,
    *,
    close: bool = False,
    head_only: bool = False,
) -> bytes:
    """Status line, headers and body as one bytes object, for a single ``write``
    (``head_only``: the answer to a HEAD request, which has the headers only)."""
    try:
        reason = HTTPStatus(status).phrase
    except ValueError:  # a scripted fault may use any code
        reason = "Status"
    lines = [
        f"HTTP/1.1 {status} {reason}",
        f"Content-Type: {content_type}",
        f"Content-Length: {len(body)}",
    ]
    lines.extend(f"{name}: {value}" for name, value in (headers or {}).items())
    if close:
        lines.append("Connection: close")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + (b"" if head_only else body)


def rpc_status(code: int, message: str) -> bytes:
    """A google.rpc.Status protobuf: field 1 ``code`` (varint), field 2 ``message`` (string).

    Encoded by hand because googleapis-common-protos is not a dependency of the SDK.
    """
    text = message.encode("utf-8")
    out = b""
    if code:  # proto3 leaves default values out
        out += b"\x08" + _varint(code)
    if text:
        out += b"\x12" + _varint(len(text)) + text
    return out


def _varint(value: int) -> bytes:
    out = bytearray()
    while value > 0x7F:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def error_body(status: int, message: str, *, as_json: bool) -> tuple[bytes, str]:
    """The Status body (and its Content-Type) explaining a failed request."""
    code = _RPC_CODES.get(status, 2)  # 2: UNKNOWN
    if as_json:
        return json.dumps({"code": code, "message": message}).encode(), JSON
    return rpc_status(code, message), PROTOBUF


def export_response(rejected: int, message: str, *, as_json: bool) -> tuple[bytes, str]:
    """An ExportLogsServiceResponse body (and its Content-Type); ``partial_success`` when
    records were rejected."""
    response = ExportLogsServiceResponse()
    if rejected or message:
        response.partial_success.rejected_log_records = rejected
        response.partial_success.error_message = message
    if as_json:
        document: dict[str, object] = {}
        if rejected or message:
            # OTLP/JSON writes int64 as a decimal string.
            partial = {"rejectedLogRecords": str(rejected), "errorMessage": message}
            document["partialSuccess"] = partial
        return json.dumps(document).encode(), JSON
    return response.SerializeToString(), PROTOBUF
