"""The "billing" service: records renewal outcomes and the shared ``subscription.renewed`` event.

python examples/shared_events/billing_worker.py http://127.0.0.1:4318
"""

from __future__ import annotations

import sys

from acme_events import SubscriptionRenewed

import cs_sdk

RENEWALS = [
    ("acme", 12000.0, "USD", 40),
    ("globex", 4500.0, "EUR", 15),
]


def main(endpoint: str) -> None:
    cs_sdk.init(service_name="billing", endpoint=endpoint)
    try:
        for account_id, amount, currency, seats in RENEWALS:
            with cs_sdk.identify(account_id=account_id):
                cs_sdk.outcome("renewal", value=amount, unit=currency)
                cs_sdk.track(SubscriptionRenewed(amount=amount, currency=currency, seats=seats))
        if not cs_sdk.flush(timeout=10):
            raise RuntimeError(f"billing: not every event reached {endpoint}")
    finally:
        cs_sdk.shutdown()


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:4318")
