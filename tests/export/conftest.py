"""Every encoding test runs twice: with the protobuf writer's C parts (``_encoder_speedups``,
when it is built) and with the pure-Python one, which installs without a compiler run."""

from __future__ import annotations

import pytest

from cs_sdk import _accelerated
from cs_sdk._export import _protobuf


@pytest.fixture(autouse=True, params=["c", "python"])
def protobuf_writer(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    if request.param == "python":
        monkeypatch.setattr(_protobuf, "encode_pairs", None)
    elif _accelerated.encode_pairs is None:
        pytest.skip("the C accelerator is not built here")
    return str(request.param)
