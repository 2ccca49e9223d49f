"""The one rule for tests of the C accelerator: skipped where it is not built (no compiler,
or not CPython), except where ``CS_SDK_REQUIRE_SPEEDUPS`` says it must be (CI), where they
fail instead."""

from __future__ import annotations

import os

import pytest

from cs_sdk import _accelerated

needs_accelerator = pytest.mark.skipif(
    not _accelerated.AVAILABLE and not os.environ.get("CS_SDK_REQUIRE_SPEEDUPS"),
    reason="the C accelerator is not built here (no compiler, or not CPython)",
)
