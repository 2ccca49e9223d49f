"""bench/caller_hotloop.py still runs, on the C path throughout (tiny sizes; nothing timed)."""

from __future__ import annotations

import pytest


def test_the_hot_loop_benchmark_runs_every_shape_without_a_fallback(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from bench import caller_hotloop

    # measure() raises when any call of any shape left the C path.
    assert caller_hotloop.main(["--calls", "200", "--repeat", "1", "--results", ""]) == 0
    out = capsys.readouterr().out
    for shape in ("flat", "list", "nested", "typed", "feedback", "outcome", "mix"):
        assert f"| {shape} |" in out
