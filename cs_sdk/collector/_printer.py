"""One readable line per received event, for a developer watching a terminal.

    printer = Printer(sys.stdout)
    printer.print_records(records)

prints, for a milestone, a feedback and an outcome::

    12:00:01.123  web  cs.milestone  first_report_created  user=u1 account=acme  {"pages": 3}
    12:00:02.456  web  cs.feedback  nps  score=9  "Great reports"  user=u1 account=acme
    12:00:03.789  web  cs.outcome  hours_saved  4.5 hours  user=u1 account=acme

Times are local wall-clock times of the event (its ``time_unix_nano``).
"""

from __future__ import annotations

import datetime as dt
import json
import threading
from typing import Any, TextIO

from ._decode import ReceivedRecord
from ._store import _jsonable


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
        kind = a.get("cs.feedback.kind")
        if kind is not None and kind != record.name:
            parts.append(f"kind={kind}")
        if a.get("cs.feedback.score") is not None:
            parts.append(f"score={a['cs.feedback.score']}")
        if a.get("cs.feedback.comment"):
            parts.append(_json(a["cs.feedback.comment"]))
    elif record.event_name == "cs.outcome" and "cs.outcome.value" in a:
        value = a["cs.outcome.value"]
        number = f"{value:g}" if isinstance(value, (int, float)) else str(value)
        parts.append(f"{number} {a.get('cs.outcome.unit') or ''}".rstrip())
    return parts


def format_record(record: ReceivedRecord) -> str:
    """The line :class:`Printer` writes for ``record`` (no newline)."""
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
    pilots = record.attributes.get("cs.pilot.ids")
    if isinstance(pilots, list) and pilots:
        who.append(f"pilots={','.join(map(str, pilots))}")
    parts.append(" ".join(who))
    if record.body not in (None, {}, "", []):
        parts.append(_json(record.body))
    return "  ".join(part for part in parts if part)


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

    def print_records(self, records: list[ReceivedRecord]) -> None:
        """One line per record, flushed so a terminal or a pipe sees it at once."""
        if self._quiet or not records:
            return
        text = "".join(format_record(record) + "\n" for record in records)
        with self._lock:
            self._stream.write(text)
            self._stream.flush()
