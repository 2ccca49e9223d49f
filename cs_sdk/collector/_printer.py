"""One readable line per received event, for a developer watching a terminal."""

from __future__ import annotations

import datetime as dt
import json
import threading
from typing import TextIO

from ._decode import ReceivedRecord
from ._store import _jsonable


def format_record(record: ReceivedRecord) -> str:
    """``12:00:01.123  web  cs.milestone  first_report_created  user=u1 account=acme  {...}``"""
    when = dt.datetime.fromtimestamp(record.time_unix_nano / 1e9).strftime("%H:%M:%S.%f")[:-3]
    a = record.attributes
    parts = [when, record.service_name or "-", record.event_name or "-", record.name or "-"]
    if record.event_name == "cs.feedback":
        score = a.get("cs.feedback.score")
        parts.append(f"score={score}" if score is not None else "")
        comment = a.get("cs.feedback.comment")
        if comment:
            parts.append(json.dumps(comment, ensure_ascii=False))
    elif record.event_name == "cs.outcome" and "cs.outcome.value" in a:
        parts.append(f"value={a['cs.outcome.value']:g} {a.get('cs.outcome.unit', '')}".rstrip())
    who = [f"{label}={value}" for label, value in (
        ("user", record.user_id), ("account", record.account_id), ("session", record.session_id)
    ) if value]  # fmt: skip
    if a.get("cs.pilot.ids"):
        who.append(f"pilots={','.join(a['cs.pilot.ids'])}")
    parts.append(" ".join(who))
    if isinstance(record.body, dict) and record.body:
        parts.append(json.dumps(_jsonable(record.body), ensure_ascii=False, sort_keys=True))
    return "  ".join(part for part in parts if part)


class Printer:
    """Writes :func:`format_record` lines to a stream; thread-safe."""

    def __init__(self, stream: TextIO, *, quiet: bool = False) -> None:
        self._stream = stream
        self._quiet = quiet
        self._lock = threading.Lock()

    def print_records(self, records: list[ReceivedRecord]) -> None:
        if self._quiet or not records:
            return
        text = "\n".join(format_record(record) for record in records) + "\n"
        with self._lock:
            self._stream.write(text)
            self._stream.flush()
