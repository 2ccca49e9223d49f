"""One readable line per received event, for a developer watching a terminal.

    printer = Printer(sys.stdout)
    printer.print_records(records)

prints, for a milestone, a feedback and an outcome::

    12:00:01.123  web  cs.milestone  first_report_created  user=u1 account=acme  {"pages": 3}
    12:00:02.456  web  cs.feedback  nps  score=9  "Great reports"  user=u1 account=acme
    12:00:03.789  web  cs.outcome  hours_saved  4.5 hours  user=u1 account=acme

Times are local wall-clock times of the event (its ``time_unix_nano``). The schema version,
prompt id and trace id close the line when present (``v=1.0.0 prompt=nps-1 trace=5b8e...``),
to find the request or the prompt an event came from.

Every character that could steer a terminal or forge a line (control characters, escape
sequences, line and paragraph separators, bidirectional overrides) is printed escaped, as
``\x1b`` or ``\n``: what a sender puts in ``user.id`` stays inside its field. When the collector
validates against schemas (``cs-sdk collector --schemas DIR``), a violating event's line ends
with why::

    12:00:04.012  web  report.exported  -  {"pages": 0}  !! schema: pages: 0 is less than ...
"""

from __future__ import annotations

import datetime as dt
import json
import re
import threading
from collections.abc import Sequence
from typing import Any, TextIO

from .. import _attributes as attr
from ._decode import ReceivedRecord
from ._store import _jsonable

_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def _escaped(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def escape(text: str) -> str:
    """``text`` with every control, line-breaking and bidi character escaped."""
    return _UNSAFE.sub(_escaped, text)


def _clock(unix_nano: int) -> str:
    # Integer arithmetic: a float of nanoseconds since 1970 loses the milliseconds' last digit.
    seconds, nanos = divmod(unix_nano, 1_000_000_000)
    return f"{dt.datetime.fromtimestamp(seconds):%H:%M:%S}.{nanos // 1_000_000:03d}"


def _json(value: Any) -> str:
    return json.dumps(_jsonable(value), ensure_ascii=False, sort_keys=True)


def _details(record: ReceivedRecord) -> list[str]:
    """What is particular to feedback (score, comment) and outcomes (value and unit)."""
    a = record.attributes
    parts: list[str] = []
    if record.event_name == "cs.feedback":
        kind = a.get(attr.FEEDBACK_KIND)
        if kind is not None and kind != record.name:
            parts.append(f"kind={kind}")
        if a.get(attr.FEEDBACK_SCORE) is not None:
            parts.append(f"score={a['cs.feedback.score']}")
        if a.get(attr.FEEDBACK_COMMENT):
            parts.append(_json(a[attr.FEEDBACK_COMMENT]))
    elif record.event_name == "cs.outcome" and attr.OUTCOME_VALUE in a:
        value = a[attr.OUTCOME_VALUE]
        number = f"{value:g}" if isinstance(value, (int, float)) else str(value)
        parts.append(f"{number} {a.get('cs.outcome.unit') or ''}".rstrip())
    return parts


VIOLATION_MARK = "!! schema:"


def format_record(record: ReceivedRecord, violations: Sequence[str] = ()) -> str:
    """The line :class:`Printer` writes for ``record`` (no newline).

    ``violations`` (the reasons the record breaks its schema) go at the end, after
    :data:`VIOLATION_MARK`, so that ``grep '!! schema'`` finds every violating event.
    """
    parts = [
        _clock(record.time_unix_nano or record.observed_time_unix_nano),
        record.service_name or "-",
        record.event_name or "-",
        record.name or "-",
        *_details(record),
    ]
    who = [
        f"{label}={value}"
        for label, value in (
            ("user", record.user_id),
            ("account", record.account_id),
            ("session", record.session_id),
        )
        if value
    ]
    pilots = record.attributes.get(attr.PILOT_IDS)
    if isinstance(pilots, list) and pilots:
        who.append(f"pilots={','.join(map(str, pilots))}")
    parts.append(" ".join(who))
    if record.body not in (None, {}, "", []):
        parts.append(_json(record.body))
    refs = [
        f"{label}={value}"
        for label, value in (
            ("v", record.schema_version),
            ("prompt", record.attributes.get("cs.prompt.id")),
            ("trace", record.trace_id),
        )
        if value and isinstance(value, str)
    ]
    parts.append(" ".join(refs))
    if violations:
        parts.append(f"{VIOLATION_MARK} {'; '.join(violations)}")
    return escape("  ".join(part for part in parts if part))


class Printer:
    """Writes :func:`format_record` lines to a text stream; thread-safe.

    Args:
        stream: where the lines go, e.g. ``sys.stdout``.
        quiet: print nothing (the collector still stores and counts).
    """

    def __init__(self, stream: TextIO, *, quiet: bool = False) -> None:
        self._stream = stream
        self._quiet = quiet
        self._lock = threading.Lock()

    def print_records(
        self,
        records: list[ReceivedRecord],
        violations: Sequence[Sequence[str]] | None = None,
    ) -> None:
        """One line per record, flushed so a terminal or a pipe sees it at once.

        ``violations``, when given, holds each record's schema violations (in order).
        """
        if self._quiet or not records:
            return
        problems = list(violations or ())
        problems += [()] * (len(records) - len(problems))
        text = "".join(
            format_record(record, found) + "\n"
            for record, found in zip(records, problems, strict=False)
        )
        with self._lock:
            self._stream.write(text)
            self._stream.flush()
