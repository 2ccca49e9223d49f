"""Names a package loads when they are first read (PEP 562), for the packages whose heavy
parts ``import cs_sdk`` must not pay for (pydantic, httpx, sqlite3, redis...).

    _LAZY = {"Event": "._base"}

    def __getattr__(name: str) -> Any:
        return load_lazily(__name__, _LAZY, globals(), name)
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from typing import Any

__all__ = ["load_lazily"]


def load_lazily(
    package: str, table: Mapping[str, str], namespace: dict[str, Any], name: str
) -> Any:
    """``name`` of ``package``, imported from the module ``table`` gives for it; stored in
    the package's ``namespace`` so that later reads are plain attribute reads."""
    module = table.get(name)
    if module is None:
        raise AttributeError(f"module {package!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module, package), name)
    namespace[name] = value
    return value
