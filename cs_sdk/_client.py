"""``Client``: configuration -> caller-side validation -> pipeline -> exporter.

The recording methods are the hot path: validate, read the identity scope and the active
span, build one record and hand it to the pipeline. They never raise into the application
except :class:`InvalidEventError` with ``strict=True``. ``milestone()`` and ``_emit`` live
here (the C accelerator reads the client's attributes); the other recording calls are in
``_client_recording.py``, flush/shutdown/stats and the fork and exit hooks in
``_client_lifecycle.py``, the default pipeline in ``_client_assembly.py``.
"""

from __future__ import annotations

import datetime as _dt
import os
import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from ._accelerated import accelerated_calls

# NullPipeline and PipelineFactory are re-exported: testing and _api import them from here.
from ._client_assembly import NullPipeline as NullPipeline
from ._client_assembly import Pipeline, default_pipeline
from ._client_assembly import PipelineFactory as PipelineFactory
from ._client_assembly import sdk_version as _sdk_version
from ._client_lifecycle import ClientLifecycle, live_clients
from ._client_recording import RecordingCalls
from ._config import Config, resolve, shown_url
from ._context import _current as _identity_var
from ._errors import InvalidEventError
from ._ids import MAX_ID_LENGTH
from ._ids import check_id as _identifier
from ._log import logger, warn_once
from ._metrics import register_stats_metrics
from ._names import check_name
from ._names import known as names_seen
from ._options import ClientOptions
from ._pilots import Pilots
from ._pilots import assemble as assemble_pilots
from ._pipeline._queue import EventQueue
from ._processors import ProcessorChain, Step, resolve_typed_body
from ._prompts import Prompts
from ._record import QueuedEvent
from ._redaction import redact_feedback
from ._responses import Responses
from ._spans import NO_SPAN, current_otel_context, span_ids_in
from ._stats import Stats
from ._validate import ATTRIBUTES_BYTES, RECORD_BYTES, check_properties_sized
from .events._builtin_rules import MILESTONE
from .events._schema import SchemaRef

if TYPE_CHECKING:
    import httpx
    from typing_extensions import Unpack

# Names that passed the name rule before; a set lookup instead of the pattern match.
_known_names = names_seen


# OTLP times are unsigned 64-bit nanoseconds: the last one is in the year 2554. A larger
# value is almost always milliseconds passed as seconds.
_MAX_TIMESTAMP_NS = 2**64 - 1
_MAX_TIMESTAMP_S = _MAX_TIMESTAMP_NS / 1e9  # also keeps NaN and infinity out (comparisons fail)
_RULE_TIMESTAMP = "must be an aware datetime or seconds since the epoch (before the year 2554)"


def _timestamp_ns(value: object) -> int:
    if isinstance(value, _dt.datetime):
        if value.tzinfo is None:
            raise InvalidEventError("timestamp", "must be a timezone-aware datetime")
        ns = int(value.timestamp() * 1_000_000_000)
    elif type(value) in (int, float) and 0 <= value < _MAX_TIMESTAMP_S:  # type: ignore[operator]
        ns = int(value * 1_000_000_000)  # type: ignore[operator]
    else:
        raise InvalidEventError("timestamp", _RULE_TIMESTAMP)
    if not 0 <= ns <= _MAX_TIMESTAMP_NS:
        raise InvalidEventError("timestamp", _RULE_TIMESTAMP)
    return ns


_time_ns = time.time_ns


