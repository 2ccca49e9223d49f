"""Reading option values: typed reads of ``OTEL_*`` variables, the checks every option goes
through, and the one rule for showing a URL. :func:`cs_sdk._config.resolve` applies them in
its order of precedence."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import unquote, urlsplit

from ._errors import ConfigError
from ._log import warn_once

DEFAULT_ENDPOINT = "http://localhost:4318"


def shown_url(url: str) -> str:
    """``url`` as it may appear in logs and reprs: without user info and query string.

    Credentials sometimes travel there (``https://user:token@host`` or ``?api_key=...``).
    This is the one rule for every URL the SDK shows (endpoints, prompt documents, state
    stores), in logs, reprs and error messages alike.

    >>> shown_url("https://user:secret@otel.example.com:4318/v1/logs?api_key=k")
    'https://otel.example.com:4318/v1/logs'
    """
    try:
        parts = urlsplit(url)
    except ValueError:
        return "<unparsable URL>"
    try:
        port = f":{parts.port}" if parts.port else ""
    except ValueError:  # not echoed: with a "/" in a password, the "port" is part of it
        port = ":[invalid port]"
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    path = parts.path
    if "@" in path:
        # A "/" in a password ends the authority early: the rest of it is now the path.
        path = "/[masked]"
    return f"{parts.scheme}://{host}{port}{path}"


def parse_key_values(text: str, variable: str) -> dict[str, str]:
    """Parse the W3C-baggage-like ``k1=v1,k2=v2`` format of OTEL headers and attributes."""
    result: dict[str, str] = {}
    for item in text.split(","):
        if not item.strip():
            continue
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            warn_once(f"config:{variable}", "cs_sdk: ignoring malformed entry in %s", variable)
            continue
        result[unquote(key.strip())] = unquote(value.strip())
    return result


class Env:
    """Typed reads of OTEL_* variables; bad values are logged once and ignored."""

    def __init__(self, environ: Mapping[str, str]) -> None:
        self._environ = environ

    def text(self, *names: str) -> str | None:
        for name in names:
            value = self._environ.get(name, "").strip()
            if value:
                return value
        return None

    def number(self, *names: str, integer: bool = False) -> float | None:
        for name in names:
            raw = self._environ.get(name, "").strip()
            if not raw:
                continue
            try:
                value = float(raw)
            except ValueError:
                value = math.nan
            if not math.isfinite(value) or value < 0 or (integer and value != int(value)):
                warn_once(f"config:{name}", "cs_sdk: ignoring invalid %s=%r", name, raw)
                continue
            return value
        return None

    def milliseconds(self, *names: str) -> float | None:
        value = self.number(*names)
        return None if value is None else value / 1000.0

    def flag(self, name: str) -> bool | None:
        raw = self._environ.get(name, "").strip().lower()
        if not raw:
            return None
        if raw in ("true", "false"):
            return raw == "true"
        warn_once(f"config:{name}", "cs_sdk: ignoring invalid %s=%r", name, raw)
        return None


def from_env(variable: str, check: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """``check(variable, *args, **kwargs)``, or None when it rejects what ``variable`` holds.

    The specification's rule for the environment: a bad value is logged and ignored (the
    variable may be meant for another SDK in the same process, e.g. ``grpc``), unlike a bad
    argument, which is the caller's mistake and raises.
    """
    try:
        return check(variable, *args, **kwargs)
    except ConfigError as error:
        warn_once(f"config:{variable}", "cs_sdk: ignoring %s: %s", variable, error)
        return None


def positive(name: str, value: Any, *, integer: bool = False, allow_zero: bool = False) -> Any:
    valid_type = isinstance(value, int) if integer else isinstance(value, (int, float))
    if isinstance(value, bool) or not valid_type:
        kind = "an integer" if integer else "a number of seconds"
        raise ConfigError(f"{name} must be {kind}, got {value!r}")
    if not math.isfinite(value) or value < 0 or (value == 0 and not allow_zero):
        raise ConfigError(f"{name} must be {'>= 0' if allow_zero else '> 0'}, got {value!r}")
    return value


def choice(name: str, value: str, choices: frozenset[str]) -> str:
    normalised = value.strip().lower()
    if normalised not in choices:
        raise ConfigError(f"{name} must be one of {sorted(choices)}, got {value!r}")
    return normalised


def shown_given(text: str) -> str:
    """What the user passed, as it may be logged: no ``user:secret@`` and no query string."""
    if "://" in text:
        return shown_url(text)
    text = text.split("?", 1)[0]
    return text.rsplit("@", 1)[-1]


def check_url(name: str, url: str) -> str:
    parts = urlsplit(url)
    if "://" not in url:
        # "127.0.0.1:4318" and "localhost:4318" parse as a scheme and a path: say so plainly.
        given = shown_given(url)
        raise ConfigError(
            f"{name} must be an http(s) URL with a scheme, got {given!r}: "
            f"did you mean 'http://{given}'? (expected e.g. {DEFAULT_ENDPOINT!r})"
        )
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ConfigError(
            f"{name} must be an http(s) URL such as {DEFAULT_ENDPOINT!r}, got {shown_given(url)!r}"
        )
    return url
