"""bench/cold_start.py runs: one round, cs_sdk only (the peers are the bench extra).

Nothing here is timed; the figures come from ``python -m bench.cold_start``.
"""

from __future__ import annotations

import pytest

from bench import cold_start


def test_the_cold_start_benchmark_measures_cs_sdk_and_its_event_arrives(
    capsys: pytest.CaptureFixture[str],
) -> None:
    measured = cold_start.measure(repeat=1, sdks=["cs_sdk"])
    row = measured["results"]["cs_sdk"]
    assert row["delivered"] is True
    assert row["cold_ms"] == row["import_ms"] + row["init_event_ms"]
    assert min(row["process_ms"], row["import_ms"], row["init_event_ms"]) > 0
    assert cold_start.main(["--repeat", "1", "--sdk", "cs_sdk"]) == 0
    assert "| cs_sdk |" in capsys.readouterr().out
    assert 0 < row["import_modules"] < row["cold_modules"]
