"""Both services against one local collector that validates what arrives.

    python examples/shared_events/run_demo.py

Exports the schemas of ``acme_events`` and the SDK's built-in events to a temporary
directory (what ``cs-sdk schemas export acme_events --out DIR`` writes), starts
``LocalCollector(schemas=SchemaValidator(dir))``, runs the web app and the billing worker
against it, and prints the validator's report.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import billing_worker
import web_app

from cs_sdk.collector import LocalCollector
from cs_sdk.events import SchemaValidator, export_modules


def export_all(directory: str | Path) -> None:
    """The shared events plus the built-ins (cs.milestone, cs.outcome, ...) in one export."""
    export_modules(["acme_events"], directory)


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="acme-schemas-") as directory:
        export_all(directory)
        validator = SchemaValidator(directory)
        with LocalCollector(schemas=validator) as collector:
            web_app.main(collector.endpoint)
            billing_worker.main(collector.endpoint)
            print(f"received {len(collector.records)} events\n")
        print(validator.report())
        violated = sum(tally.violated for tally in validator.tallies.values())
    return 1 if violated else 0


if __name__ == "__main__":
    sys.exit(main())
