"""``Client``: configuration -> caller-side validation -> pipeline -> exporter.

The recording methods are the hot path: validate, read the identity scope and the active
span, build one record and hand it to the pipeline. They never raise into the application
except :class:`InvalidEventError` with ``strict=True``.
"""

from __future__ import annotations

import asyncio
import atexit
import datetime as _dt
import os
import threading
import time
import weakref
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, Protocol

import httpx

from . import _log
from ._accelerated import accelerated_milestone
from ._attributes import OUTCOME_UNIT, OUTCOME_VALUE
from ._config import Config, resolve, shown_url
from ._context import NO_SPAN, current_otel_context, span_ids_in
from ._context import _current as _identity_var
from ._errors import ConfigError, InvalidEventError
from ._export._encoding import make_encoder
from ._export._exporter import OtlpHttpExporter
from ._export._mapping import build_scope
from ._export._transport import HttpTransport
from ._feedback_text import truncated
from ._ids import MAX_ID_LENGTH
from ._ids import check_id as _identifier
from ._log import logger, warn_once
from ._metrics import register_stats_metrics
from ._names import check_name
from ._names import known as names_seen
from ._options import ClientOptions
from ._pilots import Pilots
from ._pilots import assemble as assemble_pilots
from ._pipeline._worker import BatchPipeline
from ._processors import ProcessorChain, Step, resolve_typed_body
from ._prompts import Prompts
from ._record import EventRecord, QueuedEvent
from ._redaction import redact_feedback
from ._stats import Stats, StatsSnapshot
from ._validate import (
    MAX_STRING_LENGTH,
    RECORD_BYTES,
    check_id,
    check_number,
    check_properties_sized,
    check_text,
    estimated_bytes,
)
from ._values import Unconvertible
from ._version import __version__
from .events._base import Event, SchemaRef
from .events._builtin import FEEDBACK, MILESTONE, OUTCOME, feedback_attributes, feedback_rule

if TYPE_CHECKING:
    from typing_extensions import Unpack

# Names that passed the name rule before; a set lookup instead of the pattern match.
_known_names = names_seen


class Pipeline(Protocol):
    """Where recorded events go: the batching worker, or a test capture."""

    def submit(self, queued: QueuedEvent) -> bool: ...
    def flush(self, timeout: float) -> bool: ...
    def shutdown(self, timeout: float) -> bool: ...
    def queued(self) -> int | None: ...  # None: the stats' books derive it
    def reinit_after_fork(self) -> None: ...


PipelineFactory = Callable[[Config, Stats, ProcessorChain], Pipeline]


# OTLP times are unsigned 64-bit nanoseconds: the last one is in the year 2554. A larger
# value is almost always milliseconds passed as seconds.
_MAX_TIMESTAMP_NS = 2**64 - 1
_MAX_TIMESTAMP_S = _MAX_TIMESTAMP_NS / 1e9  # also keeps NaN and infinity out (comparisons fail)
_RULE_TIMESTAMP = "must be an aware datetime or seconds since the epoch (before the year 2554)"
# Longest wait flush()/shutdown() accept: threading waits overflow on larger values.
_MAX_WAIT = 7 * 24 * 3600.0


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


def _wait_seconds(timeout: object) -> float | None:
    """A flush/shutdown budget in seconds, or None (logged) when it is not a number."""
    if type(timeout) not in (int, float):
        warn_once("timeout-type", "cs_sdk: a timeout must be a number of seconds, got %r", timeout)
        return None
    seconds = float(timeout)  # type: ignore[arg-type]
    if seconds != seconds or seconds < 0:  # NaN, negative: do not wait
        return 0.0
    return min(seconds, _MAX_WAIT)


class NullPipeline:
    """A pipeline with nothing behind it: ``disabled=True`` uses it as it is (nothing queued,
    no thread started, no file opened); ``testing.CapturePipeline`` overrides ``submit``."""

    def submit(self, queued: QueuedEvent) -> bool:
        return False

    def flush(self, timeout: float) -> bool:
        return True

    def shutdown(self, timeout: float) -> bool:
        return True

    def queued(self) -> int | None:
        return 0

    def reinit_after_fork(self) -> None:
        pass


