"""A small fixed pilot whose figures are computed by hand in test_figures.py, and loaders
that store it as cs-sdk collector does (SQLite) and as the OpenTelemetry Collector ClickHouse
exporter does (otel_logs, on chdb)."""

from __future__ import annotations

import json
import re
import uuid
from pathlib import Path
from typing import Any

from cs_sdk.collector._decode import ReceivedRecord
from cs_sdk.collector._store import SqliteStore

DAY = 86_400 * 10**9
T0 = 1_793_577_600 * 10**9  # 2026-11-02 00:00 UTC

CONFIG = """
[[pilots]]
id = "nd"
name = "New dashboard"
problem = "Finance teams spend a day a month building the board report by hand."
cohorts = ["wave-1", "wave-2"]
path = ["signed_up", "data_connected", "first_report_created"]
success = { milestone = "first_report_created", within_days = 14 }

[[teams]]
name = "reports-team"
areas = ["reports", "exports"]
[[teams]]
name = "platform-team"
match = "slow|timeout|lag|crash"
[[teams]]
name = "sales-team"
match = "pricing|invoice"
[routing]
default_team = "product-team"
"""

Event = tuple[float, str, dict[str, Any]]


def _enrol(day: float, user: str, cohort: str, account: str, pilot: str = "nd") -> Event:
    return (
        day,
        "cs.pilot.enrolled",
        {
            "cs.event.name": pilot,
            "user.id": user,
            "cs.account.id": account,
            "cs.pilot.id": pilot,
            "cs.pilot.cohort": cohort,
        },
    )


def _ms(day: float, user: str, name: str) -> Event:
    return (
        day,
        "cs.milestone",
        {"cs.event.name": name, "user.id": user, "cs.pilot.ids": ["nd"], "cs.pilot.cohorts": ["w"]},
    )


def _fb(
    day: float,
    user: str,
    kind: str,
    score: int | None,
    area: str | None,
    comment: str | None = None,
    prompt: bool = True,
    eid: str | None = None,
) -> Event:
    attrs: dict[str, Any] = {"cs.event.name": kind, "user.id": user, "cs.feedback.kind": kind}
    if score is not None:
        attrs["cs.feedback.score"] = score
    if area:
        attrs["cs.product.area"] = area
    if comment:
        attrs["cs.feedback.comment"] = comment
    if prompt:
        attrs["cs.prompt.id"] = f"{kind}-prompt"
    if eid:
        attrs["cs.event.id"] = eid
    return (day, "cs.feedback", attrs)


def _shown(day: float, user: str, kind: str) -> Event:
    return (
        day,
        "cs.prompt.shown",
        {
            "cs.event.name": f"{kind}-prompt",
            "user.id": user,
            "cs.prompt.id": f"{kind}-prompt",
            "cs.feedback.kind": kind,
        },
    )


def _out(day: float, account: str, name: str, value: float, unit: str = "USD") -> Event:
    return (
        day,
        "cs.outcome",
        {
            "cs.event.name": name,
            "cs.account.id": account,
            "cs.outcome.value": value,
            "cs.outcome.unit": unit,
        },
    )


def _resp(day: float, feedback_id: str, team: str, status: str, message: str) -> Event:
    return (
        day,
        "cs.feedback.response",
        {
            "cs.event.name": "response",
            "cs.feedback.id": feedback_id,
            "cs.response.team": team,
            "cs.response.status": status,
            "cs.response.message": message,
        },
    )


SLOW, PRICING, CRASH = "f" * 31 + "1", "f" * 31 + "2", "f" * 31 + "3"

