"""Module-level functions over the global client: ``cs_sdk.milestone(...)`` and friends.

Before ``init()`` (and after ``shutdown()``) the global client is a no-op: calls return
``None`` (``flush()`` False), are counted as ``dropped.not_initialized`` and the first one
logs how to fix it, so importing code that records events never fails; with
``CS_SDK_STRICT=true`` they raise :class:`ConfigError` instead.
"""

from __future__ import annotations

import datetime as _dt
import threading
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, Literal, cast

from ._context import set_strict_scopes
from ._errors import ConfigError
from ._log import warn_once
from ._stats import Stats, StatsSnapshot

# The client and its parts are imported by init() (and the no-op client's parts when first
# read), not here: `import cs_sdk` stays a few milliseconds (tests/test_cold_start.py).
if TYPE_CHECKING:
    import httpx
    from typing_extensions import Unpack

    from ._client import Client, PipelineFactory
    from ._options import ClientOptions
    from ._pilots import Pilots
    from ._prompts import Prompts
    from ._responses import Responses
    from ._uninitialised import Parts
    from .events._base import Event


def _not_initialised(call: str) -> None:
    """The one answer to a call made without a client: a clear line, or strict mode's error.

    There is no client to ask whether the application wants strict mode, so the process's
    ``CS_SDK_STRICT=true`` decides (a test suite sets it once); without it the call is
    counted as ``dropped.not_initialized`` by its caller and logged once.

    Raises:
        ConfigError: ``CS_SDK_STRICT=true`` is set.
    """
    message = (
        f"cs_sdk.{call} was called before cs_sdk.init() (or after cs_sdk.shutdown()): "
        "nothing was recorded. Call cs_sdk.init(service_name=..., endpoint=...) once at "
        "start-up, before recording."
    )
    from ._config import strict_from_environ  # here: `import cs_sdk` does not need _config

    if strict_from_environ():
        raise ConfigError(message)
    warn_once("not-initialised", "cs_sdk: %s", message)


class _NoopClient:
    """Stands in for the global client until ``init()``: every call is refused, counted as
    ``dropped.not_initialized`` and logged once, and ``flush()`` is False (nothing can be
    delivered without a client)."""

    _stats = Stats()
    _parts: Parts | None = None

    def _refused(self, call: str) -> None:
        self._stats.drop("not_initialized")
        _not_initialised(call)

    def _uninitialised(self) -> Parts:
        parts = self._parts
        if parts is None:
            from ._uninitialised import uninitialised_parts

            with _lock:
                parts = self._parts
                if parts is None:
                    parts = self._parts = uninitialised_parts(self._refused, _not_initialised)
        return parts

    @property
    def pilots(self) -> Pilots:
        return self._uninitialised().pilots

    @property
    def prompts(self) -> Prompts:
        return self._uninitialised().prompts

    @property
    def responses(self) -> Responses:
        return self._uninitialised().responses

    def milestone(self, *args: Any, **kwargs: Any) -> str | None:
        self._refused("milestone()")
        return None

    def outcome(self, *args: Any, **kwargs: Any) -> str | None:
        self._refused("outcome()")
        return None

    def feedback(self, *args: Any, **kwargs: Any) -> str | None:
        self._refused("feedback()")
        return None

    def track(self, *args: Any, **kwargs: Any) -> str | None:
        self._refused("track()")
        return None

    def respond(self, *args: Any, **kwargs: Any) -> str | None:
        self._refused("respond()")
        return None

    def opt_out(self, user_id: str) -> None:
        _not_initialised("opt_out()")

    def opt_in(self, user_id: str) -> None:
        _not_initialised("opt_in()")

    def flush(self, timeout: float = 5.0) -> bool:
        _not_initialised("flush()")
        return False

    def shutdown(self, timeout: float = 5.0) -> bool:
        return True

    async def aflush(self, timeout: float = 5.0) -> bool:
        return self.flush(timeout)

    async def ashutdown(self, timeout: float = 5.0) -> bool:
        return True

    def stats(self) -> StatsSnapshot:
        return self._stats.snapshot(0)


_NOOP = _NoopClient()
_lock = threading.Lock()
_client: Client | _NoopClient = _NOOP


def init(
    *,
    http_client: httpx.Client | None = None,
    meter_provider: Any = None,
    environ: Mapping[str, str] | None = None,
    _pipeline_factory: PipelineFactory | None = None,
    _clock: Callable[[], _dt.datetime] | None = None,
    **options: Unpack[ClientOptions],
) -> Client:
    """Build a :class:`Client` from ``options`` and make it the global client.

    Takes the same keywords as :class:`Client` (the options are listed in
    ``cs_sdk.ClientOptions``). A previous global client is shut down (flushing what it
    holds) first.
    """
    global _client
    from ._client import Client

    client = Client(
        http_client=http_client,
        meter_provider=meter_provider,
        environ=environ,
        _pipeline_factory=_pipeline_factory,
        _clock=_clock,
        **options,
    )
    with _lock:
        previous, _client = _client, client
        set_strict_scopes(client.config.strict)
    if not isinstance(previous, _NoopClient):
        previous.shutdown(timeout=previous.config.shutdown_timeout)
    return client


