"""The "web" service: records milestones and the shared ``report.exported`` event.

python examples/shared_events/web_app.py http://127.0.0.1:4318
"""

from __future__ import annotations

import sys

from acme_events import ReportExported

import cs_sdk


def main(endpoint: str) -> None:
    cs_sdk.init(service_name="web", endpoint=endpoint)
    try:
        with cs_sdk.identify(user_id="u1", account_id="acme", session_id="s1"):
            cs_sdk.milestone("first_report_created", properties={"pages": 3})
            cs_sdk.track(ReportExported(format="pdf", pages=3))
        with cs_sdk.identify(user_id="u2", account_id="globex"):
            cs_sdk.milestone("first_report_created", properties={"pages": 12})
            cs_sdk.track(ReportExported(format="csv", pages=12))
        if not cs_sdk.flush(timeout=10):
            raise RuntimeError(f"web: not every event reached {endpoint}")
    finally:
        cs_sdk.shutdown()


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:4318")
