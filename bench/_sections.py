"""Sections of bench/RESULTS.md that a part of the benchmark owns and rewrites on its own.

``python -m bench`` (its ``peers`` block, at the top), ``python -m bench.loop_lag`` and
``python -m bench.budgets`` each replace only the block between their own markers (adding it
the first time), so running one part keeps the others' figures and the sections written by
hand (the report, middleware and ingest figures).
"""

from __future__ import annotations

from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "RESULTS.md"


def replace_section(path: Path, name: str, text: str, at_top: bool = False) -> None:
    """Put ``text`` between ``<!-- NAME -->`` and ``<!-- /NAME -->`` in ``path`` (a new
    section goes at the end, or at the top with ``at_top``)."""
    begin, end = f"<!-- {name} -->", f"<!-- /{name} -->"
    block = f"{begin}\n{text.rstrip()}\n{end}\n"
    document = path.read_text() if path.exists() else ""
    start = document.find(begin)
    stop = document.find(end, start)
    if start >= 0 and stop >= 0:
        rest = document[stop + len(end) :].lstrip("\n")
        document = document[:start] + block + ("\n" + rest if rest else "")
    elif at_top:
        document = block + ("\n" + document.lstrip("\n") if document.strip() else "")
    else:
        document = document.rstrip("\n") + "\n\n" + block
    path.write_text(document)


def saved_section(path: Path, name: str) -> str | None:
    """The block (markers included) ``path`` holds for ``name``, to carry over a full rewrite."""
    if not path.exists():
        return None
    document = path.read_text()
    begin, end = f"<!-- {name} -->", f"<!-- /{name} -->"
    start = document.find(begin)
    stop = document.find(end, start)
    if start < 0 or stop < 0:
        return None
    return document[start : stop + len(end)] + "\n"
