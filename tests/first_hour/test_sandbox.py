"""The project's own tests never send to localhost:4318, where a developer's collector runs."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest_plugins = ["pytester"]

CONFTEST = Path(__file__).parents[1] / "conftest.py"


def test_a_test_that_sends_to_the_default_endpoint_fails_and_sends_nothing(
    pytester: pytest.Pytester,
) -> None:
    pytester.makeconftest(CONFTEST.read_text())
    pytester.makepyfile(
        test_sends_to_the_default="""
import cs_sdk

def test_records_with_the_default_endpoint():
    client = cs_sdk.Client(environ={}, service_name="t", export_timeout=1.0)
    client.milestone("first_report_created", user_id="u1")
    client.flush(timeout=2)
    client.shutdown(timeout=1)

def test_with_an_endpoint_of_its_own():
    client = cs_sdk.Client(environ={}, service_name="t", endpoint="http://127.0.0.1:9")
    client.shutdown(timeout=1)
"""
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=2, errors=1)
    result.stdout.fnmatch_lines(["*connected to the default collector address*4318*"])
