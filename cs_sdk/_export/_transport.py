"""HTTP transport: one POST of an encoded batch through an injected ``httpx.Client``.

The transport only moves bytes and reports what happened; retry decisions live in
``_retry.py`` and accounting in the exporter. It never raises.
"""

from __future__ import annotations

import email.utils
import time
from dataclasses import dataclass

import httpx

from .._config import Config, shown_url
from .._http_log import sdk_request


@dataclass(frozen=True, slots=True)
class TransportResult:
    """What one POST returned: a status and body, or the connection error."""

    status_code: int | None
    body: bytes = b""
    content_type: str = ""
    retry_after: float | None = None
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header: delta-seconds or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when is None:
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


class HttpTransport:
    """POSTs bodies to the logs endpoint with the configured headers and TLS settings."""

    def __init__(self, config: Config, client: httpx.Client | None = None) -> None:
        self.url = config.logs_endpoint
        self.shown_url = shown_url(self.url)  # for logs: no credentials
        self._timeout = config.timeout
        verify: bool | str = config.certificate if config.certificate else config.verify
        self._owns_client = client is None
        self._client = client or httpx.Client(
            verify=verify,
            timeout=config.timeout,
            limits=httpx.Limits(max_connections=2, max_keepalive_connections=1),
        )
        self._headers = {
            "User-Agent": "cs-sdk-python",
            **config.headers,
        }

    def send(
        self, body: bytes, *, content_type: str, gzip: bool, timeout: float
    ) -> TransportResult:
        headers = {**self._headers, "Content-Type": content_type}
        if gzip:
            headers["Content-Encoding"] = "gzip"
        try:
            with sdk_request():  # httpx's INFO line per batch becomes DEBUG (_http_log.py)
                response = self._client.post(
                    self.url, content=body, headers=headers, timeout=max(timeout, 0.001)
                )
        except httpx.TimeoutException as error:
            return TransportResult(None, error=f"timeout: {type(error).__name__}")
        except httpx.HTTPError as error:
            return TransportResult(None, error=f"{type(error).__name__}: {error}")
        except Exception as error:  # a closed client during shutdown, an SSL oddity
            return TransportResult(None, error=f"{type(error).__name__}: {error}")
        return TransportResult(
            response.status_code,
            body=response.content,
            content_type=response.headers.get("content-type", ""),
            retry_after=parse_retry_after(response.headers.get("retry-after")),
        )

    def close(self) -> None:
        if self._owns_client:
            self._client.close()
