"""The worker benchmark by event shape still runs (tiny sizes; nothing here is timed)."""

from __future__ import annotations

import json
from pathlib import Path

from bench import worker_shapes


def test_every_shape_is_measured_and_delivered_whole(tmp_path: Path) -> None:
    raw = tmp_path / "shapes.json"
    argv = ["--events", "20", "--repeat", "1", "--burst", "200", "--json", str(raw)]
    assert worker_shapes.main(argv) == 0
    results = json.loads(raw.read_text())
    assert set(results["worker_us"]) == set(worker_shapes.SHAPES)
    for shape, rows in results["burst"].items():
        for accelerated, row in rows.items():
            assert (shape, accelerated, row["delivered"], row["lost"]) == (
                shape,
                accelerated,
                200,
                0,
            )
