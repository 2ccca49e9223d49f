"""The option list of :class:`cs_sdk.Client` and :func:`cs_sdk.init` (``ClientOptions``),
below ``_config`` (which resolves them) and every module that takes them."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from typing import Any, Literal, TypedDict

__all__ = ["ClientOptions", "Compression", "Protocol"]

Protocol = Literal["http/protobuf", "http/json"]
Compression = Literal["gzip", "none"]


class ClientOptions(TypedDict, total=False):
    """Every keyword option of :class:`cs_sdk.Client` and :func:`cs_sdk.init` (``None``, or
    leaving it out, means the environment variable or the default). The one list of option
    names: ``resolve()`` refuses any other, and mypy users see them all (``Unpack``)."""

    service_name: str | None
    resource_attributes: Mapping[str, str] | None
    environment: str | None
    endpoint: str | None  # a base URL: /v1/logs is appended
    logs_endpoint: str | None  # the full URL, used as-is
    headers: Mapping[str, str] | None
    timeout: float | None
    compression: Compression | None
    protocol: Protocol | None
    certificate: str | None
    verify: bool | None
    max_queue_size: int | None
    max_queue_bytes: int | None
    max_export_batch_size: int | None
    max_export_batch_bytes: int | None
    schedule_delay: float | None
    export_timeout: float | None
    shutdown_timeout: float | None
    strict: bool | None
    disabled: bool | None
    before_send: Callable[[Any], Any] | None
    redact_pii: bool | None
    metrics: bool | None
    spool_dir: str | os.PathLike[str] | None
    spool_max_bytes: int | None
    prompts: str | os.PathLike[str] | None
    state: str | None
    speedups: bool | None
