"""The built-in redactor masks contact and card details in feedback text before sending."""

from __future__ import annotations

import time

import pytest

import cs_sdk
from bench._adversarial import SIZE, shapes
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
        ("from john_doe@example.com", "from [email]"),
        ("écrire à josé@exemple.fr", "écrire à [email]"),
        ("MAIL: ANA@Example.COM.", "MAIL: [email]."),
        ("a.b@c.io, c_d@e-f.example.org or x@y", "[email], [email] or x@y"),
        ("(555) 010-9999 or (555) 010-8888", "[phone] or [phone]"),
        ("555.010.9999", "[phone]"),
        ("Tel. 0049 89 1234567", "Tel. [phone]"),
        ("٠٦١٢٣٤٥٦٧٨", "[phone]"),  # Arabic-Indic digits are digits too
        # Two numbers typed side by side are masked one by one.
        ("0612345678 0698765432", "[phone] [phone]"),
        ("06 12 34 56 78 06 98 76 54 32", "[phone] [phone]"),
        ("4111111111111111 5500 0000 0000 0004", "[card] [card]"),
        # A date, a time or an address next to a number does not hide the number.
        ("on 2025-03-01 (555) 010-9999", "on 2025-03-01 [phone]"),
        ("at 12:30 0612345678", "at 12:30 [phone]"),
        ("from 10.0.0.1 0612345678", "from 10.0.0.1 [phone]"),
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
        "On 2025-03-01 12:30",
        "01/03/2025 09:15 and 1.3.2025",
        "2025-03-01T12:30:00Z",
        "between 2025-03-01 2025-03-05",
        "at 12:30:45",
        "from 10.0.0.1 to 192.168.100.200",
        "ip 10.0.0.1:8080",
        "an id 12345678901234567890 in one piece",
        "thanks @ana, see you @ 10",
    ],
)
def test_ordinary_text_is_left_alone(text: str) -> None:
    assert redact_text(text) == text


def test_an_overlong_local_part_is_masked_up_to_the_at_sign() -> None:
    # RFC 5321 caps the local part at 64 characters; the redactor reads back that far.
    redacted = redact_text("x" * 100 + "@example.com")
    assert redacted == "x" * 36 + "[email]"


ADVERSARIAL = shapes(SIZE)
# Linear work: four times the text, about four times the time (measured 3-5x per shape, 4.3x
# over all of them). A pattern that backtracks is quadratic or worse: 16x and more, and
# seconds per 64 KB shape. The figures themselves: `python -m bench.budgets`.
MAX_SCALING = 8.0


def redaction_seconds(texts: dict[str, str]) -> float:
    """Seconds to redact every text, the best of three runs (the least disturbed one)."""
    best = float("inf")
    for _ in range(3):
        started = time.perf_counter()
        for text in texts.values():
            redact_text(text)
        best = min(best, time.perf_counter() - started)
    return best


def test_worst_case_inputs_cost_time_in_proportion_to_their_length() -> None:
    for shape, text in ADVERSARIAL.items():
        assert len(redact_text(text)) <= len(text), shape
    quarter = redaction_seconds(shapes(SIZE // 4))
    full = redaction_seconds(ADVERSARIAL)
    print(f"redacting every shape: {quarter:.3f} s at 16 KB, {full:.3f} s at 64 KB")
    assert full / quarter < MAX_SCALING


def test_a_64_kb_comment_full_of_contact_details_is_masked_throughout() -> None:
    text = ADVERSARIAL["mixed contact details"]
    redacted = redact_text(text)
    assert "@" not in redacted
    assert "555" not in redacted and "4111" not in redacted
    assert "10.0.0.1" in redacted


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


def test_feedback_property_keys_are_redacted_too() -> None:
    with capture() as events:
        cs_sdk.feedback(
            "nps",
            score=9,
            properties={
                "ana@example.com": "vip",
                "bob@example.com": "churn risk",
                "notes": {"+44 20 7946 0958": "call back"},
                "plan": "pro",
            },
        )
    assert events[0].properties == {
        "[email]": "vip",
        "[email] (2)": "churn risk",  # two keys redacted alike: neither value is lost
        "notes": {"[phone]": "call back"},
        "plan": "pro",
    }


def test_a_phone_number_with_dashes_is_not_taken_for_a_date() -> None:
    assert redact_text("call +44-20-7946-0958 today") == "call [phone] today"
    assert redact_text("call 44-20-7946 today") == "call 44-20-7946 today"  # 8 digits
    assert redact_text("due 20-12-2025, ref 31/12/1999") == "due 20-12-2025, ref 31/12/1999"


def test_unicode_separators_are_read_as_ascii_and_the_rest_kept_as_written() -> None:
    text = "Tél\u00a0: 06\u00a012\u00a034\u00a056\u00a078 \u2013 merci\u00a0!"
    assert redact_text(text) == "Tél\u00a0: [phone] \u2013 merci\u00a0!"
    assert redact_text("écrivez à ana\uff20example.com") == "écrivez à [email]"
    assert redact_text("IBAN GB82 WEST 1234 5698 7654 32, merci") == "IBAN [iban], merci"


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
