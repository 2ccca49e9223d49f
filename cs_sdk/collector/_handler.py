"""What the collector answers to one request, decided on a worker thread: route, check the
sender, decode, hand the records over. Sockets and deadlines live in ``_io``.

Routes: ``POST /v1/logs`` only. ``/v1/traces`` and ``/v1/metrics`` get a 404 saying this
collector takes logs only; other paths 404, other methods on ``/v1/logs`` 405; every failure
carries a google.rpc.Status body (the OTLP/HTTP spec asks for one, clients log its message).
"""

from __future__ import annotations

import hmac
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Final, Literal, Protocol

from ._decode import (
    DecodeError,
    ReceivedRecord,
    TooLarge,
    UnsupportedMediaType,
    decode_export_request,
)
from ._faults import Fault, FaultPlan, PartialSuccess, ResetMidBody, Status
from ._limits import Limits
from ._wire import error_body, export_response, is_json

if TYPE_CHECKING:
    import concurrent.futures

LOGS_PATH: Final = "/v1/logs"
_OTHER_SIGNALS: Final = frozenset({"/v1/traces", "/v1/metrics"})
LOOPBACK_NAMES: Final = frozenset({"localhost", "127.0.0.1", "::1", "[::1]"})


@dataclass(slots=True)
class Request:
    """One parsed HTTP request (header names in lower case)."""

    method: str
    target: str
    headers: dict[str, str]
    body: bytes = b""
    size: int = -1  # the body as received; -1 when it was not read

    @property
    def path(self) -> str:
        return self.target.split("?", 1)[0]

    @property
    def as_json(self) -> bool:
        return is_json(self.headers.get("content-type"))


@dataclass(slots=True)
class Answer:
    """What to do with a request: send an answer, or one of the scripted misbehaviours."""

    status: int
    body: bytes = b""
    content_type: str = "text/plain"
    headers: dict[str, str] = field(default_factory=dict)
    close: bool = False
    action: Literal["send", "refuse", "reset", "hold"] = "send"


def failure(
    request: Request,
    status: int,
    message: str,
    *,
    headers: Mapping[str, str] | None = None,
    close: bool = False,
) -> Answer:
    """An answer with a Status body, in the request's format."""
    body, kind = error_body(status, message, as_json=request.as_json)
    return Answer(status, body, kind, dict(headers or {}), close)


def _host_name(value: str) -> str:
    value = value.strip().lower()
    if value.startswith("["):  # [::1]:4318
        return value.split("]", 1)[0] + "]"
    return value.rsplit(":", 1)[0] if value.count(":") == 1 else value


def admit(
    request: Request, token: str | None, allowed_hosts: frozenset[str] | None
) -> Answer | None:
    """The refusal for a sender that may not export here, before its body is read.

    The Host check defeats DNS rebinding: a web page that rebinds its own name to 127.0.0.1
    reaches the port, but its requests still say ``Host: evil.example``. A request without
    Host (HTTP/1.0 tools) is let through: a browser always sends one.
    """
    host = request.headers.get("host")
    if allowed_hosts is not None and host is not None and _host_name(host) not in allowed_hosts:
        return failure(request, 403, "this Host is not allowed here", close=True)
    if token is not None:
        given = request.headers.get("authorization", "")
        scheme, _, credential = given.partition(" ")
        # compare_digest: the time taken says nothing about how much of the token matched.
        if scheme.lower() != "bearer" or not hmac.compare_digest(
            credential.strip().encode(), token.encode()
        ):
            return failure(
                request,
                401,
                "a bearer token is required (Authorization: Bearer ...)",
                headers={"WWW-Authenticate": "Bearer"},
                close=True,
            )
    return None


def route(request: Request) -> Answer | None:
    """The answer for a request that is not an export, or None for ``POST /v1/logs``."""
    path = request.path
    if path in _OTHER_SIGNALS:
        signal = path.rsplit("/", 1)[1]
        return failure(
            request,
            404,
            f"this collector takes logs only (POST {LOGS_PATH}), not {signal}; send {signal} "
            "to an OpenTelemetry Collector",
        )
    if path != LOGS_PATH:
        return failure(request, 404, f"no such path {path!r}; OTLP logs go to {LOGS_PATH}")
    if request.method != "POST":
        return failure(
            request, 405, f"{request.method} is not allowed; use POST", headers={"Allow": "POST"}
        )
    return None


class Collector(Protocol):
    """What request handling (here and in ``_io``) needs of its collector: the
    ``_server.LocalCollector``, which imports both modules; they never import it."""

    limits: Limits
    token: str | None
    allowed_hosts: frozenset[str] | None
    max_connections: int
    faults: FaultPlan | None
    _pool: concurrent.futures.ThreadPoolExecutor | None

    def _receive(self, records: list[ReceivedRecord]) -> None: ...

    def _log_request(self, request: Request, size: int, status: int) -> None: ...


def export(collector: Collector, request: Request, fault: Fault | None) -> Answer:
    """Decode and hand over the records of an export request (on a worker thread)."""
    as_json = request.as_json
    if isinstance(fault, Status):
        message = fault.message or f"scripted status {fault.code}"
        headers = {"Retry-After": fault.retry_after} if fault.retry_after else None
        return failure(request, fault.code, message, headers=headers)
    try:
        records = decode_export_request(
            request.body,
            content_type=request.headers.get("content-type"),
            content_encoding=request.headers.get("content-encoding"),
            limits=collector.limits,
        )
    except UnsupportedMediaType as error:
        return failure(request, 415, str(error))
    except TooLarge as error:
        return failure(request, 413, str(error))
    except DecodeError as error:
        return failure(request, 400, str(error))
    rejected, message = 0, ""
    if isinstance(fault, PartialSuccess):
        rejected = min(fault.rejected, len(records))
        message = fault.message
        records = records[: len(records) - rejected]
    try:
        collector._receive(records)
    except Exception as error:  # storage or printing failed: tell the client, go on
        return failure(request, 500, f"could not store the records: {type(error).__name__}")
    answer, kind = export_response(rejected, message, as_json=as_json)
    return Answer(200, answer, kind, action="reset" if isinstance(fault, ResetMidBody) else "send")
