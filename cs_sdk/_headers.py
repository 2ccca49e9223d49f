"""The rule for exporter header names and values, checked when a client is built.

A value HTTP cannot carry (a token read from a file with its trailing newline, a control
character, text outside ASCII) would otherwise fail every request, be logged by the HTTP
library with the value in it, and be retried as if the collector were down. It is refused at
once instead, with a ``ConfigError`` naming the header and never showing its value.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Final

from ._errors import ConfigError

# RFC 9110: a name is a token; a value is visible ASCII, with single spaces or tabs inside
# (never at either end). Non-ASCII bytes are obsolete and httpx would refuse a non-ASCII str.
_NAME: Final = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_VALUE: Final = re.compile(r"(?:[\x21-\x7e](?:[ \t]*[\x21-\x7e])*)?")


def check_headers(headers: Mapping[Any, Any], source: str = "headers") -> dict[str, str]:
    """``headers`` as a dict of str, or ``ConfigError`` naming the first bad header."""
    checked: dict[str, str] = {}
    for raw_name, raw_value in headers.items():
        name, value = str(raw_name), str(raw_value)
        if not _NAME.fullmatch(name):
            raise ConfigError(
                f"{source}: {name[:64]!r} is not a valid HTTP header name (letters, digits "
                "and !#$%&'*+-.^_`|~ only)"
            )
        if not _VALUE.fullmatch(value):
            raise ConfigError(
                f"{source}: the value of header {name!r} cannot be sent over HTTP (it has a "
                "line break, a control or non-ASCII character, or spaces at either end, "
                "such as the newline of a token read from a file); the value is not shown"
            )
        checked[name] = value
    return checked
