"""The widget's files, read once from the package and served with an ETag."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from importlib import resources

__all__ = ["StaticFile", "load_static"]

_FILES = {
    "/widget.js": "text/javascript; charset=utf-8",
    "/widget.css": "text/css; charset=utf-8",
}


@dataclass(frozen=True, slots=True)
class StaticFile:
    body: bytes
    content_type: str
    etag: str


def load_static() -> dict[str, StaticFile]:
    """``{"/widget.js": StaticFile, ...}`` from ``cs_sdk/integrations/feedback/static``."""
    folder = resources.files(__package__ or "cs_sdk.integrations.feedback") / "static"
    loaded: dict[str, StaticFile] = {}
    for path, content_type in _FILES.items():
        body = (folder / path.lstrip("/")).read_bytes()
        etag = '"' + hashlib.sha256(body).hexdigest()[:16] + '"'
        loaded[path] = StaticFile(body, content_type, etag)
    return loaded