class Client:
    """An independent cs_sdk client. ``cs_sdk.init()`` builds one and makes it global.

    ``client.pilots`` manages pilot memberships and ``client.prompts`` feedback prompts
    (API section 4); ``cs_sdk.pilots`` / ``cs_sdk.prompts`` are the global client's.

    >>> client = cs_sdk.Client(service_name="web", endpoint="http://127.0.0.1:4318")
    >>> client.milestone("first_report_created", user_id="u1")  # doctest: +SKIP
    '6f1c…'
    """

    pilots: Pilots
    prompts: Prompts

    def __init__(
        self,
        *,
        http_client: httpx.Client | None = None,
        meter_provider: Any = None,
        environ: Mapping[str, str] | None = None,
        _pipeline_factory: PipelineFactory | None = None,
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
        parts = assemble_pilots(self.config, recorder=self, publish_opt_outs=self._publish_opt_outs)
        self.pilots = parts.pilots
        self.prompts = parts.prompts
        self._opt_outs = parts.opt_outs  # kept in the store; they publish self._opted_out
        self._shutdown_hooks.append(parts.close)
        # The processor order, in one list (None: not configured):
        steps = [
            # First of all: an opted-out user's event is neither tagged, remembered, redacted
            # nor seen by before_send.
            parts.opt_out_step,
            Step("typed", resolve_typed_body, "internal_error"),
            # Tags and history see the resolved event, and before_send sees the tags.
            parts.pilots_step,
            parts.prompt_history_step,
            # Before before_send and the spool: nothing unredacted leaves or touches disk.
            Step("redact_pii", redact_feedback, "internal_error")
            if self.config.redact_pii
            else None,
            # Last: the user's hook sees the final event.
            Step("before_send", self._run_before_send, "before_send")
            if self.config.before_send is not None
            else None,
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
        if self.config.speedups and not self._disabled and type(self).milestone is Client.milestone:
            fast = accelerated_milestone(self, Client.milestone)
            if fast is not None:
                # An instance attribute shadows the method: callers get the C function directly.
                vars(self)["milestone"] = fast
        _live_clients.add(self)

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
        scope = build_scope(dict(config.resource_attributes), _sdk_version())
        encoder = make_encoder(config.protocol, scope, accelerated=config.speedups)

        def make_exporter(interrupt: threading.Event) -> OtlpHttpExporter:
            return OtlpHttpExporter(
                HttpTransport(config, self._http_client),
                content_type=encoder.content_type,
                compression=config.compression == "gzip",
                request_timeout=config.timeout,
                interrupt=interrupt,
            )

        return BatchPipeline(
            stats=stats,
            chain=chain,
            encoder=encoder,
            make_exporter=make_exporter,
            max_queue_size=config.max_queue_size,
            max_queue_bytes=config.max_queue_bytes,
            max_export_batch_size=config.max_export_batch_size,
            max_export_batch_bytes=config.max_export_batch_bytes,
            schedule_delay=config.schedule_delay,
            export_timeout=config.export_timeout,
            spool=_open_spool(config),
        )

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

    def outcome(
        self,
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
        """Record a result that proves value (renewal, expansion...). Returns the event id."""
        if self._disabled:
            return None
        try:
            if type(name) is not str or name not in _known_names:
                check_name("name", name)  # the name rule (_names.py): raises if broken
            attributes: dict[str, Any] = {}
            if value is not None:
                attributes[OUTCOME_VALUE] = check_number("value", value)
            if unit is not None:
                attributes[OUTCOME_UNIT] = check_id("unit", unit)
            body, size = (
                (None, 0)
                if properties is None
                else check_properties_sized(properties, "properties", self._drop_property)
            )
            return self._emit(
                OUTCOME,
                name,
                body,
                attributes or None,
                user_id,
                account_id,
                session_id,
                timestamp,
                size,
            )
        except InvalidEventError as error:
            self._invalid(error)
        except Exception:
            try:
                self._internal_error()
            except Exception:  # RecursionError/MemoryError while reporting one
                self._unreported[0] += 1
        return None

    def feedback(
        self,
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
        """Record what a customer said: nps 0-10, csat 1-5, ces 1-7, rating 1-5, thumbs 0/1."""
        if self._disabled:
            return None
        try:
            broken = feedback_rule(kind, score, comment)
            if broken is not None:
                raise InvalidEventError(*broken)
            check_id("prompt_id", prompt_id)
            check_id("area", area)
            if prompt_id is not None:
                self._check_answer(prompt_id, kind)
            if type(comment) is str and len(comment) > MAX_STRING_LENGTH:
                comment = self._truncated_comment(comment)  # last: only a kept answer counts
            check_text("comment", comment)
            attributes = feedback_attributes(kind, score, comment, prompt_id, area)
            body, size = (
                (None, 0)
                if properties is None
                else check_properties_sized(properties, "properties", self._drop_property)
            )
            if comment is not None:
                size += len(comment)
            event_id = self._emit(
                FEEDBACK, kind, body, attributes, user_id, account_id, session_id, timestamp, size
            )
            if prompt_id is not None:
                # "Never again after an answer" holds from now, not when the worker gets here.
                self.prompts.answered(prompt_id, user_id)
            return event_id
        except InvalidEventError as error:
            self._invalid(error)
        except Exception:
            try:
                self._internal_error()
            except Exception:  # RecursionError/MemoryError while reporting one
                self._unreported[0] += 1
        return None

    def track(
        self,
        event: Event,
        *,
        user_id: str | None = None,
        account_id: str | None = None,
        session_id: str | None = None,
        timestamp: _dt.datetime | float | None = None,
    ) -> str | None:
        """Record a typed event (a ``cs_sdk.Event`` subclass instance). Returns the event id."""
        if self._disabled:
            return None
        try:
            if not isinstance(event, Event):
                raise InvalidEventError("event", "must be an instance of a cs_sdk.Event subclass")
            cls = type(event)
            if not cls.is_declared():
                raise InvalidEventError(
                    "event", f"{cls.__qualname__} must be declared with name= and version="
                )
            schema = cls.__cs_schema__
            size = estimated_bytes(event.__dict__)
            return self._emit(
                schema, schema.name, event, None, user_id, account_id, session_id, timestamp, size
            )
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

    def _truncated_comment(self, comment: str) -> str:
        # Kept, cut, counted (see _feedback_text.py), in strict mode too: what a customer
        # typed is not the developer's mistake.
        self._stats.note("comment_truncated")
        warn_once(
            "feedback:comment_truncated",
            "cs_sdk: a feedback comment of %d characters was cut to %d (the score is kept)",
            len(comment),
            MAX_STRING_LENGTH,
        )
        return truncated(comment)

    def _check_answer(self, prompt_id: str, kind: str) -> None:
        """Feedback with a ``prompt_id`` must answer a prompt of the configuration, with the
        prompt's kind: otherwise counted and logged (strict: raised), and still recorded."""
        try:
            problem = self.prompts.answer_problem(prompt_id, kind)
        except Exception:
            logger.debug("checking the prompt of a feedback failed", exc_info=True)
            return
        if problem is None:
            return
        reason, message = problem
        if self._strict:
            raise InvalidEventError("prompt_id" if reason == "unknown_prompt" else "kind", message)
        self._stats.note(reason)  # type: ignore[arg-type]
        warn_once(f"feedback:{reason}:{prompt_id}", "cs_sdk: %s (recorded anyway)", message)

    def _invalid(self, error: InvalidEventError) -> None:
        if self._strict:
            raise error
        self._stats.drop("invalid")
        warn_once(f"invalid:{error.rule}", "cs_sdk: dropped an invalid event: %s", error)

    def _property_dropped(self, error: Unconvertible) -> None:
        self._stats.count("properties_dropped")
        warn_once(
            f"property:{error.type_name}",
            "cs_sdk: left out property %s, a %s, which cannot be sent (the event was kept); "
            "convert it to a str, number or bool",
            error.field,
            error.type_name,
        )

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

    def _run_before_send(self, record: EventRecord) -> EventRecord | None:
        hook = self.config.before_send
        result = hook(record) if hook is not None else record
        if result is not None and not isinstance(result, EventRecord):
            warn_once("before_send:type", "cs_sdk: before_send must return the event or None")
            return None
        return result

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

    # -- lifecycle -----------------------------------------------------------------------

    def flush(self, timeout: float = 5.0) -> bool:
        """Block until everything recorded before the call is delivered; True on success."""
        if self._disabled:
            return True
        seconds = _wait_seconds(timeout)
        if seconds is None:
            return False
        try:
            return self._pipeline.flush(seconds)
        except Exception:
            logger.debug("flush failed", exc_info=True)
            return False

    def add_shutdown_hook(self, hook: Callable[[], None]) -> None:
        """Run ``hook`` after the pipeline stopped (close stores, stop pollers)."""
        self._shutdown_hooks.append(hook)

    def shutdown(self, timeout: float = 5.0) -> bool:
        """Flush within ``timeout`` seconds, stop the worker, release resources. Idempotent."""
        if self._closed:
            return True
        self._closed = True
        _live_clients.discard(self)
        delivered = True
        seconds = _wait_seconds(timeout)
        if not self._disabled:
            try:
                delivered = self._pipeline.shutdown(
                    self.config.shutdown_timeout if seconds is None else seconds
                )
            except Exception:
                logger.debug("shutdown failed", exc_info=True)
                delivered = False
        for hook in self._shutdown_hooks:
            try:
                hook()
            except Exception:
                logger.debug("shutdown hook failed", exc_info=True)
        return delivered

    async def aflush(self, timeout: float = 5.0) -> bool:
        """:meth:`flush` without blocking the event loop."""
        return await asyncio.to_thread(self.flush, timeout)

    async def ashutdown(self, timeout: float = 5.0) -> bool:
        """:meth:`shutdown` without blocking the event loop."""
        return await asyncio.to_thread(self.shutdown, timeout)

    def stats(self) -> StatsSnapshot:
        """Counters: recorded, queued, sent, retried, spooled, replayed, dropped by reason."""
        return self._stats.snapshot(self._pipeline.queued())

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.shutdown()

    def _after_fork_in_child(self) -> None:
        # Parent and child must never mint the same event id; counters carry on from the fork.
        self._reseed_ids()
        if not self._closed and not self._disabled:
            self._pipeline.reinit_after_fork()


def _open_spool(config: Config) -> Any:
    if not config.spool_dir:
        return None
    from ._spool import Spool, SpoolError  # sqlite3 is only loaded by those who spool

    try:
        return Spool(config.spool_dir, config.spool_max_bytes)
    except SpoolError as error:
        raise ConfigError(f"spool_dir={config.spool_dir!r} cannot be used: {error}") from error


def _sdk_version() -> str:
    return __version__


_live_clients: weakref.WeakSet[Client] = weakref.WeakSet()


def _after_fork_in_child() -> None:
    _log.reset_lock_after_fork()
    for client in list(_live_clients):
        try:
            client._after_fork_in_child()
        except Exception:
            logger.debug("re-initialising a client after fork failed", exc_info=True)


def _shutdown_live_clients_at_exit() -> None:
    clients = list(_live_clients)
    if not clients:
        return
    budget = max(client.config.shutdown_timeout for client in clients)
    deadline = time.monotonic() + budget
    for client in clients:
        client.shutdown(max(deadline - time.monotonic(), 0.0))


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)
atexit.register(_shutdown_live_clients_at_exit)