class Client(RecordingCalls, ClientLifecycle):
    """An independent cs_sdk client. ``cs_sdk.init()`` builds one and makes it global.

    ``client.pilots`` manages pilot memberships and ``client.prompts`` feedback prompts
    (API section 4); ``cs_sdk.pilots`` / ``cs_sdk.prompts`` are the global client's.

    >>> client = cs_sdk.Client(service_name="web", endpoint="http://127.0.0.1:4318")
    >>> client.milestone("first_report_created", user_id="u1")  # doctest: +SKIP
    '6f1c…'
    """

    pilots: Pilots
    prompts: Prompts
    responses: Responses

    def __init__(
        self,
        *,
        http_client: httpx.Client | None = None,
        meter_provider: Any = None,
        environ: Mapping[str, str] | None = None,
        _pipeline_factory: PipelineFactory | None = None,
        _clock: Callable[[], _dt.datetime] | None = None,
        **options: Unpack[ClientOptions],
    ) -> None:
        self.config: Config = resolve(environ, **options)
        self._disabled = self.config.disabled
        self._strict = self.config.strict
        self._stats = Stats()
        self._next_seq = self._stats.counters["recorded"].add
        # Bumped in place, without a call: works even at the recursion limit (also from C).
        self._unreported = self._stats.unreported
        self._reseed_ids()
        # Read by the recording calls (and the C path): replaced whole by _publish_opt_outs.
        self._opted_out: frozenset[str] = frozenset()
        # A property value of a type that cannot be sent drops that key (counted, logged);
        # with strict=True the validator raises instead (no callback).
        self._drop_property = None if self._strict else self._property_dropped
        self._closed = False
        self._shutdown_hooks: list[Callable[[], None]] = []
        self._http_client = http_client
        # Milestones some prompt depends on: milestone() tells the prompt engine at once (and
        # the C path hands them to the Python method), so next_for() agrees immediately.
        self._watched: frozenset[str] = frozenset()
        # Pilots, prompts and opt-outs over the state store and the prompt configuration (a
        # bad state= or prompts= raises here, before anything else is running).
        # `_clock` (pilots' and prompts' "now") is a seam for simulations such as `cs-sdk demo`.
        parts = assemble_pilots(
            self.config, recorder=self, publish_opt_outs=self._publish_opt_outs, clock=_clock
        )
        self.pilots = parts.pilots
        self.prompts = parts.prompts
        self.responses: Responses = parts.responses
        self._opt_outs = parts.opt_outs  # kept in the store; they publish self._opted_out
        self._shutdown_hooks.append(parts.close)
        # The processor order, in one list (None: not configured):
        steps = [
            # First of all: an answer to feedback is for the customer who gave it (found in
            # the store by the feedback's id), so the opt-out step after it sees that customer.
            parts.responses_step,
            # An opted-out user's event is neither tagged, remembered, redacted nor seen by
            # before_send.
            parts.opt_out_step,
            Step("typed", resolve_typed_body, "internal_error"),
            # Tags and history see the resolved event, and before_send sees the tags.
            parts.pilots_step,
            parts.prompt_history_step,
            # Before before_send and the spool: nothing unredacted leaves or touches disk.
            Step("redact_pii", redact_feedback, "internal_error")
            if self.config.redact_pii
            else None,
            # The user's hook sees the final event.
            Step("before_send", self._run_before_send, "before_send")
            if self.config.before_send is not None
            else None,
            # Last: feedback and answers are kept in the state store as they leave redaction
            # and before_send, never before (see _responses.py).
            Step("feedback_memory", parts.responses.remember, "internal_error"),
        ]
        self.processors = ProcessorChain(self._stats, [step for step in steps if step])
        for refresher in parts.refreshers:  # the store's change marker, once per batch
            self.processors.add_refresher(refresher)
        factory = _pipeline_factory or self._default_pipeline
        try:
            if self._disabled:
                self._pipeline: Pipeline = NullPipeline()
            else:
                self._pipeline = factory(self.config, self._stats, self.processors)
        except BaseException:
            parts.close()
            raise
        self._submit: Callable[[QueuedEvent], bool] = self._pipeline.submit
        self.prompts.on_watched_change(self._set_watched)
        if self.config.metrics or meter_provider is not None:
            register_stats_metrics(self.stats, _sdk_version(), meter_provider)
        if self.config.is_plaintext_remote:
            warn_once(
                "plaintext",
                "cs_sdk: %s is not a loopback address and uses plain http: events cross the "
                "network unencrypted. Use https.",
                shown_url(self.config.logs_endpoint),
            )
        if self.config.speedups and not self._disabled:
            fast = accelerated_calls(
                self, Client, self._stats.fallbacks, queue_submit=EventQueue.submit
            )
            # Instance attributes shadow the methods: callers get the C functions directly.
            vars(self).update(fast)
            self._stats.accelerated = tuple(fast)
        live_clients.add(self)

    def _set_watched(self, names: frozenset[str]) -> None:
        self._watched = names

    @property
    def _accelerated(self) -> bool:
        """Whether ``milestone()`` runs in C (``_speedups.c``) rather than in Python."""
        return "milestone" in vars(self)

    def _reseed_ids(self) -> None:
        """Event ids are ``hex(_id_base + sequence number)``: 64 random bits, the top one set
        so that every id has 32 hex digits, then 64 bits of sequence. ``hex()`` is ~0.1 µs
        cheaper per event than formatting with padding; the C path formats ``_id_high``."""
        self._id_high = int.from_bytes(os.urandom(8), "big") | 1 << 63
        self._id_base = self._id_high << 64

    def _swap_pipeline(self, pipeline: Pipeline) -> Pipeline:
        """Send events to ``pipeline`` from now on (``testing.capture``); the previous one."""
        previous, self._pipeline = self._pipeline, pipeline
        self._submit = pipeline.submit
        return previous

    def _default_pipeline(self, config: Config, stats: Stats, chain: ProcessorChain) -> Pipeline:
        return default_pipeline(config, stats, chain, self._http_client)

    def __repr__(self) -> str:
        config = self.config
        return f"<cs_sdk.Client {config.service_name!r} -> {shown_url(config.logs_endpoint)!r}>"

    # -- recording (the hot path) --------------------------------------------------------

    def milestone(
        self,
        name: str,
        *,
        user_id: str | None = None,
        account_id: str | None = None,
        session_id: str | None = None,
        properties: Mapping[str, Any] | None = None,
        timestamp: _dt.datetime | float | None = None,
    ) -> str | None:
        """Record a step on the customer's path to value. Returns the event id or None."""
        if self._disabled:
            return None
        try:
            if type(name) is not str or name not in _known_names:
                check_name("name", name)  # the name rule (_names.py): raises if broken
            body, size = (
                (None, 0)
                if properties is None
                else check_properties_sized(properties, "properties", self._drop_property)
            )
            event_id = self._emit(
                MILESTONE, name, body, None, user_id, account_id, session_id, timestamp, size
            )
            if event_id is not None and name in self._watched:
                self.prompts.milestone_reached(name, user_id)
            return event_id
        except InvalidEventError as error:
            self._invalid(error)
        except Exception:
            try:
                self._internal_error()
            except Exception:  # RecursionError/MemoryError while reporting one
                self._unreported[0] += 1
        return None

    def _emit(
        self,
        schema: SchemaRef,
        name: str,
        body: Any,
        attributes: dict[str, Any] | None,
        user_id: str | None,
        account_id: str | None,
        session_id: str | None,
        timestamp: object,
        size: int,
    ) -> str | None:
        identity = _identity_var.get()  # its ids were checked when the scope was entered
        # A plain string within the bound is the usual id; anything else goes through the id
        # rule of _ids.py, which converts (int, UUID) or raises.
        if user_id is None:
            user_id = identity[0]
        elif type(user_id) is not str or not user_id or len(user_id) > MAX_ID_LENGTH:
            user_id = _identifier("user_id", user_id)
        if account_id is None:
            account_id = identity[1]
        elif type(account_id) is not str or not account_id or len(account_id) > MAX_ID_LENGTH:
            account_id = _identifier("account_id", account_id)
        if session_id is None:
            session_id = identity[2]
        elif type(session_id) is not str or not session_id or len(session_id) > MAX_ID_LENGTH:
            session_id = _identifier("session_id", session_id)
        if self._opted_out and user_id in self._opted_out:
            self._stats.drop("opted_out")
            return None
        context = current_otel_context()
        trace_id, span_id, flags = span_ids_in(context) if context else NO_SPAN
        time_ns = _time_ns() if timestamp is None else _timestamp_ns(timestamp)
        # Every byte the event holds counts against max_queue_bytes, its ids included.
        size += len(name) + len(user_id or "") + len(account_id or "") + len(session_id or "")
        if attributes is not None:
            size += ATTRIBUTES_BYTES
        # The commit point: from here on the event counts as recorded (stats' books).
        seq = self._next_seq()
        try:
            event_id = hex(self._id_base + seq)[2:]
            queued = (
                event_id,
                time_ns,
                schema,
                name,
                body,
                attributes,
                user_id,
                account_id,
                session_id,
                trace_id,
                span_id,
                flags,
                RECORD_BYTES + size,
            )
            return event_id if self._submit(queued) else None
        except Exception:
            self._internal_error(True)
            return None

    def _internal_error(self, committed: bool = False) -> None:
        """An unexpected error dropped an event: after the commit point (``committed``; the
        C path's only case) it was recorded and is a loss, before it a refusal."""
        if committed:
            self._stats.call_errors.add()
        else:
            self._stats.refuse("internal_error")
        try:
            warn_once("internal", "cs_sdk: an internal error dropped an event")
            logger.debug("internal error while recording", exc_info=True)
        except Exception:  # RecursionError, MemoryError: counted is enough
            pass

    # -- privacy -------------------------------------------------------------------------

    def opt_out(self, user_id: str) -> None:
        """Drop every later event of ``user_id``, in every process sharing the state store.

        Kept in the ``state=`` store, so sibling workers and restarted processes honour it;
        nothing new is stored about the user (pilots, prompts). See docs/privacy.md.
        """
        key = self._opt_out_key(user_id)
        if key is not None:
            self._opt_outs.set(key, True)

    def opt_in(self, user_id: str) -> None:
        """Undo :meth:`opt_out`."""
        key = self._opt_out_key(user_id)
        if key is not None:
            self._opt_outs.set(key, False)

    def _publish_opt_outs(self, users: frozenset[str]) -> None:
        # Replaced, not mutated, so a recording thread never sees a set change size.
        self._opted_out = users

    def _opt_out_key(self, user_id: object) -> str | None:
        # Not None: opting "nobody" out would drop every anonymous event (account outcomes).
        try:
            return _identifier("user_id", user_id)
        except InvalidEventError as error:
            if self._strict:
                raise
            warn_once("opt_out", "cs_sdk: opt_out()/opt_in() ignored: %s", error)
            return None
