"""The redactor's coverage, measured on a corpus and held to what docs/privacy.md says.

Each entry is written as people type it, and says whether the redactor catches it. A caught
entry must be masked whole (no digit group or local part of it left in the output); a missed
one is listed in the guide. The figures in the guide are checked against this corpus, so the
guide cannot claim more than the redactor does.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from cs_sdk._redaction import CARD_MASK, EMAIL_MASK, IBAN_MASK, PHONE_MASK, redact_text

NBSP, NNBSP, EN_DASH, NB_HYPHEN, IDEO_SPACE = "\u00a0", "\u202f", "\u2013", "\u2011", "\u3000"


def _fullwidth(text: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else IDEO_SPACE for c in text)


CAUGHT, MISSED = True, False

PHONES = [
    ("+1 (555) 010-9999", CAUGHT),
    ("555-010-9999", CAUGHT),
    ("(555) 010 9999", CAUGHT),
    ("+44 20 7946 0958", CAUGHT),
    ("+44-20-7946-0958", CAUGHT),  # was taken for a date (44-20-7946)
    ("020 7946 0958", CAUGHT),
    ("+44 (0) 20 7946 0958", CAUGHT),
    ("+33 6 12 34 56 78", CAUGHT),
    ("06 12 34 56 78", CAUGHT),
    ("06.12.34.56.78", CAUGHT),
    ("+49 30 123456", CAUGHT),
    ("0049 89 1234567", CAUGHT),
    ("+49 (0)30 1234 5678", CAUGHT),
    ("+81-3-1234-5678", CAUGHT),
    ("+61 2 9876 5432", CAUGHT),
    ("0412 345 678", CAUGHT),
    ("+91 98765 43210", CAUGHT),
    ("+7 495 123-45-67", CAUGHT),
    ("+34 612 34 56 78", CAUGHT),
    ("+31 20 794 6095", CAUGHT),
    ("+86 138 0013 8000", CAUGHT),
    ("+1.555.010.9999", CAUGHT),
    ("5550109999", CAUGHT),
    ("1-800-555-0199", CAUGHT),
    (f"+1{NBSP}555{NBSP}010{NBSP}9999", CAUGHT),  # no-break spaces
    (f"+33{NNBSP}6{NNBSP}12{NNBSP}34{NNBSP}56{NNBSP}78", CAUGHT),  # narrow no-break spaces
    (f"555{EN_DASH}010{EN_DASH}9999", CAUGHT),  # en dashes
    (f"+44{NB_HYPHEN}20{NB_HYPHEN}7946{NB_HYPHEN}0958", CAUGHT),  # non-breaking hyphens
    (_fullwidth("06 12 34 56 78"), CAUGHT),  # typed on a CJK keyboard
    ("010-9999", MISSED),  # 7 digits: a local number without its area code
    ("555 0199", MISSED),
    ("five five five, zero one zero, nine nine nine nine", MISSED),  # spelt out
]

CARDS = [
    ("4111 1111 1111 1111", CAUGHT),
    ("4111-1111-1111-1111", CAUGHT),
    ("4111111111111111", CAUGHT),
    ("5500 0000 0000 0004", CAUGHT),
    ("5555 5555 5555 4444", CAUGHT),
    ("4000 0566 5566 5556", CAUGHT),
    ("4012888888881881", CAUGHT),
    ("3400 000000 00009", CAUGHT),  # American Express grouping
    ("3782 822463 10005", CAUGHT),
    ("6011 1111 1111 1117", CAUGHT),
    ("3530 1113 3330 0000", CAUGHT),
    ("3622 720627 1667", CAUGHT),  # 14 digits (Diners)
    (f"4111{NBSP}1111{NBSP}1111{NBSP}1111", CAUGHT),
    (f"4111{EN_DASH}1111{EN_DASH}1111{EN_DASH}1111", CAUGHT),
    (_fullwidth("4111 1111 1111 1111"), CAUGHT),
    # A mistyped number fails the Luhn check: its first 12-15 digits are masked as a phone
    # number and the last group stays.
    ("4111 1111 1111 1112", MISSED),
    ("4111 11** **** 1111", MISSED),  # already partly masked by the customer
]

EMAILS = [
    ("ana@example.com", CAUGHT),
    ("ana.lopez+cs@example.co.uk", CAUGHT),
    ("ANA@EXAMPLE.COM", CAUGHT),
    ("josé@exemple.fr", CAUGHT),
    ("first_last@example.io", CAUGHT),
    ("user@sub.domain.example.org", CAUGHT),
    ("<ana@example.com>", CAUGHT),
    ("mailto:ana@example.com", CAUGHT),
    ("x@y.co", CAUGHT),
    ("user@xn--bcher-kva.example", CAUGHT),
    ("用户@例子.广告", CAUGHT),
    ("ana\uff20example.com", CAUGHT),  # fullwidth commercial at
    ("ana\ufe6bexample.com", CAUGHT),  # small commercial at
    ("ana@example\uff0ecom", CAUGHT),  # fullwidth full stop
    (_fullwidth("ana@example.com"), CAUGHT),
    ("ana at example dot com", MISSED),  # spelt out
    ("ana (at) example.com", MISSED),
    ("ana @ example.com", MISSED),  # spaces around the @
    ("ana@localhost", MISSED),  # no top-level domain
    ("ana@[192.168.0.1]", MISSED),  # an address literal
]

IBANS = [
    ("GB82 WEST 1234 5698 7654 32", CAUGHT),
    ("GB82WEST12345698765432", CAUGHT),
    ("gb82 west 1234 5698 7654 32", CAUGHT),
    ("GB82-WEST-1234-5698-7654-32", CAUGHT),
    ("DE89 3704 0044 0532 0130 00", CAUGHT),
    ("FR14 2004 1010 0505 0001 3M02 606", CAUGHT),
    ("NL91 ABNA 0417 1643 00", CAUGHT),
    ("ES91 2100 0418 4502 0005 1332", CAUGHT),
    ("CH93 0076 2011 6238 5295 7", CAUGHT),
    ("BE68 5390 0754 7034", CAUGHT),
    ("IT60 X054 2811 1010 0000 0123 456", CAUGHT),
    (f"GB82{NBSP}WEST{NBSP}1234{NBSP}5698{NBSP}7654{NBSP}32", CAUGHT),
    # One wrong character fails mod 97: the digit groups are then masked as a phone number,
    # the bank code stays.
    ("GB82 WEST 1234 5698 7654 33", MISSED),
]

CORPUS = {"phones": PHONES, "cards": CARDS, "emails": EMAILS, "ibans": IBANS}
MASK_OF = {"phones": PHONE_MASK, "cards": CARD_MASK, "emails": EMAIL_MASK, "ibans": IBAN_MASK}

# Text the redactor must leave exactly as it is.
LEFT_ALONE = [
    "exported 3 reports on 2026-11-24 at 10:30",
    "On 2025-03-01 12:30, and 01/03/2025 or 1.3.2025",
    f"from 2025-03-01{EN_DASH}2025-03-05",
    f"for 10{EN_DASH}20 users, {NBSP}version 4.2.0",
    "from 10.0.0.1 to 192.168.100.200",
    "order 12345 took 20 minutes",
    "ref AB12 CDEF GHIJ KLMN today",
    "an id 12345678901234567890 in one piece",
    "thanks @ana, see you @ 10",
    "price €1,299.00 per year",
]


def _whole(original: str, redacted: str) -> bool:
    """Nothing of the secret is left: no digit and no "@"-like text remains where it was."""
    leftover = redacted.replace("reach me: ", "").replace(" thanks", "")
    leftover = leftover.replace(PHONE_MASK, "").replace(CARD_MASK, "")
    leftover = leftover.replace(EMAIL_MASK, "").replace(IBAN_MASK, "")
    return not leftover.strip("<>:mailto ")


def _caught(kind: str, text: str) -> bool:
    redacted = redact_text(f"reach me: {text} thanks")
    return MASK_OF[kind] in redacted and _whole(text, redacted)


@pytest.mark.parametrize(
    ("kind", "text", "expected"),
    [(kind, text, expected) for kind, entries in CORPUS.items() for text, expected in entries],
)
def test_each_corpus_entry_is_caught_or_missed_as_documented(
    kind: str, text: str, expected: bool
) -> None:
    assert _caught(kind, text) is expected, redact_text(text)


@pytest.mark.parametrize("text", LEFT_ALONE)
def test_ordinary_text_of_the_corpus_is_left_alone(text: str) -> None:
    assert redact_text(text) == text


def test_the_guide_states_the_measured_coverage() -> None:
    guide = (Path(__file__).parents[1] / "docs" / "privacy.md").read_text(encoding="utf-8")
    for kind, entries in CORPUS.items():
        caught = sum(1 for text, _ in entries if _caught(kind, text))
        claim = re.search(rf"\| {kind} \| (\d+) of (\d+) \|", guide)
        assert claim is not None, f"docs/privacy.md has no coverage row for {kind}"
        assert (int(claim[1]), int(claim[2])) == (caught, len(entries)), kind
