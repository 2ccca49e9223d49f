"""The typed events Acme's services record. Change them only as docs/schemas.md allows:
an optional field is a minor bump (1.1.0); anything breaking is a new major version (2.0.0)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

import cs_sdk

Currency = Literal["USD", "EUR", "GBP"]


class ReportExported(cs_sdk.Event, name="report.exported", version="1.0.0"):
    """A user exported a report (a step on the path to value, recorded by the web app)."""

    format: Literal["pdf", "csv"]
    pages: int = Field(ge=1)


class SubscriptionRenewed(cs_sdk.Event, name="subscription.renewed", version="1.0.0"):
    """A subscription renewed (an outcome, recorded by the billing worker)."""

    amount: float = Field(ge=0)
    currency: Currency
    seats: int = Field(ge=1)