EVENTS: list[Event] = [
    # wave 1 enrols on day 0 (u4 exits on day 10), wave 2 on day 20; u8 is in another pilot.
    *(
        _enrol(0, u, "wave-1", "a1" if u in ("u1", "u2") else "a2")
        for u in ("u1", "u2", "u3", "u4")
    ),
    *(_enrol(20, u, "wave-2", "a3") for u in ("u5", "u6", "u7")),
    _enrol(0, "u8", "x", "a9", pilot="other"),
    (10, "cs.pilot.exited", {"cs.event.name": "nd", "user.id": "u4", "cs.pilot.id": "nd"}),
    # the path
    _ms(-1, "u1", "signed_up"),
    _ms(1, "u1", "data_connected"),
    _ms(3, "u1", "first_report_created"),
    _ms(0, "u2", "signed_up"),
    _ms(2, "u2", "data_connected"),
    _ms(20, "u2", "first_report_created"),
    _ms(0, "u3", "signed_up"),
    _ms(5, "u3", "data_connected"),
    _ms(0, "u4", "signed_up"),
    _ms(20, "u5", "signed_up"),
    _ms(21, "u5", "data_connected"),
    _ms(22, "u5", "first_report_created"),
    _ms(20, "u6", "signed_up"),
    _ms(20.5, "u6", "data_connected"),
    _ms(24, "u6", "first_report_created"),
    _ms(20, "u7", "signed_up"),
    _ms(22, "u7", "data_connected"),
    _ms(26, "u7", "first_report_created"),
    _ms(1, "u9", "first_report_created"),
    _ms(1, "u8", "first_report_created"),
    # outcomes: a1 before enrolment does not count
    _out(-5, "a1", "renewal", 999.0),
    _out(30, "a1", "renewal", 12000.0),
    _out(31, "a1", "expansion", 500.0),
    _out(5, "a2", "renewal", 8000.0),
    _out(40, "a3", "renewal", 3000.0),
    _out(40, "a9", "renewal", 77.0),
    # prompts shown
    *(_shown(4, u, "nps") for u in ("u1", "u2", "u2", "u3", "u4")),
    _shown(4, "u1", "csat"),
    _shown(4, "u2", "csat"),
    _shown(4, "u3", "ces"),
    _shown(4, "u4", "ces"),
    _shown(4, "u1", "thumbs"),
    _shown(4, "u2", "thumbs"),
    *(_shown(25, u, "nps") for u in ("u5", "u6", "u7")),
    # wave 1 feedback
    _fb(5, "u1", "nps", 9, "reports", "Love the new dashboard and the reports"),
    _fb(5, "u2", "nps", 3, "exports", "Export is slow and the export times out", eid=SLOW),
    _fb(5, "u3", "nps", 6, "billing", "Pricing page is confusing, invoice wrong", eid=PRICING),
    _fb(5, "u4", "nps", 10, "reports", "Great reports, love the dashboard"),
    _fb(6, "u1", "csat", 5, "reports"),
    _fb(6, "u2", "csat", 2, "exports", "The export crashed twice", eid=CRASH),
    _fb(6, "u3", "ces", 6, "onboarding"),
    _fb(7, "u1", "thumbs", 1, "reports"),
    _fb(7, "u2", "thumbs", 0, "exports"),
    _fb(8, "u4", "rating", 4, "reports", prompt=False),
    # wave 2 feedback; u5's answer before enrolment does not count
    _fb(10, "u5", "nps", 0, "reports", "terrible"),
    _fb(25, "u5", "nps", 9, "reports", "Love the dashboard"),
    _fb(25, "u6", "nps", 10, "reports"),
    _fb(25, "u7", "nps", 8, "exports", "Export is fast now"),
    # answers
    _resp(7, SLOW, "platform-team", "done", "Export is 3x faster in 2.3"),
    _resp(6, PRICING, "sales-team", "planned", "We will fix the invoice"),
    _resp(10, CRASH, "platform-team", "planned", "Looking into the crash"),
]


def records() -> list[ReceivedRecord]:
    out = []
    for day, event_name, attrs in EVENTS:
        attrs = {"cs.event.id": uuid.uuid4().hex, "cs.schema.name": event_name, **attrs}
        out.append(
            ReceivedRecord(
                {"service.name": "web"},
                "cs_sdk",
                "0.1.0",
                T0 + int(day * DAY),
                T0 + int(day * DAY),
                event_name,
                9,
                "INFO",
                None,
                attrs,
            )
        )
    return out


def write_sqlite(path: Path, recs: list[ReceivedRecord] | None = None) -> Path:
    store = SqliteStore(path)
    store.add(records() if recs is None else recs)
    store.close()
    return path


def _as_string(value: Any) -> str:
    # What the exporter stores in a Map(String, String): pcommon.Value.AsString().
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value) if value != int(value) else str(int(value))
    if isinstance(value, (list, dict)):
        return json.dumps(value, separators=(",", ":"))
    return str(value)


DDL = Path(__file__).with_name("otel_logs.sql")


def otel_logs_ddl(database: str = "default", table: str = "otel_logs") -> str:
    """The exporter's own logs table template, filled in as the exporter fills it
    (database, table, cluster clause, engine, TTL clause)."""
    values = iter([f'"{database}"', f'"{table}"', "", "MergeTree()", ""])
    return re.sub(r"%[qs]", lambda _m: next(values), DDL.read_text())


def insert_clickhouse(session: Any, recs: list[ReceivedRecord] | None = None) -> None:
    lines = []
    for r in records() if recs is None else recs:
        lines.append(
            json.dumps(
                {
                    "t": r.time_unix_nano,
                    "e": r.event_name,
                    "s": r.resource.get("service.name", ""),
                    "a": {k: _as_string(v) for k, v in r.attributes.items()},
                    "r": {k: _as_string(v) for k, v in r.resource.items()},
                }
            )
        )
    data = "\n".join(lines)
    session.query(
        "INSERT INTO otel_logs (Timestamp, EventName, ServiceName, SeverityText, "
        "SeverityNumber, LogAttributes, ResourceAttributes) "
        "SELECT fromUnixTimestamp64Nano(t), e, s, 'INFO', 9, a, r FROM format(JSONEachRow, "
        "'t Int64, e String, s String, a Map(String, String), r Map(String, String)', "
        f"$cs${data}$cs$)"
    )
