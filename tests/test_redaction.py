"""The built-in redactor masks contact and card details in feedback text before sending."""

from __future__ import annotations

import pytest

import cs_sdk
from cs_sdk._redaction import redact_text
from cs_sdk.testing import capture


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("write to ana.lopez+cs@example.co.uk please", "write to [email] please"),
        ("call +1 (555) 010-9999 now", "call [phone] now"),
        ("my number is 06 12 34 56 78", "my number is [phone]"),
        ("card 4111 1111 1111 1111 was charged twice", "card [card] was charged twice"),
        ("card 4111-1111-1111-1111", "card [card]"),
    ],
)
def test_contact_and_card_details_are_masked(text: str, expected: str) -> None:
    assert redact_text(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "exported 3 reports on 2026-11-24 at 10:30",
        "order 12345 took 20 minutes",
        "version 4.2.0 is great",
        "no digits or at-signs here",
    ],
)
def test_ordinary_text_is_left_alone(text: str) -> None:
    assert redact_text(text) == text


def test_feedback_comments_and_properties_are_redacted_before_sending() -> None:
    with capture() as events:
        cs_sdk.feedback(
            "text",
            comment="email me at bob@example.com",
            properties={"contact": "+44 20 7946 0958", "pages": 3},
        )
        cs_sdk.milestone("signup", properties={"email": "bob@example.com"})
    feedback, milestone = events
    assert feedback.comment == "email me at [email]"
    assert feedback.properties == {"contact": "[phone]", "pages": 3}
    # Only free-text feedback is redacted by default; milestones are the app's own data.
    assert milestone.properties == {"email": "bob@example.com"}


def test_redaction_can_be_turned_off() -> None:
    with capture(redact_pii=False) as events:
        cs_sdk.feedback("text", comment="email me at bob@example.com")
    assert events[0].comment == "email me at bob@example.com"


def test_before_send_sees_the_redacted_event() -> None:
    seen: list[str | None] = []

    def hook(event: cs_sdk.EventRecord) -> cs_sdk.EventRecord:
        seen.append((event.attributes or {}).get("cs.feedback.comment"))
        return event

    with capture(before_send=hook):
        cs_sdk.feedback("text", comment="bob@example.com")
    assert seen == ["[email]"]
