"""The benchmarks still run: tiny sizes, cs_sdk only (the peers are the bench extra).

Nothing here is timed; the numbers come from ``python -m bench`` on a quiet machine.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from _accelerator import needs_accelerator

from cs_sdk import _accelerated

ROOT = Path(__file__).resolve().parent.parent


def test_the_encoding_benchmark_runs_and_finds_the_encoders_byte_identical(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from bench import encoding

    assert encoding.main(["--records", "16", "--repeat", "1"]) == 0
    assert "byte-identical" in capsys.readouterr().out


def test_the_side_by_side_benchmark_runs_every_scenario_and_shape_for_cs_sdk(
    tmp_path: Path,
) -> None:
    from bench import _shape_report
    from bench._shapes import SHAPES

    raw = tmp_path / "bench.json"
    report = tmp_path / "RESULTS.md"
    # A section written by hand (and one by another part) must survive the rewrite.
    report.write_text(
        "<!-- loop-lag -->\nlag figures\n<!-- /loop-lag -->\n\n## Written by hand\n\nkept\n"
    )
    command = [sys.executable, "-m", "bench", "--sdk", "cs_sdk", "--events", "300"]
    command += ["--calls", "200", "--requests", "10", "--repeat", "1", "--results", str(report)]
    command += ["--json", str(raw), "--no-parts"]
    # A hang guard only (the run takes well under a minute on an idle machine).
    subprocess.run(command, cwd=ROOT, check=True, capture_output=True, timeout=600)
    document = json.loads(raw.read_text())
    results = document["results"]["cs_sdk"]
    assert results["throughput"]["delivered"] == 300
    assert results["latency"]["calls"] == 200
    assert results["host"]["dropped_during"] == 0
    assert results["down"]["shutdown_s"] is not None

    # Every shape, paced and in a burst: all delivered, nothing dropped, the books balanced.
    for shape in SHAPES:
        run = results[f"shape-{shape}"]
        assert run["calls"] == 200 and run["dropped_during"] == 0, shape
        assert (run["delivered"], run["dropped_reported"]) == (300, 0), shape
    interleaved = results["shapes-interleaved"]
    assert set(interleaved["vs_flat"]) == set(SHAPES) and interleaved["vs_flat"]["flat"] == 1
    assert interleaved["dropped_during"] == 0
    assert results["down-mix"]["dropped_reported"] == 0  # the mix held with the collector down
    # The bench's own work for the mix, with no SDK: the baseline of every paced figure; and
    # the floor of a recording call, built for the run where there is a compiler.
    assert document["results"]["none"]["harness-mix"]["calls"] == 200
    floor = document["results"].get("floor", {}).get(_shape_report.FLOOR_MIX)
    if _accelerated.AVAILABLE or os.environ.get("CS_SDK_REQUIRE_SPEEDUPS"):  # a compiler
        assert floor is not None and floor["calls"] == 200
    else:
        assert floor is not None or any("floor" in n for n in document["meta"]["notes"])
    assert results["coldstart"]["import_ms"] > 0 and "first_event_ms" in results["coldstart"]

    # The realistic mix leads the report, its targets are judged, the rest of the file stays.
    text = report.read_text()
    assert text.startswith("<!-- peers -->\n# cs_sdk vs peers")
    assert text.index("realistic mix: caller µs/call, paced") < text.index("caller µs/call, median")
    assert "### Issue 15's targets in this run" in text
    assert "lag figures" in text and "## Written by hand\n\nkept" in text
    assert text.count("<!-- peers -->") == 1
    lines = _shape_report.targets(document["results"])
    assert any("nothing lost in any shape's burst" in line for line in lines)
    assert all(line.startswith(("- met:", "- **not met**:")) for line in lines)


def test_the_paced_target_says_what_the_bench_s_own_work_leaves_room_for() -> None:
    from bench import _shape_report

    results = {
        "cs_sdk": {"shape-mix": {"us_median": 1.5}},
        "otel": {"shape-mix": {"us_median": 15.0}},
        "segment": {"shape-mix": {"us_median": 30.0}},
        "none": {_shape_report.HARNESS_MIX: {"us_median": 1.0}},
    }
    (paced,) = [line for line in _shape_report.targets(results) if "cost paced" in line]
    assert paced.startswith("- met: realistic mix, caller cost paced: 10.0x below the cheapest")
    assert "no SDK could be more than 15.0x below this peer" in paced
    assert "net of it, 14.00 µs against 0.50 = 28.0x" in paced
    assert "floor" not in paced  # not measured in this run: not mentioned

    results["floor"] = {_shape_report.FLOOR_MIX: {"us_median": 1.2}}
    (paced,) = [line for line in _shape_report.targets(results) if "cost paced" in line]
    assert "measured 1.20 µs paced: 12.5x below this peer" in paced
    assert paced.endswith("cs_sdk is 1.25x the floor")


@needs_accelerator  # where the accelerator is built there is a compiler for the floor too
def test_the_floor_benchmark_builds_the_floor_and_measures_it_beside_cs_sdk(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    from bench import floor

    raw = tmp_path / "floor.json"
    argv = ["--rounds", "1", "--calls", "200", "--sdk", "none,floor,cs_sdk", "--json", str(raw)]
    assert floor.main(argv) == 0
    out = capsys.readouterr().out
    assert "| none |" in out and "| floor |" in out and "| cs_sdk |" in out
    assert "cs_sdk is " in out and "from the floor" in out
    runs = json.loads(raw.read_text())["runs"]
    assert set(runs) == {"none", "floor", "cs_sdk"} and all(len(v) == 1 for v in runs.values())


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


def test_each_benchmark_shape_records_the_event_it_claims_and_the_mix_keeps_its_weights() -> None:
    from collections import Counter

    from bench import _shapes
    from bench._peers import CsSdk, LogCounter
    from cs_sdk.testing import capture

    sdk = CsSdk("http://127.0.0.1:9", LogCounter())  # never sends: capture() holds the events
    try:
        by_shape = _shapes.calls(sdk)
        with capture(sdk.client) as events:
            for shape in ("flat", "list", "nested", "typed", "feedback", "outcome"):
                by_shape[shape](7)
            by_shape["feedback"](3)  # event 7's answer is the one in eight without a comment
        flat, listed, nested, typed, silent, result, answer = events
        assert flat.name == typed.name == _shapes.EVENT and flat.user_id == "user-0007"
        assert len(flat.properties) == 8 and flat.properties["rows"] == 7
        assert listed.properties["tags"] == list(_shapes._TAG_PAIRS[7])
        assert set(nested.properties["filters"]) == {"region", "since_days", "archived"}
        assert typed.schema_name == _shapes.EVENT and typed.properties == flat.properties
        assert (silent.name, silent.score, silent.comment) == ("nps", 7, None)
        assert (answer.score, answer.comment) == (3, _shapes.nps(3)[1]) and answer.comment
        assert result.name == _shapes.OUTCOME_EVENT
        assert sdk.client.stats()["dropped_total"] == 0
    finally:
        sdk.client.shutdown(timeout=0.1)
    # Every 100 consecutive events of the mix hold each shape in its stated proportion.
    assert Counter(_shapes._SCHEDULE) == Counter(_shapes.WEIGHTS)
    assert sum(_shapes.WEIGHTS.values()) == 100
