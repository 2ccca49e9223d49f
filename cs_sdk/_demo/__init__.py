"""``cs-sdk demo``: a simulated pilot through the real SDK into an in-process collector.

    result = run_demo(Path("."))          # what `cs-sdk demo` does before the report
    result.events_db, result.document     # demo-events.db, demo-pilots.toml

Two cohorts of participants go through a pilot of a new dashboard for two months of
simulated time (seconds of real time): enrolment, milestones along the pilot's path,
outcomes, prompts shown, answered and dismissed, comments, and the teams' answers. Wave 1
meets a slow board-pack export that is fixed before wave 2 enrols. The real client sends
everything over OTLP/HTTP to a real collector on loopback that stores it in SQLite, with
the pilot document and the state store (SQLite) an application would use.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import random
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from .._client import Client
from ..collector import LocalCollector
from ._document import pilot_document
from ._people import participants
from ._simulation import SimClock, Simulation, Tally

__all__ = ["DemoPaths", "DemoResult", "demo_paths", "run_demo"]

SEED: Final = 2026
PER_COHORT: Final = 300
DAYS: Final = 63
_SHUTDOWN_TIMEOUT = 30.0


@dataclass(frozen=True, slots=True)
class DemoPaths:
    """The files the demo writes into its directory."""

    document: Path
    events_db: Path
    state_db: Path
    report: Path
    report_json: Path


@dataclass(frozen=True, slots=True)
class DemoResult:
    """What the simulation did and whether every event reached the collector's database."""

    paths: DemoPaths
    tally: Tally
    recorded: int
    sent: int
    dropped: int
    stored: int

    @property
    def complete(self) -> bool:
        """Every recorded event was sent and stored, nothing dropped, every flush on time."""
        return (
            self.recorded == self.sent == self.stored
            and self.dropped == 0
            and self.tally.not_recorded == 0
            and self.tally.flush_failures == 0
        )


def demo_paths(directory: Path) -> DemoPaths:
    return DemoPaths(
        document=directory / "demo-pilots.toml",
        events_db=directory / "demo-events.db",
        state_db=directory / "demo-state.db",
        report=directory / "demo-report.html",
        report_json=directory / "demo-report.json",
    )


def _remove_database(path: Path) -> None:
    # The demo starts from nothing each time: its own databases from a previous run would
    # count every participant twice.
    for suffix in ("", "-wal", "-shm", "-journal"):
        with contextlib.suppress(FileNotFoundError):
            path.with_name(path.name + suffix).unlink()


def run_demo(
    directory: Path,
    *,
    seed: int = SEED,
    per_cohort: int = PER_COHORT,
    days: int = DAYS,
    today: _dt.date | None = None,
) -> DemoResult:
    """Simulate the pilot into ``directory``; the pilot ends at the start of ``today`` (UTC).

    Raises:
        OSError: the directory or its files cannot be written.
    """
    paths = demo_paths(directory)
    directory.mkdir(parents=True, exist_ok=True)
    _remove_database(paths.events_db)
    _remove_database(paths.state_db)
    end = today or _dt.datetime.now(_dt.timezone.utc).date()
    start_date = end - _dt.timedelta(days=days)
    start = _dt.datetime.combine(start_date, _dt.time(), _dt.timezone.utc)
    paths.document.write_text(
        pilot_document(start_date.isoformat(), end.isoformat()), encoding="utf-8"
    )
    rng = random.Random(seed)
    people = participants(rng, per_cohort)
    clock = SimClock(start)
    with LocalCollector(db=str(paths.events_db)) as collector:
        client = Client(
            environ={},
            service_name="cs-demo",
            endpoint=collector.endpoint,
            prompts=str(paths.document),
            state=f"sqlite:///{paths.state_db}",
            _clock=clock,
        )
        try:
            tally = Simulation(client, clock, rng, people, start=start, days=days).run()
        finally:
            client.shutdown(timeout=_SHUTDOWN_TIMEOUT)
        stats = client.stats()
        stored = collector.store.count() if collector.store is not None else 0
    return DemoResult(
        paths=paths,
        tally=tally,
        recorded=stats["recorded"],
        sent=stats["sent"],
        dropped=stats["dropped_total"],
        stored=stored,
    )
