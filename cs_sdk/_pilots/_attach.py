"""``assemble(config, ...)``: open a client's store and configuration, and build its pilots,
its prompts, its opt-outs and their processor steps.

The client calls it once from ``Client.__init__`` and wires the parts itself (this module
sits below the client and never imports it)::

    parts = assemble(config, recorder=client, publish_opt_outs=client._publish_opt_outs)
    parts.pilots.enroll("u1", "new-dashboard")
    parts.prompts.next_for("u1")
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from .._config import Config
from .._log import warn_once
from .._processors import Step
from .._prompts import FileSource, Prompts, UrlSource
from .._prompts._engine import Clock, Recorder
from .._prompts._source import ConfigSource
from ..state import MemoryStore, open_store
from ._opt_outs import OptOuts, StoreWatch
from ._pilots import Pilots
from ._steps import PromptHistoryStep, pilot_tagger

__all__ = ["Parts", "assemble", "open_source"]

# The first fetch of a remote document happens during init(): keep it short.
_FIRST_FETCH_TIMEOUT = 5.0


def open_source(location: str, *, timeout: float = _FIRST_FETCH_TIMEOUT) -> ConfigSource:
    """A started source for a file path or an http(s) URL.

    A local file must be valid now (a mistake there is the deployer's, and is raised); a
    remote document that cannot be fetched or is invalid is logged, and polling goes on.

    Raises:
        PromptConfigError: the local file is missing or invalid.
    """
    if location.startswith(("http://", "https://")):
        source = UrlSource(location, timeout=min(timeout, _FIRST_FETCH_TIMEOUT))
        source.reload()
        source.start()
        return source
    file_source = FileSource(location)
    file_source.load()
    return file_source


@dataclass(frozen=True, slots=True)
class Parts:
    """What :func:`assemble` built; the client wires it (``Client.__init__``).

    The steps are named by their place in the client's processor list: ``opt_out`` first of
    all, ``pilots`` and ``prompt_history`` after the typed body (empty when disabled).
    """

    pilots: Pilots
    prompts: Prompts
    opt_outs: OptOuts
    opt_out_step: Step | None = None
    pilots_step: Step | None = None
    prompt_history_step: Step | None = None
    # Run by the worker before each batch (ProcessorChain.refresh).
    refreshers: tuple[Callable[[], None], ...] = ()
    # Stops polling and closes the store (a shutdown hook of the client).
    close: Callable[[], None] = field(default=lambda: None)


def assemble(
    config: Config,
    *,
    recorder: Recorder,
    publish_opt_outs: Callable[[frozenset[str]], None],
    clock: Clock | None = None,
) -> Parts:
    """Open the state store and the prompt configuration of ``config``; build the parts.

    ``recorder`` records the pilots' and prompts' own events (the client);
    ``publish_opt_outs`` receives the hot-path set of opted-out users (kept in the store).

    Raises:
        ConfigError: ``state=`` is not a valid store URL (or Redis without its package).
        PromptConfigError: ``prompts=`` names a local file that is missing or invalid.
    """
    if config.disabled:
        return Parts(
            Pilots.noop(), Prompts.noop(), OptOuts(MemoryStore(), publish=publish_opt_outs)
        )
    store = open_store(config.state)
    if config.prompts and isinstance(store, MemoryStore):
        # The default suits one process; pre-fork servers would each keep their own history
        # and throttle, and a show-once prompt would be shown once per worker.
        warn_once(
            "state:memory",
            "cs_sdk: prompts are configured with state='memory': memberships and prompt "
            "history live in this process only. With several worker processes use "
            "state='sqlite:///path.db' (one host) or 'redis://...' (several hosts).",
        )
    try:
        source = open_source(config.prompts, timeout=config.timeout) if config.prompts else None
    except BaseException:
        store.close()
        raise
    prompts = Prompts(store, source=source, recorder=recorder, clock=clock, strict=config.strict)
    pilots = Pilots(
        store,
        recorder=recorder,
        clock=clock,
        strict=config.strict,
        on_change=prompts.invalidate,
        config=lambda: prompts.config,
    )
    opt_outs = OptOuts(store, publish=publish_opt_outs, on_change=prompts.invalidate)

    def close() -> None:
        prompts.close()
        store.close()

    return Parts(
        pilots,
        prompts,
        opt_outs,
        opt_out_step=Step("opt_out", opt_outs.step, "opted_out"),
        pilots_step=Step("pilots", pilot_tagger(pilots), "internal_error"),
        prompt_history_step=Step(
            "prompt_history", PromptHistoryStep(store, prompts), "internal_error"
        ),
        # The store's change marker, checked by the worker once per batch.
        refreshers=(StoreWatch(store, opt_outs, pilots.forget_cached),),
        close=close,
    )