def get_client() -> Client | None:
    """The global client, or ``None`` before ``init()``."""
    current = _client
    return None if isinstance(current, _NoopClient) else current


def _set_client(client: Client | None) -> Client | None:
    """Swap the global client without shutting anything down (for ``testing.capture``)."""
    global _client
    with _lock:
        previous, _client = _client, (client if client is not None else _NOOP)
        set_strict_scopes(client is not None and client.config.strict)
    return None if isinstance(previous, _NoopClient) else previous


def milestone(
    name: str,
    *,
    user_id: str | None = None,
    account_id: str | None = None,
    session_id: str | None = None,
    properties: Mapping[str, Any] | None = None,
    timestamp: _dt.datetime | float | None = None,
) -> str | None:
    """Record a milestone with the global client. See :meth:`Client.milestone`."""
    return _client.milestone(
        name,
        user_id=user_id,
        account_id=account_id,
        session_id=session_id,
        properties=properties,
        timestamp=timestamp,
    )


def outcome(
    name: str,
    *,
    value: float | None = None,
    unit: str | None = None,
    user_id: str | None = None,
    account_id: str | None = None,
    session_id: str | None = None,
    properties: Mapping[str, Any] | None = None,
    timestamp: _dt.datetime | float | None = None,
) -> str | None:
    """Record an outcome with the global client. See :meth:`Client.outcome`."""
    return _client.outcome(
        name,
        value=value,
        unit=unit,
        user_id=user_id,
        account_id=account_id,
        session_id=session_id,
        properties=properties,
        timestamp=timestamp,
    )


def feedback(
    kind: str,
    *,
    score: int | None = None,
    comment: str | None = None,
    user_id: str | None = None,
    account_id: str | None = None,
    session_id: str | None = None,
    prompt_id: str | None = None,
    area: str | None = None,
    properties: Mapping[str, Any] | None = None,
    timestamp: _dt.datetime | float | None = None,
) -> str | None:
    """Record feedback with the global client. See :meth:`Client.feedback`."""
    return _client.feedback(
        kind,
        score=score,
        comment=comment,
        user_id=user_id,
        account_id=account_id,
        session_id=session_id,
        prompt_id=prompt_id,
        area=area,
        properties=properties,
        timestamp=timestamp,
    )


def track(
    event: Event,
    *,
    user_id: str | None = None,
    account_id: str | None = None,
    session_id: str | None = None,
    timestamp: _dt.datetime | float | None = None,
) -> str | None:
    """Record a typed event with the global client. See :meth:`Client.track`."""
    return _client.track(
        event, user_id=user_id, account_id=account_id, session_id=session_id, timestamp=timestamp
    )


def respond(
    feedback_event_id: str,
    *,
    message: str,
    team: str,
    status: Literal["planned", "done", "declined"],
    user_id: str | None = None,
    account_id: str | None = None,
    timestamp: _dt.datetime | float | None = None,
) -> str | None:
    """Answer a customer's feedback with the global client. See :meth:`Client.respond`."""
    return _client.respond(
        feedback_event_id,
        message=message,
        team=team,
        status=status,
        user_id=user_id,
        account_id=account_id,
        timestamp=timestamp,
    )


def opt_out(user_id: str) -> None:
    """Drop every later event of ``user_id`` (global client)."""
    _client.opt_out(user_id)


def opt_in(user_id: str) -> None:
    """Undo :func:`opt_out` (global client)."""
    _client.opt_in(user_id)


def flush(timeout: float = 5.0) -> bool:
    """Deliver everything recorded so far; True when all of it was accepted."""
    return _client.flush(timeout)


def shutdown(timeout: float = 5.0) -> bool:
    """Flush, stop the global client and fall back to the no-op client. Idempotent."""
    previous = _set_client(None)
    return previous.shutdown(timeout) if previous is not None else True


async def aflush(timeout: float = 5.0) -> bool:
    """:func:`flush` without blocking the event loop."""
    return await _client.aflush(timeout)


async def ashutdown(timeout: float = 5.0) -> bool:
    """:func:`shutdown` without blocking the event loop."""
    previous = _set_client(None)
    return await previous.ashutdown(timeout) if previous is not None else True


def stats() -> StatsSnapshot:
    """The global client's counters (see :meth:`Client.stats`)."""
    return _client.stats()


class _GlobalAttribute:
    """Forwards attribute access to ``<global client>.<name>``, whichever client that is."""

    def __init__(self, name: str) -> None:
        self._name = name

    def __getattr__(self, attribute: str) -> Any:
        return getattr(getattr(_client, self._name), attribute)

    def __repr__(self) -> str:
        return f"<cs_sdk.{self._name} of the global client>"


pilots = cast("Pilots", _GlobalAttribute("pilots"))
"""The global client's pilot memberships: ``cs_sdk.pilots.enroll("u1", "new-dashboard")``."""
prompts = cast("Prompts", _GlobalAttribute("prompts"))
"""The global client's feedback prompts: ``cs_sdk.prompts.next_for("u1")``."""
responses = cast("Responses", _GlobalAttribute("responses"))
"""The global client's answers to feedback: ``cs_sdk.responses.for_user("u1")``."""
