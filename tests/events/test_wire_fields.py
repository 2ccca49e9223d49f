"""A typed event's body on the wire is its JSON-mode dump, whatever its field types."""

from __future__ import annotations

import datetime as dt
import enum
from typing import Literal

from pydantic import BaseModel, Field

import cs_sdk


class Tier(str, enum.Enum):
    GOLD = "gold"


class Address(BaseModel):
    city: str
    zip_code: str | None = None


class Checkout(cs_sdk.Event, name="test.wire_fields.checkout", version="1.0.0"):
    plan: Literal["team", "pro"]
    tier: Tier
    seats: int
    price: float
    at: dt.datetime
    address: Address
    tags: list[str]
    limits: dict[str, int]
    coupon: str | None = None
    quantity: int = Field(default=1, alias="qty")


def test_the_body_is_the_json_mode_dump_of_every_field_type() -> None:
    event = Checkout(
        plan="pro",
        tier=Tier.GOLD,
        seats=5,
        price=12.5,
        at=dt.datetime(2025, 1, 6, 9, 30, tzinfo=dt.timezone.utc),
        address=Address(city="Oslo"),
        tags=["a", "b"],
        limits={"exports": 3},
        qty=2,
    )
    name, body, attributes = event.wire_fields()
    assert name == "test.wire_fields.checkout"
    assert attributes == {}
    assert body == event.model_dump(mode="json")
    assert body == {
        "plan": "pro",
        "tier": "gold",
        "seats": 5,
        "price": 12.5,
        "at": "2025-01-06T09:30:00Z",
        "address": {"city": "Oslo", "zip_code": None},
        "tags": ["a", "b"],
        "limits": {"exports": 3},
        "coupon": None,
        "quantity": 2,
    }
