"""The client's own counters as OpenTelemetry metrics (optional).

``Client(metrics=True)`` registers observable instruments on the global MeterProvider, or on
``meter_provider=`` when given; the values are read from ``stats()`` at each collection, so the
hot path pays nothing. Only the stable ``opentelemetry.metrics`` API is used.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from ._stats import StatsSnapshot

if TYPE_CHECKING:
    from opentelemetry.metrics import CallbackOptions, Observation

_COUNTERS = {
    "recorded": "Events accepted by a recording call",
    "sent": "Events accepted by the collector",
    "retried": "Export attempts retried",
    "spooled": "Events written to the durable spool",
    "replayed": "Events delivered from the spool",
}


def register_stats_metrics(
    stats: Callable[[], StatsSnapshot], version: str, meter_provider: Any = None
) -> None:
    """Expose ``stats()`` as ``cs_sdk.events.*`` counters and a ``cs_sdk.queue.size`` gauge."""
    # Imported here, by the client that asks for metrics (on its caller's thread; the
    # callbacks, which run on the reader's thread, find it loaded), not by every init().
    from opentelemetry import metrics
    from opentelemetry.metrics import Observation

    provider = meter_provider or metrics.get_meter_provider()
    meter = provider.get_meter("cs_sdk", version)

    def counter(name: str) -> Callable[[CallbackOptions], Iterable[Observation]]:
        def observe(options: CallbackOptions) -> Iterable[Observation]:
            return [Observation(stats()[name])]  # type: ignore[literal-required]

        return observe

    for name, description in _COUNTERS.items():
        meter.create_observable_counter(
            f"cs_sdk.events.{name}",
            callbacks=[counter(name)],
            unit="{event}",
            description=description,
        )

    def dropped(options: CallbackOptions) -> Iterable[Observation]:
        return [
            Observation(count, {"reason": reason}) for reason, count in stats()["dropped"].items()
        ]

    def queued(options: CallbackOptions) -> Iterable[Observation]:
        return [Observation(stats()["queued"])]

    meter.create_observable_counter(
        "cs_sdk.events.dropped",
        callbacks=[dropped],
        unit="{event}",
        description="Events dropped, by reason",
    )
    meter.create_observable_up_down_counter(
        "cs_sdk.queue.size",
        callbacks=[queued],
        unit="{event}",
        description="Events waiting in the in-memory queue",
    )
