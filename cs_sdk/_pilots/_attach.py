"""``attach(client)``: give a client its pilots, its prompts and their processor steps.

Called once from ``Client.__init__`` after the pipeline exists::

    attach(client)            # or attach(client, clock=fake_clock) in tests
    client.pilots.enroll("u1", "new-dashboard")
    client.prompts.next_for("u1")
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._log import warn_once
from .._processors import Step
from .._prompts import FileSource, Prompts, UrlSource
from .._prompts._engine import Clock
from .._prompts._source import ConfigSource
from ..state import MemoryStore, open_store
from ._opt_outs import OptOuts, StoreWatch
from ._pilots import Pilots
from ._steps import PromptHistoryStep, pilot_tagger

if TYPE_CHECKING:
    from .._client import Client

__all__ = ["attach", "open_source"]

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


def attach(client: Client, clock: Clock | None = None) -> OptOuts:
    """Open the state store and the configuration of ``client`` and wire pilots/prompts.

    Sets ``client.pilots`` (:class:`~cs_sdk._pilots.Pilots`) and ``client.prompts``
    (:class:`~cs_sdk._prompts.Prompts`); puts the ``opt_out`` step first in the processor
    chain and appends the ``pilots`` and ``prompt_history`` steps (the client adds redaction
    and ``before_send`` after them); registers the once-per-batch check of the store's change
    marker and a shutdown hook that stops polling and closes the store. Returns the client's
    opt-outs, kept in the store (they publish the hot-path set to the client).

    Raises:
        ConfigError: ``state=`` is not a valid store URL (or Redis without its package).
        PromptConfigError: ``prompts=`` names a local file that is missing or invalid.
    """
    config = client.config
    if config.disabled:
        # setattr: the attributes are declared by the client, not known to this module.
        setattr(client, "pilots", Pilots.noop())  # noqa: B010
        setattr(client, "prompts", Prompts.noop())  # noqa: B010
        return OptOuts(MemoryStore(), publish=client._publish_opt_outs)
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
    prompts = Prompts(store, source=source, recorder=client, clock=clock, strict=config.strict)
    pilots = Pilots(
        store,
        recorder=client,
        clock=clock,
        strict=config.strict,
        on_change=prompts.invalidate,
        config=lambda: prompts.config,
    )
    opt_outs = OptOuts(store, publish=client._publish_opt_outs, on_change=prompts.invalidate)
    # First of all steps: an opted-out user's event is neither tagged, remembered, redacted
    # nor seen by before_send. The watch runs before each batch (ProcessorChain.refresh).
    client.processors.add(Step("opt_out", opt_outs.step, "opted_out"), first=True)
    client.processors.add_refresher(StoreWatch(store, opt_outs, pilots.forget_cached))
    # The client calls attach() after its "typed" step and before redaction and before_send:
    # tags and history see the resolved event, and before_send sees the tags.
    client.processors.add(Step("pilots", pilot_tagger(pilots), "internal_error"))
    client.processors.add(
        Step("prompt_history", PromptHistoryStep(store, prompts), "internal_error")
    )
    setattr(client, "pilots", pilots)  # noqa: B010
    setattr(client, "prompts", prompts)  # noqa: B010

    def close() -> None:
        prompts.close()
        store.close()

    client.add_shutdown_hook(close)
    return opt_outs
