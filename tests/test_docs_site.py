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
# Pages whose samples import a package the page itself declares, as a reader's project has
# it: (package, the sample that is its code). schemas.md declares acme_events' events in its
# first sample and exports the package `acme_events` in its last; the samples run in a
# temporary directory holding that package (the page's `PYTHONPATH=.`), and the files the
# page says they write are checked. Its rule tables are checked by tests/events/test_compat.py.
PAGE_PACKAGES = {"schemas.md": ("acme_events", 0)}
# Pages whose samples are steps a reader takes in different programs: groups of samples, each
# run in a fresh interpreter (every executable sample in exactly one group). schemas.md: the
# declaration and its use in an app; the same module edited to add 1.1.0 (the same class
# declared in __main__ and in the package would be a conflict, rightly refused); the export.
PAGE_RUNS = {"schemas.md": [[0, 1], [2], [3], [4]]}
# Modules of the examples the samples import, copied next to the page's package.
PAGE_MODULES = {"schemas.md": ["examples/shared_events/web_app.py"]}
PAGE_WRITES = {
    "schemas.md": [
        "schemas/index.json",
        "schemas/report.exported/1.0.0.schema.json",
        "schemas/subscription.renewed/1.0.0.schema.json",
        "schemas/cs.feedback/1.0.0.schema.json",
    ]
}
# Events the page's samples record, checked at the collector.
PAGE_SENDS = {"schemas.md": {"report.exported"}}
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
def test_every_python_sample_of_the_page_runs(page: str, tmp_path: Path) -> None:
    text = (DOCS / page).read_text()
    code: list[str] = []
    for match in FENCE.finditer(text):
        line = text.count("\n", 0, match.start("code"))
        compile("\n" * line + match["code"], page, "exec")
        if match["reason"] is None:
            code.append(match["code"])
    cwd = ROOT
    if page in PAGE_PACKAGES:
        package, index = PAGE_PACKAGES[page]
        (tmp_path / package).mkdir()
        (tmp_path / package / "__init__.py").write_text(code[index])
        for module in PAGE_MODULES.get(page, []):
            (tmp_path / Path(module).name).write_text((ROOT / module).read_text())
        cwd = tmp_path
    groups = PAGE_RUNS.get(page, [list(range(len(code)))] if code else [])
    assert sorted(i for group in groups for i in group) == list(range(len(code))), groups
    sent: set[str] = set()
    for group in groups:
        sent |= _run(page, "\n".join(code[i] for i in group), cwd)
    assert PAGE_SENDS.get(page, set()) <= sent, sent
    for written in PAGE_WRITES.get(page, []):
        assert (cwd / written).is_file(), written
    assert cs_sdk.get_client() is None  # nothing leaked into this process


def _run(page: str, program: str, cwd: Path) -> set[str]:
    """Runs the page's program; returns the event names the collector received."""
    with LocalCollector() as collector:
        done = subprocess.run(
            [sys.executable, "-c", program.replace(SAMPLE_ENDPOINT, collector.endpoint)],
            cwd=cwd, capture_output=True, text=True, timeout=300,
            env={k: v for k, v in os.environ.items() if not k.startswith("OTEL_")},
        )  # fmt: skip
        assert done.returncode == 0, f"{page}:\n{done.stderr}"
        return {record.event_name for record in collector.records}
