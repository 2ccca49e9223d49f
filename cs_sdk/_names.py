"""The event name rule, written once: typed event names (``name=`` on an Event class) and
the names of milestones and outcomes.

A name is lower-case words separated by ``.``, ``_`` or ``-`` (``report.exported``,
``first_report_created``), at most :data:`MAX_NAME_LENGTH` characters (docs/schemas.md). Reports
group and funnel by name, so ``"Report Created"`` and ``"report_created"`` would be two
milestones; a name that breaks the rule is refused at the call (counted as ``invalid`` and
logged once, ``InvalidEventError`` with ``strict=True``), with the name it probably meant.
The C accelerator checks the same rule (``plain_name`` in ``_speedups.c``) and hands every
other name to the Python method, which decides here.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Final

from ._errors import InvalidEventError

MAX_NAME_LENGTH: Final = 256
NAME_PATTERN: Final = re.compile(r"^[a-z][a-z0-9_]*(?:[.\-][a-z0-9_]+)*$")
NAME_RULE: Final = (
    "must be lower-case words separated by '.', '_' or '-' (e.g. 'report_created'), "
    f"at most {MAX_NAME_LENGTH} characters"
)
MAX_KNOWN: Final = 4096

# Names that passed: an application records a handful of names over and over, so a set
# lookup replaces the pattern match on the hot path. Bounded; cleared when full.
known: set[str] = set()

__all__ = ["MAX_NAME_LENGTH", "NAME_PATTERN", "NAME_RULE", "check_name", "is_valid_name", "suggest"]


def is_valid_name(value: object) -> bool:
    """Whether ``value`` is a ``str`` that obeys the name rule."""
    if type(value) is not str:
        return False
    if value in known:
        return True
    if len(value) > MAX_NAME_LENGTH or NAME_PATTERN.fullmatch(value) is None:
        return False
    if len(known) >= MAX_KNOWN:
        known.clear()
    known.add(value)
    return True


def suggest(value: object) -> str | None:
    """The valid name ``value`` most likely meant (``"Bad Name!"`` -> ``"bad_name"``), if any."""
    if not isinstance(value, str):
        return None
    ascii_text = unicodedata.normalize("NFKD", value).encode("ascii", "ignore").decode()
    words = re.sub(r"[^a-z0-9_.\-]+", "_", ascii_text.strip().lower())
    words = re.sub(r"_*([.\-])_*", r"\1", words)  # "a _.b" -> "a.b"
    words = re.sub(r"([.\-_])[.\-_]+", r"\1", words).strip("_.-")
    if words == value or len(words) > MAX_NAME_LENGTH:  # too long: no short guess to offer
        return None
    return words if NAME_PATTERN.fullmatch(words) else None


def check_name(field: str, value: object) -> str:
    """``value`` if it obeys the name rule, else :class:`InvalidEventError` in the style of the
    configuration errors: what the rule is, what was given, and what was probably meant."""
    if is_valid_name(value):
        return value  # type: ignore[return-value]
    shown = repr(value) if len(repr(value)) <= 60 else repr(value)[:57] + "..."
    guess = suggest(value)
    hint = f"; did you mean {guess!r}?" if guess else ""
    error = InvalidEventError(field, f"{NAME_RULE}, got {shown}{hint}")
    error.rule = NAME_RULE  # the rule itself: one log line for every name that breaks it
    raise error
