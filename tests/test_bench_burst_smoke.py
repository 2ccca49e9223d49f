"""bench/burst.py, bench/held_memory.py, bench/held_profile.py and bench/queued_memory.py still
run (tiny sizes; nothing here is timed)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest


def test_the_burst_benchmark_runs_and_loses_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from bench import burst

    out = tmp_path / "burst.json"
    args = ["--events", "2000", "--paced", "200", "--pace-ms", "1", "--shapes", "flat,typed"]
    assert burst.main([*args, "--json", str(out)]) == 0
    samples = json.loads(out.read_text())["samples"]
    for shape in ("flat", "typed"):
        (run,) = samples[shape]
        assert run["lost"] == 0 and run["delivered"] == 2000 and run["flushed"] is True
    assert "| flat |" in capsys.readouterr().out


def test_the_held_memory_benchmark_runs_and_holds_every_event(tmp_path: Path) -> None:
    from bench import held_memory

    out = tmp_path / "held.json"
    assert held_memory.main(["--events", "3000", "--shapes", "flat", "--json", str(out)]) == 0
    samples = json.loads(out.read_text())["samples"]
    for mode in ("burst", "paced"):
        (run,) = samples[f"flat, {mode}"]
        assert run["held"] == 3200 and run["dropped"] == 0


def test_the_queued_memory_benchmark_runs_and_counts_at_least_what_is_held(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from bench import queued_memory

    assert queued_memory.main(["--events", "500", "--shapes", "list,typed"]) == 0
    out = capsys.readouterr().out
    assert "| list |" in out and "| typed |" in out
    run = queued_memory.measure("nested", 500)
    assert run["estimated"] >= run["held"] > 0


def test_the_held_profile_benchmark_runs_and_holds_every_event(tmp_path: Path) -> None:
    from bench import held_profile

    out = tmp_path / "profile.json"
    assert held_profile.main(["--events", "2000", "--shapes", "flat", "--json", str(out)]) == 0
    (run,) = json.loads(out.read_text())["samples"]["flat"]
    # Every event held (the closed port stays reserved: nothing can take it meanwhile).
    assert run["held"] == 2200 and run["sent"] == 0 and run["dropped"] == 0
    assert 0 <= run["queued_share"] <= 1 and run["queued_B"] > 0
