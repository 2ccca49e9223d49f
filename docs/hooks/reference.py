"""mkdocs hook: the configuration reference is rendered from the code at build time."""

from __future__ import annotations

from typing import Any

MARKER = "<!-- cs-sdk:configuration-reference -->"


def on_page_markdown(markdown: str, **_: Any) -> str:
    if MARKER not in markdown:
        return markdown
    from cs_sdk._option_docs import render_reference

    return markdown.replace(MARKER, render_reference())
