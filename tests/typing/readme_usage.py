"""Type-checked by mypy in CI (`mypy tests/typing`): the README's usage must type-check."""

from __future__ import annotations

import cs_sdk
from cs_sdk.testing import capture

client: cs_sdk.Client = cs_sdk.init(service_name="web", endpoint="http://127.0.0.1:4318")

with cs_sdk.identify(user_id="u1", account_id="acme", session_id="s9"):
    event_id: str | None = cs_sdk.milestone("first_report_created", properties={"pages": 3})
    cs_sdk.feedback("nps", score=9, comment="Love the new dashboard", area="reports")

cs_sdk.outcome("renewal", account_id="acme", value=12000.0, unit="USD")


class ReportExported(cs_sdk.Event, name="report.exported", version="1.0.0"):
    format: str
    pages: int


cs_sdk.track(ReportExported(format="pdf", pages=3), user_id="u1")
answered: str | None = cs_sdk.respond(
    "9f2c4e0a1b3d5f7e0000000000000001", message="Export is 3x faster in 2.3",
    team="reports-team", status="done",
)  # fmt: skip
answers: list[cs_sdk.Answer] = cs_sdk.responses.for_user("u1")
said: cs_sdk.FeedbackSummary | None = answers[0].feedback if answers else None
delivered: bool = cs_sdk.flush(timeout=5.0)
sent: int = client.stats()["sent"]
cs_sdk.shutdown(timeout=5.0)

with capture() as events:
    cs_sdk.milestone("first_report_created", user_id="u1")
assert events[0].name == "first_report_created"
