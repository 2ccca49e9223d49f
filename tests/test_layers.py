"""The package stays layered: the import-linter contracts in pyproject.toml hold.

Every import counts, those inside functions too: a lower module never imports the client or
``_api``, and no module is part of an import cycle. Run ``lint-imports`` for the details.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def lint(root: Path) -> subprocess.CompletedProcess[str]:
    """``lint-imports`` on the package under ``root``, in a process of its own (it sets up
    logging of its own, and must read that copy of the package, not an imported one)."""
    return subprocess.run(
        [sys.executable, "-c", _LINT],
        cwd=root,
        env={**os.environ, "PYTHONPATH": os.fspath(root)},
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_the_import_contracts_hold() -> None:
    checked = lint(ROOT)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "0 broken" in checked.stdout


def test_a_function_level_upward_import_breaks_them(tmp_path: Path) -> None:
    # A copy of the package where _context asks the global client, inside a function (the
    # import that once closed a 14-module cycle): the contracts must see it.
    copy = tmp_path / "cs_sdk"
    shutil.copytree(ROOT / "cs_sdk", copy, ignore=shutil.ignore_patterns("*.so", "__pycache__"))
    context = copy / "_context.py"
    context.write_text(
        context.read_text() + "\n\ndef _upward() -> None:\n    from ._api import get_client\n"
    )
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    checked = lint(tmp_path)
    assert checked.returncode == 1, checked.stdout + checked.stderr
    assert "cs_sdk._context -> cs_sdk._api" in checked.stdout
    # The copy, not the installed package, was read.
    assert "No import cycle anywhere in cs_sdk BROKEN" in checked.stdout


_LINT = "from importlinter.cli import lint_imports; raise SystemExit(lint_imports(no_cache=True))"
