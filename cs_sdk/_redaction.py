"""The built-in redactor: e-mail addresses, phone numbers and card numbers in free text.

Customers paste contact details into feedback comments. The redactor runs as a processor
step on the worker, before serialisation and before the spool, so the raw text never leaves
the process or touches disk. It is on by default; ``Client(redact_pii=False)`` turns it off.
"""

from __future__ import annotations

import re
from typing import Any, Final

from ._record import EventRecord

EMAIL_MASK: Final = "[email]"
PHONE_MASK: Final = "[phone]"
CARD_MASK: Final = "[card]"

_EMAIL = re.compile(r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,}")
# A run of digits with the separators people type in phone and card numbers.
_DIGIT_RUN = re.compile(r"(?<![\w+])\+?\d[\d \-().]{5,}\d(?!\w)")
_FEEDBACK_TEXT_ATTRIBUTES: Final = ("cs.feedback.comment",)


def _luhn_valid(digits: str) -> bool:
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = ord(char) - 48
        if index % 2:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return total % 10 == 0


def _mask_digits(match: re.Match[str]) -> str:
    text = match.group(0)
    digits = "".join(char for char in text if char.isdigit())
    if 13 <= len(digits) <= 19 and _luhn_valid(digits):
        return CARD_MASK
    # 9+ digits: dates (8 digits) and short codes stay readable.
    if 9 <= len(digits) <= 15:
        return PHONE_MASK
    return text


def redact_text(text: str) -> str:
    """Mask e-mail addresses, phone numbers and card-like numbers in ``text``.

    >>> redact_text("mail me at ana@example.com or +1 (555) 010-9999")
    'mail me at [email] or [phone]'
    """
    if "@" in text:
        text = _EMAIL.sub(EMAIL_MASK, text)
    if any(char.isdigit() for char in text):
        text = _DIGIT_RUN.sub(_mask_digits, text)
    return text


def _redact_value(value: Any) -> Any:
    if isinstance(value, str):
        return redact_text(value)
    if isinstance(value, list):
        return [_redact_value(item) for item in value]
    if isinstance(value, dict):
        return {key: _redact_value(item) for key, item in value.items()}
    return value


def redact_feedback(record: EventRecord) -> EventRecord:
    """Processor step: redact the free text of feedback events (comment and properties)."""
    if record.schema.name != "cs.feedback":
        return record
    attributes = record.attributes
    if attributes:
        for key in _FEEDBACK_TEXT_ATTRIBUTES:
            value = attributes.get(key)
            if isinstance(value, str):
                attributes[key] = redact_text(value)
    if isinstance(record.body, dict):
        record.body = _redact_value(record.body)
    return record
