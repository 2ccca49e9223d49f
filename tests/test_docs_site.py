"""The documentation site: ``mkdocs build --strict`` passes, the configuration reference is
the code's, and every Python sample of the site's pages runs.

Each page's samples run in order, in one fresh interpreter per page (pages configure Django,
set a global TracerProvider...), against a live local collector: the samples' endpoint
``http://127.0.0.1:4318`` is replaced by the collector's. Pages whose samples other tests
run are listed in ``TESTED_ELSEWHERE``. A sample that cannot run on its own is marked with
``<!-- not-executed: reason -->`` on the line before it, and must still compile.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

import cs_sdk
from cs_sdk._config import resolve
from cs_sdk._option_docs import OPTIONS, option_names, render_reference
from cs_sdk.collector import LocalCollector

ROOT = Path(__file__).parents[1]
DOCS = ROOT / "docs"
SAMPLE_ENDPOINT = "http://127.0.0.1:4318"
TESTED_ELSEWHERE = {
    "pilots.md": "tests/pilots/test_docs.py",
    "otlp-mapping.md": "tests/test_docs.py",
    "reliability.md": "tests/test_docs.py",
    "production.md": "tests/test_production_docs.py",
    "report.md": "tests/report/test_cli.py",
}
# Compiled here but not run: fragments of one walkthrough (one redeclares the other's event,
# one needs the example's web_app); its rule tables are checked by tests/events/test_compat.py.
COMPILED_ONLY = {"schemas.md"}
FENCE = re.compile(
    r"(?:<!--\s*not-executed:\s*(?P<reason>.*?)\s*-->\s*\n)?^```python\n(?P<code>.*?)^```",
    flags=re.DOTALL | re.MULTILINE,
)
PAGES = sorted(
    str(path.relative_to(DOCS))
    for path in DOCS.rglob("*.md")
    if str(path.relative_to(DOCS)) not in TESTED_ELSEWHERE
)


def test_the_site_builds_strictly(tmp_path: Path) -> None:
    site = tmp_path / "site"
    done = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(site)],
        cwd=ROOT, capture_output=True, text=True, timeout=600,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    reference = (site / "reference" / "configuration" / "index.html").read_text()
    for name in option_names():
        assert f"<code>{name}</code>" in reference
    api = (site / "reference" / "api" / "index.html").read_text()
    assert "CsMiddleware" in api and "instrument_celery" in api


def test_every_page_of_the_site_is_in_the_navigation() -> None:
    config = (ROOT / "mkdocs.yml").read_text()
    for path in DOCS.rglob("*.md"):
        assert str(path.relative_to(DOCS)) in config, f"{path} is not in mkdocs.yml's nav"


def test_the_reference_covers_every_option_and_every_variable_named_works() -> None:
    assert set(OPTIONS) == option_names()
    for name, doc in OPTIONS.items():
        field = "logs_endpoint" if name == "endpoint" else name
        for variable, example, expected in doc.variables:
            value = getattr(resolve({variable: example}), field)
            if isinstance(expected, dict):
                assert expected.items() <= dict(value).items(), (variable, value)
            else:
                assert value == expected, (variable, value)
    assert "`OTEL_BLRP_SCHEDULE_DELAY`" in render_reference()


@pytest.mark.parametrize("page", PAGES)
def test_every_python_sample_of_the_page_runs(page: str) -> None:
    text = (DOCS / page).read_text()
    code: list[str] = []
    for match in FENCE.finditer(text):
        line = text.count("\n", 0, match.start("code"))
        compile("\n" * line + match["code"], page, "exec")
        if match["reason"] is None:
            code.append(match["code"])
    if code and page not in COMPILED_ONLY:
        _run(page, "\n".join(code))
    assert cs_sdk.get_client() is None  # nothing leaked into this process


def _run(page: str, program: str) -> None:
    with LocalCollector() as collector:
        done = subprocess.run(
            [sys.executable, "-c", program.replace(SAMPLE_ENDPOINT, collector.endpoint)],
            cwd=ROOT, capture_output=True, text=True, timeout=300,
            env={k: v for k, v in os.environ.items() if not k.startswith("OTEL_")},
        )  # fmt: skip
    assert done.returncode == 0, f"{page}:\n{done.stderr}"
