"""A Celery worker that records outcome events with the identity of whoever sent the task.

    redis-server &                       # the broker
    cs-sdk collector &                   # see the events arrive
    celery --workdir examples/celery_worker -A tasks worker --pool=prefork --concurrency=2
    python examples/celery_worker/send.py   # sends a few tasks as user u1 of account acme

Each prefork child delivers its events after every task (``instrument_celery``) and at
shutdown, so nothing waits for a batch that a recycled child would never send.
"""

from __future__ import annotations

import os
from typing import Any

from celery import Celery, signals

import cs_sdk
from cs_sdk.integrations.celery import instrument_celery

BROKER = os.environ.get("CELERY_BROKER_URL", "redis://127.0.0.1:6379/0")

app = Celery("billing", broker=BROKER, backend=BROKER)
app.conf.update(worker_hijack_root_logger=False, broker_connection_retry_on_startup=True)
instrument_celery(app)


@signals.worker_init.connect
def start_cs_sdk(**_: Any) -> None:
    # In the worker's main process, before the pool forks: each child re-seeds its ids and
    # starts its own sender thread. The endpoint comes from OTEL_EXPORTER_OTLP_ENDPOINT.
    cs_sdk.init(service_name="billing-worker")


@app.task(name="billing.invoice_paid")
def invoice_paid(invoice_id: str, amount: float) -> str | None:
    """Record the outcome; the user and account are the sender's (from the task headers)."""
    return cs_sdk.outcome(
        "invoice_paid", value=amount, unit="USD", properties={"invoice_id": invoice_id}
    )
