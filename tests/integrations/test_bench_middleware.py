"""The middleware benchmark still runs (tiny sizes, nothing timed: figures come from
``python -m bench.middleware`` and are in bench/RESULTS.md)."""

from __future__ import annotations

from bench import middleware


def test_the_middleware_benchmark_runs_every_cs_sdk_variant() -> None:
    results = [middleware.measure(v, 50, 2) for v in ("asgi cs_sdk", "wsgi cs_sdk")]
    assert all(result["us"] > 0 and result["bare_us"] > 0 for result in results)
    assert "asgi cs_sdk" in middleware.table(results)
