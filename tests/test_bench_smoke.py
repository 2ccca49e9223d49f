"""The benchmarks still run: tiny sizes, cs_sdk only (the peers are the bench extra).

Nothing here is timed; the numbers come from ``python -m bench`` on a quiet machine.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def test_the_encoding_benchmark_runs_and_finds_the_encoders_byte_identical(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from bench import encoding

    assert encoding.main(["--records", "16", "--repeat", "1"]) == 0
    assert "byte-identical" in capsys.readouterr().out


def test_the_side_by_side_benchmark_runs_every_scenario_for_cs_sdk(tmp_path: Path) -> None:
    raw = tmp_path / "bench.json"
    command = [sys.executable, "-m", "bench", "--sdk", "cs_sdk", "--events", "300"]
    command += ["--calls", "200", "--requests", "10", "--repeat", "1", "--results", ""]
    command += ["--json", str(raw), "--no-parts"]
    subprocess.run(command, cwd=ROOT, check=True, capture_output=True, timeout=120)
    results = json.loads(raw.read_text())["results"]["cs_sdk"]
    assert results["throughput"]["delivered"] == 300
    assert results["latency"]["calls"] == 200
    assert results["host"]["dropped_during"] == 0
    assert results["down"]["shutdown_s"] is not None


def test_the_loop_lag_benchmark_runs_with_and_without_the_sdk(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    from bench import loop_lag

    results = tmp_path / "RESULTS.md"
    results.write_text("# results\n")
    assert loop_lag.main(["--repeat", "1", "--results", str(results)]) == 0
    out = capsys.readouterr().out
    assert "| no SDK" in out and "| cs_sdk (C accelerator)" in out
    # Its own section, replaced (not appended again) on the next run.
    assert loop_lag.main(["--repeat", "1", "--results", str(results)]) == 0
    assert results.read_text().count("<!-- loop-lag -->") == 1
    assert results.read_text().startswith("# results\n")


def test_the_budgets_benchmark_prints_the_figures_the_hang_guards_stand_for(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from bench import budgets

    assert budgets.main(["--repeat", "1", "--results", ""]) == 0
    out = capsys.readouterr().out
    assert "mixed contact details" in out and "with nothing listening" in out
