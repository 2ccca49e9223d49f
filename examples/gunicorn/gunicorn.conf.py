"""gunicorn configuration for examples/gunicorn/app.py (guide: docs/integrations/gunicorn.md)."""

import cs_sdk
from cs_sdk.integrations.gunicorn import worker_exit  # noqa: F401  (gunicorn reads it by name)

workers = 3
graceful_timeout = 30


def post_fork(server: object, worker: object) -> None:
    # One client per worker. The endpoint and the rest come from OTEL_* variables.
    cs_sdk.init(service_name="gunicorn-example")
