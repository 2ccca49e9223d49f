"""Quickstart: record a milestone, an outcome and a feedback, and see what a collector got.

Runs the local OTLP collector in this process on a free port, so nothing else is needed:

    python examples/quickstart.py
"""

from __future__ import annotations

import sys

import cs_sdk
from cs_sdk.collector import LocalCollector


def main() -> int:
    with LocalCollector(printer=sys.stdout) as collector:
        print(f"local collector listening on {collector.endpoint}\n")
        cs_sdk.init(service_name="quickstart", endpoint=collector.endpoint)

        with cs_sdk.identify(user_id="u1", account_id="acme", session_id="s9"):
            cs_sdk.milestone("first_report_created", properties={"pages": 3, "format": "pdf"})
            cs_sdk.feedback(
                "nps",
                score=9,
                comment="Love the new dashboard",
                prompt_id="nps-after-first-report",
                area="reports",
            )
        cs_sdk.outcome("renewal", account_id="acme", value=12000.0, unit="USD")

        delivered = cs_sdk.flush(timeout=5.0)
        cs_sdk.shutdown()

        print(f"\ndelivered: {delivered}; the collector received {len(collector.records)} events:")
        for record in collector.records:
            print(
                f"  {record.event_name:<12} {record.name:<22} user={record.user_id} "
                f"account={record.account_id} id={record.event_id}"
            )
        return 0 if delivered and len(collector.records) == 3 else 1


if __name__ == "__main__":
    sys.exit(main())
